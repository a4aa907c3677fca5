import { sql } from "drizzle-orm";
import { bigint, boolean, check, index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid, varchar } from "drizzle-orm/pg-core";

/**
 * Re-wrap campaigns (DESIGN §5.3; lib/campaigns/README.md). A campaign moves every share record of one Transit
 * key whose key_version is below `target_version` (pinned at creation) onto that version with Vault `rewrap`.
 *
 * Work is handed out as id ranges ("leases", `rewrap_leases`) under a per-campaign cursor, so no row lock on the
 * share table is held while Vault works: the backend's signing path never waits on a Transit call. A lease has
 * an expiry and a fencing token: a worker that comes back after its lease was taken over finds another token at
 * write-back and writes nothing. The write-back itself is guarded by compare-and-swap on `row_version`, so even
 * a stale writer could never overwrite a ciphertext the backend wrote meanwhile.
 */
export const CAMPAIGN_STATES = ["pending", "running", "paused", "completed", "cancelled", "failed"] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];
/** States in which a campaign holds its key (at most one such campaign per key). */
export const ACTIVE_CAMPAIGN_STATES = ["pending", "running", "paused"] as const satisfies readonly CampaignState[];

export const rewrapCampaigns = pgTable(
  "rewrap_campaigns",
  {
    id: uuid("id").primaryKey(),
    keyName: varchar("key_name", { length: 255 }).notNull(),
    targetVersion: integer("target_version").notNull(),
    /** Only records on these source versions (null: every version below the target). */
    scopeVersions: integer("scope_versions").array(),
    /** Only records of this environment (the row's column, else the key name → environment mapping). */
    scopeEnvironment: text("scope_environment"),
    /** Derived keys need `context` = wallet id on every rewrap item; read from Vault at creation. */
    derived: boolean("derived").notNull().default(false),
    state: varchar("state", { length: 16 }).notNull().$type<CampaignState>(),
    stateReason: text("state_reason"),
    batchSize: integer("batch_size").notNull(),
    /** Consecutive whole-call Vault failures that pause the campaign. */
    failureBudget: integer("failure_budget").notNull(),
    /** Failed tries after which a record with a permanent per-item error is quarantined. */
    maxItemAttempts: integer("max_item_attempts").notNull(),

    createdBy: text("created_by").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }),
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),

    /** Records in scope below the target when the campaign was created. */
    recordsAtStart: bigint("records_at_start", { mode: "number" }).notNull(),
    /** Records this campaign wrote (compare-and-swap won). */
    rewrapped: bigint("rewrapped", { mode: "number" }).notNull().default(0),
    /** Records Vault re-wrapped whose row changed meanwhile (backend rewrote it): skipped, never overwritten. */
    skippedConflict: bigint("skipped_conflict", { mode: "number" }).notNull().default(0),
    /** Per-item Vault failures (each try). */
    itemFailures: bigint("item_failures", { mode: "number" }).notNull().default(0),
    batches: bigint("batches", { mode: "number" }).notNull().default(0),
    failedCalls: bigint("failed_calls", { mode: "number" }).notNull().default(0),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    /** Backoff after whole-call failures: no batch is claimed before this. */
    notBefore: timestamp("not_before", { withTimezone: true, mode: "date" }),
    lastBatchAt: timestamp("last_batch_at", { withTimezone: true, mode: "date" }),
    lastError: text("last_error"),

    /**
     * Claim cursor of the current pass, in (key_version, id) order — the order of the share table's
     * (encryption_key_id, key_version, id) index, so each claim is one short index range scan.
     */
    cursorVersion: integer("cursor_version"),
    cursorId: uuid("cursor_id"),
    pass: integer("pass").notNull().default(1),
  },
  (t) => [
    check("rewrap_campaigns_state_check", sql`${t.state} in ('pending', 'running', 'paused', 'completed', 'cancelled', 'failed')`),
    check("rewrap_campaigns_target_check", sql`${t.targetVersion} >= 1`),
    check("rewrap_campaigns_batch_check", sql`${t.batchSize} between 1 and 1000`),
    // At most one active campaign per key, whatever any number of instances try at once.
    uniqueIndex("rewrap_campaigns_one_active_per_key")
      .on(t.keyName)
      .where(sql`${t.state} in ('pending', 'running', 'paused')`),
    index("rewrap_campaigns_created_idx").on(t.createdAt, t.id),
    index("rewrap_campaigns_state_idx").on(t.state),
  ],
);

/** Handed-out id ranges of a campaign. Deleted when their batch commits. */
export const rewrapLeases = pgTable(
  "rewrap_leases",
  {
    id: uuid("id").primaryKey(),
    campaignId: uuid("campaign_id")
      .notNull()
      .references(() => rewrapCampaigns.id),
    /** The range, inclusive, in (key_version, id) order. */
    loVersion: integer("lo_version").notNull(),
    loId: uuid("lo_id").notNull(),
    hiVersion: integer("hi_version").notNull(),
    hiId: uuid("hi_id").notNull(),
    /** Fencing token: bumped on every takeover; the write-back must present the one it claimed with. */
    token: bigint("token", { mode: "number" }).notNull(),
    owner: text("owner").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [index("rewrap_leases_campaign_expires_idx").on(t.campaignId, t.expiresAt)],
);

/**
 * Per-record failures of a campaign. A row with `quarantined` is skipped by claims until someone retries it;
 * a record that later succeeds loses its row. `error` is Vault's per-item reason (scrubbed by the Vault
 * client), never a ciphertext.
 */
export const rewrapItemFailures = pgTable(
  "rewrap_item_failures",
  {
    campaignId: uuid("campaign_id")
      .notNull()
      .references(() => rewrapCampaigns.id),
    recordId: uuid("record_id").notNull(),
    attempts: integer("attempts").notNull(),
    reasonCode: varchar("reason_code", { length: 32 }).notNull(),
    error: text("error").notNull(),
    quarantined: boolean("quarantined").notNull().default(false),
    acknowledgedAt: timestamp("acknowledged_at", { withTimezone: true, mode: "date" }),
    acknowledgedBy: text("acknowledged_by"),
    firstFailedAt: timestamp("first_failed_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    lastFailedAt: timestamp("last_failed_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.campaignId, t.recordId] }),
    index("rewrap_item_failures_quarantined_idx").on(t.campaignId, t.quarantined),
  ],
);
