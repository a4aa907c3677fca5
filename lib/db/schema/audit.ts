import { sql } from "drizzle-orm";
import { bigint, check, index, integer, uniqueIndex, jsonb, pgTable, smallint, text, timestamp, varchar } from "drizzle-orm/pg-core";

/**
 * Append-only, hash-chained audit trail (DESIGN §6). Written only through lib/audit (withAudit /
 * recordAuditEvent). The database itself refuses UPDATE, DELETE and TRUNCATE (migration `audit_append_only`)
 * and an insert trigger checks each row links to `audit_chain_head` and advances it, so a writer that skips
 * the head lock fails instead of forking the chain.
 *
 * hash = SHA-256 over the canonical JSON of the event fields and prev_hash (lib/audit/hash.ts).
 */
export const auditEvents = pgTable(
  "audit_events",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    /** Gapless chain position, 1-based. */
    seq: bigint("seq", { mode: "number" }).notNull(),
    occurredAt: timestamp("occurred_at", { withTimezone: true, mode: "date" }).notNull(),
    actorType: varchar("actor_type", { length: 16 }).notNull().$type<AuditActorType>(),
    actorUserId: text("actor_user_id"),
    actorEmail: text("actor_email"),
    actorRole: text("actor_role"),
    actorIp: text("actor_ip"),
    actorUserAgent: text("actor_user_agent"),
    action: varchar("action", { length: 100 }).notNull(),
    targetType: varchar("target_type", { length: 50 }),
    targetId: text("target_id"),
    outcome: varchar("outcome", { length: 16 }).notNull().$type<AuditOutcome>(),
    reason: text("reason"),
    requestId: text("request_id"),
    vaultRequestId: text("vault_request_id"),
    /** Already redacted by the writer. */
    details: jsonb("details").$type<Record<string, unknown>>().notNull(),
    prevHash: varchar("prev_hash", { length: 64 }).notNull(),
    hash: varchar("hash", { length: 64 }).notNull(),
  },
  (t) => [
    check("audit_events_actor_type_check", sql`${t.actorType} in ('user', 'service', 'anonymous')`),
    check("audit_events_outcome_check", sql`${t.outcome} in ('success', 'failure', 'denied')`),
    check("audit_events_seq_check", sql`${t.seq} > 0`),
    // unique: a second row at the same position is a fork.
    uniqueIndex("audit_events_seq_key").on(t.seq),
    // Ascending indexes serve `ORDER BY occurred_at DESC, id DESC` by backward scan (NULLS FIRST matches).
    index("audit_events_occurred_at_id_idx").on(t.occurredAt, t.id),
    index("audit_events_actor_user_idx").on(t.actorUserId, t.occurredAt, t.id),
    index("audit_events_actor_email_idx").on(t.actorEmail, t.occurredAt, t.id),
    index("audit_events_action_idx").on(t.action, t.occurredAt, t.id),
    index("audit_events_target_idx").on(t.targetType, t.targetId, t.occurredAt, t.id),
    index("audit_events_outcome_idx").on(t.outcome, t.occurredAt, t.id),
    // Request-id searches (the Audit page): most events carry one, system events do not, so only those that do.
    index("audit_events_request_id_idx").on(t.requestId, t.occurredAt, t.id).where(sql`${t.requestId} is not null`),
    index("audit_events_vault_request_id_idx").on(t.vaultRequestId, t.occurredAt, t.id).where(sql`${t.vaultRequestId} is not null`),
  ],
);

/** Exactly one row (id = 1): the chain's last position. Every append locks it FOR UPDATE. */
export const auditChainHead = pgTable(
  "audit_chain_head",
  {
    id: smallint("id").primaryKey(),
    lastSeq: bigint("last_seq", { mode: "number" }).notNull(),
    lastHash: varchar("last_hash", { length: 64 }).notNull(),
  },
  (t) => [check("audit_chain_head_singleton", sql`${t.id} = 1`)],
);

/**
 * Periodic signed checkpoints: a Transit HMAC or signature over (seq, hash), so that someone with database
 * access alone cannot rewrite history unnoticed. The signing job is a later issue; the table is append-only too.
 */
export const auditCheckpoints = pgTable("audit_checkpoints", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  seq: bigint("seq", { mode: "number" }).notNull().unique("audit_checkpoints_seq_key"),
  hash: varchar("hash", { length: 64 }).notNull(),
  /** e.g. Transit `vault:v1:…` HMAC or signature. */
  signature: text("signature").notNull(),
  keyName: text("key_name").notNull(),
  keyVersion: integer("key_version").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

export const AUDIT_ACTOR_TYPES = ["user", "service", "anonymous"] as const;
export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];
export const AUDIT_OUTCOMES = ["success", "failure", "denied"] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** prev_hash of the first event. */
export const AUDIT_GENESIS_HASH = "0".repeat(64);
