import "server-only";
import { sql } from "drizzle-orm";
import { rowsOf, type DbOrTx } from "@/lib/db/client";
import type { AuditHashInput } from "./hash";

/** One audit event as the chain sees it: every hashed field plus the stored hash. */
export interface ChainRow extends AuditHashInput {
  hash: string;
  /**
   * False when occurred_at has sub-millisecond digits. The writer stores milliseconds only and the hash covers
   * milliseconds, so such a row was changed after the fact even if its hash still matches.
   */
  exactTime: boolean;
}

interface RawRow {
  seq: string | number;
  occurred_at: string;
  actor_type: string;
  actor_user_id: string | null;
  actor_email: string | null;
  actor_role: string | null;
  actor_ip: string | null;
  actor_user_agent: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  reason: string | null;
  request_id: string | null;
  vault_request_id: string | null;
  details: Record<string, unknown> | string;
  prev_hash: string;
  hash: string;
}

/**
 * Up to `limit` events with seq >= `fromSeq` (and <= `toSeq`), in seq order: one keyset page, by the unique
 * seq index. Raw SQL so the page is read once, without the query builder's per-row mapping.
 */
export async function readChainPage(db: DbOrTx, fromSeq: number, limit: number, toSeq?: number): Promise<ChainRow[]> {
  // Casts: a JS number may travel as float8, which the seq index cannot serve. No upper bound unless asked: with
  // one, the planner may read the whole remaining range and sort it instead of walking the index.
  const upper = toSeq === undefined ? sql`` : sql` and seq <= ${toSeq}::bigint`;
  const raw = rowsOf<RawRow>(
    await db.execute(sql`
      select seq, occurred_at::text as occurred_at, actor_type, actor_user_id, actor_email, actor_role, actor_ip, actor_user_agent, action,
             target_type, target_id, outcome, reason, request_id, vault_request_id, details, prev_hash, hash
      from public.audit_events where seq >= ${fromSeq}::bigint${upper} order by seq limit ${limit}::int`),
  );
  const out = new Array<ChainRow>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const r = raw[i]!;
    const time = parseTimestamptz(r.occurred_at);
    out[i] = {
      seq: Number(r.seq),
      occurredAt: time.date,
      exactTime: time.exact,
      actorType: r.actor_type,
      actorUserId: r.actor_user_id,
      actorEmail: r.actor_email,
      actorRole: r.actor_role,
      actorIp: r.actor_ip,
      actorUserAgent: r.actor_user_agent,
      action: r.action,
      targetType: r.target_type,
      targetId: r.target_id,
      outcome: r.outcome,
      reason: r.reason,
      requestId: r.request_id,
      vaultRequestId: r.vault_request_id,
      details: typeof r.details === "string" ? (JSON.parse(r.details) as Record<string, unknown>) : r.details,
      prevHash: r.prev_hash,
      hash: r.hash,
    };
  }
  return out;
}

// timestamptz as text in DateStyle ISO: "2026-12-06 20:43:53.123+00", fraction and offset minutes optional.
const PG_TIMESTAMPTZ = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?$/;

/**
 * Parses PostgreSQL's text form of a timestamptz without Date's string parser (verification reads millions),
 * keeping whether it has sub-millisecond digits.
 */
export function parseTimestamptz(text: string): { date: Date; exact: boolean } {
  const m = PG_TIMESTAMPTZ.exec(text);
  if (!m) throw new Error("audit_events.occurred_at came back in an unexpected format (the session's DateStyle must be ISO)");
  const fraction = m[7] ?? "";
  const ms = fraction === "" ? 0 : Number(fraction.slice(0, 3).padEnd(3, "0"));
  const sign = m[8] === "-" ? -1 : 1;
  const offsetMs = sign * ((Number(m[9]) * 60 + Number(m[10] ?? 0)) * 60 + Number(m[11] ?? 0)) * 1000;
  const utc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms) - offsetMs;
  return { date: new Date(utc), exact: fraction.length <= 3 || /^0+$/.test(fraction.slice(3)) };
}
