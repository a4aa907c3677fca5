import "server-only";
import { and, asc, desc, eq, gte, like, lt, or, sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "@/lib/db/client";
import { auditCheckpoints, auditEvents } from "@/lib/db/schema/audit";
import { NotFoundError } from "@/lib/errors";
import { AUDIT_ACTION_GROUP_PREFIXES } from "./action-groups";
import { redactDetails } from "./redact";
import { auditCursorView, decodeAuditCursor, encodeAuditCursor, type AuditCursor } from "./search-cursor";
import { MAX_AUDIT_PAGE_SIZE, auditViewText, type AuditSearchFilters } from "./search-params";
import type { AuditEventDetailDto, AuditEventFullDto, AuditEventRowDto, AuditPageDto } from "./types";

/**
 * Reads of the audit trail (the Audit page, its export, the event page). Keyset pagination over
 * (occurred_at DESC, id DESC): `WHERE (occurred_at, id) < (:t, :id) … LIMIT n+1` on the (filter…, occurred_at,
 * id) indexes of lib/db/schema/audit.ts, so a page costs about n index tuples at any depth. No OFFSET and no
 * count(*). Every value is a bound parameter; action-group prefixes are constants.
 */

const e = auditEvents;

/** occurred_at at microsecond precision (the cursor's position must be exact). */
const occurredUs = sql<string>`to_char(${e.occurredAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const ROW_COLUMNS = {
  id: e.id,
  seq: e.seq,
  occurredAt: e.occurredAt,
  occurredUs,
  actorType: e.actorType,
  actorUserId: e.actorUserId,
  actorEmail: e.actorEmail,
  actorRole: e.actorRole,
  action: e.action,
  targetType: e.targetType,
  targetId: e.targetId,
  outcome: e.outcome,
  reason: e.reason,
  requestId: e.requestId,
  vaultRequestId: e.vaultRequestId,
} as const;

const FULL_COLUMNS = {
  ...ROW_COLUMNS,
  actorIp: e.actorIp,
  actorUserAgent: e.actorUserAgent,
  details: e.details,
  prevHash: e.prevHash,
  hash: e.hash,
} as const;

type RowRecord = {
  id: number | string;
  seq: number | string;
  occurredAt: Date;
  occurredUs: string;
  actorType: string;
  actorUserId: string | null;
  actorEmail: string | null;
  actorRole: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  reason: string | null;
  requestId: string | null;
  vaultRequestId: string | null;
};
type FullRecord = RowRecord & {
  actorIp: string | null;
  actorUserAgent: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
};

function toRowDto(r: RowRecord): AuditEventRowDto {
  return {
    id: String(r.id),
    seq: Number(r.seq),
    occurredAt: r.occurredAt.toISOString(),
    actorType: r.actorType,
    actorUserId: r.actorUserId,
    actorEmail: r.actorEmail,
    actorRole: r.actorRole,
    action: r.action,
    targetType: r.targetType,
    targetId: r.targetId,
    outcome: r.outcome,
    reason: r.reason,
    requestId: r.requestId,
    vaultRequestId: r.vaultRequestId,
  };
}

function toFullDto(r: FullRecord): AuditEventFullDto {
  return {
    ...toRowDto(r),
    actorIp: r.actorIp,
    actorUserAgent: r.actorUserAgent,
    // The writer redacted these already; redacting again on the way out also covers rows written before a
    // redaction rule existed. A no-op on what the writer produced.
    details: redactDetails(r.details ?? {}),
    prevHash: r.prevHash,
    hash: r.hash,
  };
}

/** WHERE conditions of a search. */
export function auditConditions(f: AuditSearchFilters): SQL[] {
  const c: SQL[] = [];
  // An e-mail address or a user id: one equality each, so each is served by its own index.
  if (f.actor !== undefined) c.push(f.actor.includes("@") ? eq(e.actorEmail, f.actor) : eq(e.actorUserId, f.actor));
  if (f.group !== undefined) c.push(or(...AUDIT_ACTION_GROUP_PREFIXES[f.group].map((p) => like(e.action, `${p}%`)))!);
  if (f.action !== undefined) c.push(eq(e.action, f.action));
  if (f.targetType !== undefined) c.push(eq(e.targetType, f.targetType));
  if (f.targetId !== undefined) c.push(eq(e.targetId, f.targetId));
  if (f.outcome !== undefined) c.push(eq(e.outcome, f.outcome));
  if (f.from !== undefined) c.push(gte(e.occurredAt, new Date(f.from)));
  if (f.to !== undefined) c.push(lt(e.occurredAt, new Date(f.to)));
  if (f.requestId !== undefined) c.push(eq(e.requestId, f.requestId));
  if (f.vaultRequestId !== undefined) c.push(eq(e.vaultRequestId, f.vaultRequestId));
  return c;
}

function positionCondition(pos: AuditCursor): SQL {
  const p = sql`(${pos.occurredAt}::timestamptz, ${pos.id}::bigint)`;
  return pos.direction === "next" ? sql`(${e.occurredAt}, ${e.id}) < ${p}` : sql`(${e.occurredAt}, ${e.id}) > ${p}`;
}

export interface AuditListOptions {
  cursor?: string;
  limit: number;
  /** Export batches may exceed the interactive page size. */
  maxLimit?: number;
}

async function fetchPage<T extends RowRecord>(
  db: DbOrTx,
  columns: typeof ROW_COLUMNS | typeof FULL_COLUMNS,
  filters: AuditSearchFilters,
  opts: AuditListOptions,
): Promise<{ rows: T[]; nextCursor: string | null; prevCursor: string | null; limit: number }> {
  const limit = Math.max(1, Math.min(opts.limit, opts.maxLimit ?? MAX_AUDIT_PAGE_SIZE));
  const view = auditCursorView(auditViewText(filters));
  const pos = opts.cursor !== undefined ? decodeAuditCursor(opts.cursor, view) : undefined;
  const conds = auditConditions(filters);
  if (pos) conds.push(positionCondition(pos));
  const backwards = pos?.direction === "prev";
  const order = backwards ? [asc(e.occurredAt), asc(e.id)] : [desc(e.occurredAt), desc(e.id)];
  const got = (await db
    .select(columns)
    .from(e)
    .where(conds.length > 0 ? and(...conds) : undefined)
    .orderBy(...order)
    .limit(limit + 1)) as unknown as T[];
  const more = got.length > limit;
  const rows = got.slice(0, limit);
  if (backwards) rows.reverse();
  const at = (r: T | undefined, direction: AuditCursor["direction"]) =>
    r ? encodeAuditCursor({ occurredAt: r.occurredUs, id: String(r.id), direction }, view) : null;
  const newest = rows[0];
  const oldest = rows[rows.length - 1];
  let nextCursor: string | null;
  let prevCursor: string | null;
  if (backwards) {
    // Reached by "previous": older rows exist (we came from them); newer ones only if the read overflowed.
    nextCursor = oldest ? at(oldest, "next") : encodeAuditCursor({ ...pos!, direction: "next" }, view);
    prevCursor = more ? at(newest, "prev") : null;
  } else {
    nextCursor = more ? at(oldest, "next") : null;
    prevCursor = pos ? (newest ? at(newest, "prev") : encodeAuditCursor({ ...pos, direction: "prev" }, view)) : null;
  }
  return { rows, nextCursor, prevCursor, limit };
}

/** One keyset page of a search. A bad or foreign cursor throws ValidationError (a clear message, never a 500). */
export async function listAuditEvents(db: DbOrTx, filters: AuditSearchFilters, opts: AuditListOptions): Promise<AuditPageDto> {
  const page = await fetchPage<RowRecord>(db, ROW_COLUMNS, filters, opts);
  return { ...page, rows: page.rows.map(toRowDto) };
}

/** Every event of a search, newest first, in keyset batches of full events (export). */
export async function* iterateAuditEvents(db: DbOrTx, filters: AuditSearchFilters, batchSize = 1000): AsyncGenerator<AuditEventFullDto[]> {
  let cursor: string | undefined;
  for (;;) {
    const page = await fetchPage<FullRecord>(db, FULL_COLUMNS, filters, { cursor, limit: batchSize, maxLimit: batchSize });
    if (page.rows.length > 0) yield page.rows.map(toFullDto);
    if (!page.nextCursor) return;
    cursor = page.nextCursor;
  }
}

/** One event with its chain position and the checkpoint that covers it, if any. */
export async function getAuditEvent(db: DbOrTx, id: number): Promise<AuditEventDetailDto> {
  const [row] = (await db.select(FULL_COLUMNS).from(e).where(eq(e.id, id)).limit(1)) as unknown as FullRecord[];
  if (!row) throw new NotFoundError("No audit event with this id.");
  const seq = Number(row.seq);
  const neighbours = await db
    .select({ id: e.id, seq: e.seq })
    .from(e)
    .where(or(eq(e.seq, seq - 1), eq(e.seq, seq + 1)));
  const [cp] = await db
    .select({ seq: auditCheckpoints.seq, createdAt: auditCheckpoints.createdAt })
    .from(auditCheckpoints)
    .where(gte(auditCheckpoints.seq, seq))
    .orderBy(asc(auditCheckpoints.seq))
    .limit(1);
  return {
    event: toFullDto(row),
    previousId: (() => {
      const n = neighbours.find((x) => Number(x.seq) === seq - 1);
      return n ? String(n.id) : null;
    })(),
    nextId: (() => {
      const n = neighbours.find((x) => Number(x.seq) === seq + 1);
      return n ? String(n.id) : null;
    })(),
    checkpoint: cp ? { seq: Number(cp.seq), createdAt: cp.createdAt.toISOString() } : null,
    verification: { state: "not_verified" },
  };
}
