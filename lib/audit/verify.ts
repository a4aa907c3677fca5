import "server-only";
import { asc, eq, gte } from "drizzle-orm";
import type { DbOrTx } from "@/lib/db/client";
import { auditChainHead, auditEvents, AUDIT_GENESIS_HASH } from "@/lib/db/schema/audit";
import { computeAuditHash } from "./hash";

export type AuditChainBreak = "missing_event" | "prev_hash_mismatch" | "hash_mismatch" | "head_mismatch";

export type AuditChainReport =
  | { ok: true; checked: number; fromSeq: number; lastSeq: number; lastHash: string; reachedHead: boolean }
  | { ok: false; checked: number; fromSeq: number; firstBrokenSeq: number; reason: AuditChainBreak };

const PAGE = 1000;

/**
 * Recomputes the chain from `fromSeq` (default 1) for up to `limit` events (default: to the end) and reports
 * the first broken position. When it reaches the end it also checks the head row, which catches rows removed
 * from the tail. Detects edits by anyone who cannot also recompute every later hash; signed checkpoints
 * (audit_checkpoints, a later issue) close that gap.
 */
export async function verifyAuditChain(
  db: DbOrTx,
  options: { fromSeq?: number; limit?: number } = {},
): Promise<AuditChainReport> {
  const fromSeq = Math.max(1, options.fromSeq ?? 1);
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let prevHash = AUDIT_GENESIS_HASH;
  if (fromSeq > 1) {
    const [prev] = await db.select({ hash: auditEvents.hash }).from(auditEvents).where(eq(auditEvents.seq, fromSeq - 1));
    if (!prev) return { ok: false, checked: 0, fromSeq, firstBrokenSeq: fromSeq - 1, reason: "missing_event" };
    prevHash = prev.hash;
  }

  let expected = fromSeq;
  let checked = 0;
  let exhausted = false;
  while (checked < limit) {
    const want = Math.min(PAGE, limit - checked);
    const rows = await db
      .select()
      .from(auditEvents)
      .where(gte(auditEvents.seq, expected))
      .orderBy(asc(auditEvents.seq))
      .limit(want);
    for (const row of rows) {
      if (row.seq !== expected) return { ok: false, checked, fromSeq, firstBrokenSeq: expected, reason: "missing_event" };
      if (row.prevHash !== prevHash) return { ok: false, checked, fromSeq, firstBrokenSeq: row.seq, reason: "prev_hash_mismatch" };
      if (computeAuditHash(row) !== row.hash) return { ok: false, checked, fromSeq, firstBrokenSeq: row.seq, reason: "hash_mismatch" };
      prevHash = row.hash;
      expected += 1;
      checked += 1;
    }
    if (rows.length < want) {
      exhausted = true;
      break;
    }
  }

  if (exhausted) {
    const [head] = await db.select().from(auditChainHead).where(eq(auditChainHead.id, 1));
    if (!head || head.lastSeq !== expected - 1 || head.lastHash !== prevHash) {
      return { ok: false, checked, fromSeq, firstBrokenSeq: expected, reason: "head_mismatch" };
    }
  }
  return { ok: true, checked, fromSeq, lastSeq: expected - 1, lastHash: prevHash, reachedHead: exhausted };
}
