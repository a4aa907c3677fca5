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
  const upper = toSeq ?? Number.MAX_SAFE_INTEGER;
  const raw = rowsOf<RawRow>(
    await db.execute(sql`
      select seq, to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as occurred_at, actor_type, actor_user_id, actor_email, actor_role, actor_ip, actor_user_agent, action,
             target_type, target_id, outcome, reason, request_id, vault_request_id, details, prev_hash, hash
      from public.audit_events where seq >= ${fromSeq} and seq <= ${upper} order by seq limit ${limit}`),
  );
  const out = new Array<ChainRow>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const r = raw[i]!;
    out[i] = {
      seq: Number(r.seq),
      occurredAt: new Date(`${r.occurred_at.slice(0, 23)}Z`),
      exactTime: r.occurred_at.endsWith("000"),
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
