import "server-only";
import { sql } from "drizzle-orm";
import { PgTransaction } from "drizzle-orm/pg-core";
import { z } from "zod";
import { rowsOf, sanitizeDbError, type DbOrTx, type Tx } from "@/lib/db/client";
import { auditEvents, AUDIT_ACTOR_TYPES, AUDIT_OUTCOMES, type AuditOutcome } from "@/lib/db/schema/audit";
import { DomainError, ForbiddenError } from "@/lib/errors";
import { logger } from "@/lib/log";
import { computeAuditHash } from "./hash";
import { redactDetails } from "./redact";

/**
 * The one way to write the audit trail (DESIGN §6, STYLE 15).
 *
 * - `withAudit(db, event, action)`: runs `action` and appends `event` in the same transaction. If the append
 *   fails the action is rolled back (fail closed, as Vault's audit devices do). If the action throws, its
 *   writes roll back and — unless disabled — a `failure` (or `denied`, for ForbiddenError) event for the same
 *   action is recorded in a transaction of its own, then the original error is rethrown.
 * - `recordAuditEvent(db, event)`: appends on its own, for outcomes without a successful action
 *   (a denial, a failure detected elsewhere, a read that is audited).
 *
 * Appends lock `audit_chain_head` through `keyshare_audit_lock_head()` (SELECT … FOR UPDATE as the tables' owner:
 * the runtime role has no UPDATE privilege on the head), so concurrent writers are serialised and the chain
 * never forks; an insert trigger re-checks the link in the database and advances the head. Event time comes
 * from the database clock under that lock, so occurred_at follows seq across app instances.
 */

const optionalText = (max: number) =>
  z
    .string()
    .nullish()
    .transform((v) => (v == null || v === "" ? null : v.slice(0, max)));

export const auditActorSchema = z.object({
  type: z.enum(AUDIT_ACTOR_TYPES),
  userId: optionalText(255),
  email: optionalText(320),
  role: optionalText(64),
  ip: optionalText(64),
  userAgent: optionalText(512),
});

export const auditEventSchema = z.object({
  actor: auditActorSchema,
  /** Dotted lower-case verb, e.g. `key.rotate`, `campaign.rewrap.batch`, `audit.export`. */
  action: z
    .string()
    .max(100)
    .regex(/^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/, "must be a dotted lower-case name"),
  target: z
    .object({ type: z.string().min(1).max(50), id: optionalText(255) })
    .nullish()
    .transform((v) => v ?? null),
  outcome: z.enum(AUDIT_OUTCOMES).optional(),
  reason: optionalText(1000),
  requestId: optionalText(128),
  vaultRequestId: optionalText(128),
  details: z.record(z.string(), z.unknown()).optional(),
});

export type AuditActor = z.input<typeof auditActorSchema>;
export type AuditEventInput = z.input<typeof auditEventSchema>;

export interface AppendedAuditEvent {
  seq: number;
  hash: string;
}

/** Appends one event inside an open transaction. Prefer withAudit / recordAuditEvent. */
export async function appendAuditEvent(
  tx: Tx,
  input: AuditEventInput,
  defaultOutcome: AuditOutcome = "success",
): Promise<AppendedAuditEvent> {
  const e = auditEventSchema.parse(input);
  // JSON round trip: what gets hashed is exactly what jsonb will hand back to the verifier.
  const details = JSON.parse(JSON.stringify(redactDetails(e.details))) as Record<string, unknown>;

  const [head] = rowsOf<{ last_seq: string | number; last_hash: string; now: string }>(
    await tx.execute(sql`select last_seq, last_hash, now_utc as now from public.keyshare_audit_lock_head()`),
  );
  if (!head) throw new Error("audit_chain_head is missing: run migrations");

  const row = {
    seq: Number(head.last_seq) + 1,
    occurredAt: new Date(head.now),
    actorType: e.actor.type,
    actorUserId: e.actor.userId,
    actorEmail: e.actor.email,
    actorRole: e.actor.role,
    actorIp: e.actor.ip,
    actorUserAgent: e.actor.userAgent,
    action: e.action,
    targetType: e.target?.type ?? null,
    targetId: e.target?.id ?? null,
    outcome: e.outcome ?? defaultOutcome,
    reason: e.reason,
    requestId: e.requestId,
    vaultRequestId: e.vaultRequestId,
    details,
    prevHash: head.last_hash,
  };
  const hash = computeAuditHash(row);
  await tx.insert(auditEvents).values({ ...row, hash });
  return { seq: row.seq, hash };
}

/** Appends one event in its own transaction (or a savepoint, when given a transaction). */
export async function recordAuditEvent(db: DbOrTx, event: AuditEventInput): Promise<AppendedAuditEvent> {
  return db.transaction((tx) => appendAuditEvent(tx, event, "success"));
}

export interface WithAuditOptions {
  /** Record a failure/denied event when the action throws. Default true. */
  auditFailure?: boolean;
}

/** Lets an action add what it learns while running (a Vault request id, counts) to its audit event. */
export interface AuditScope {
  set(extra: Pick<AuditEventInput, "vaultRequestId" | "reason" | "target">): void;
  addDetails(details: Record<string, unknown>): void;
}

export async function withAudit<T>(
  db: DbOrTx,
  event: AuditEventInput,
  action: (tx: Tx, audit: AuditScope) => Promise<T>,
  options: WithAuditOptions = {},
): Promise<T> {
  let current: AuditEventInput = { ...event, details: { ...event.details } };
  const scope: AuditScope = {
    set(extra) {
      current = { ...current, ...extra };
    },
    addDetails(details) {
      current = { ...current, details: { ...current.details, ...details } };
    },
  };
  try {
    return await db.transaction(async (tx) => {
      const result = await action(tx, scope);
      await appendAuditEvent(tx, current, "success");
      return result;
    });
  } catch (err) {
    // Inside a caller's transaction a failure record would roll back with it; the caller owns that case.
    if (options.auditFailure === false || db instanceof PgTransaction) throw err;
    const denied = err instanceof ForbiddenError;
    try {
      await recordAuditEvent(db, {
        ...current,
        outcome: denied ? "denied" : "failure",
        reason: err instanceof DomainError ? err.message : "unexpected error",
        details: { ...current.details, error: err instanceof Error ? err.name : "unknown" },
      });
    } catch (auditErr) {
      logger.error({ err: sanitizeDbError(auditErr), action: current.action }, "could not record audit failure event");
    }
    throw err;
  }
}
