import "server-only";
import { randomUUID } from "node:crypto";
import { and, desc, eq, inArray, lt, or, sql } from "drizzle-orm";
import { z } from "zod";
import { appendAuditEvent } from "@/lib/audit";
import { rowsOf, type DbOrTx, type Tx } from "@/lib/db/client";
import { ACTIVE_CAMPAIGN_STATES, rewrapCampaigns, rewrapItemFailures, rewrapLeases, type CampaignState } from "@/lib/db/schema/campaigns";
import { ConflictError, NotFoundError, ValidationError } from "@/lib/errors";
import type { TransitKeyInfo, VaultClient } from "@/lib/vault";
import { actorLabel, type CampaignActor } from "./actor";
import { censusScopeCondition, type CampaignScope } from "./scope";
import type { CampaignDto, CampaignStatusDto, QuarantinedRecordDto } from "./types";

/**
 * Campaign lifecycle as domain services: `(tx, input, actor, deps)`, each appending its audit event in the
 * caller's transaction, so a refused audit write undoes the change. Server actions, the CLI and the worker call
 * the same functions; none reads a session.
 */

export interface CampaignSettings {
  /** KEY_ENVIRONMENT_MAPPING: key name → environment, for rows without an environment column. */
  environmentMapping: Record<string, string>;
  defaultBatchSize: number;
  defaultFailureBudget: number;
  defaultMaxItemAttempts: number;
}

export const DEFAULT_CAMPAIGN_SETTINGS: Omit<CampaignSettings, "environmentMapping"> = {
  defaultBatchSize: 500,
  defaultFailureBudget: 20,
  defaultMaxItemAttempts: 3,
};

const keyNameSchema = z
  .string()
  .trim()
  .min(1, "is required")
  .max(255)
  .regex(/^[A-Za-z0-9._-]+$/, "must be a Transit key name (letters, digits, . _ -)");
const campaignIdSchema = z.uuid("must be a campaign id");
const reasonSchema = z.string().trim().max(1000).optional();

export const createCampaignSchema = z.object({
  keyName: keyNameSchema,
  /** Default: the key's latest version, read from Vault now and pinned. */
  targetVersion: z.number().int().min(1).max(1_000_000).optional(),
  scopeVersions: z.array(z.number().int().min(1).max(1_000_000)).min(1).max(1000).optional(),
  scopeEnvironment: z.string().trim().min(1).max(64).optional(),
  batchSize: z.number().int().min(1).max(1000).optional(),
  failureBudget: z.number().int().min(1).max(10_000).optional(),
  maxItemAttempts: z.number().int().min(1).max(20).optional(),
  reason: reasonSchema,
});
export type CreateCampaignInput = z.input<typeof createCampaignSchema>;

export const campaignRefSchema = z.object({ campaignId: campaignIdSchema, reason: reasonSchema });
export type CampaignRefInput = z.input<typeof campaignRefSchema>;

export const quarantineActionSchema = z.object({
  campaignId: campaignIdSchema,
  /** Default: every quarantined record of the campaign. */
  recordIds: z.array(z.uuid()).min(1).max(10_000).optional(),
  reason: reasonSchema,
});
export type QuarantineActionInput = z.input<typeof quarantineActionSchema>;

function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) {
    const first = r.error.issues[0];
    const where = first?.path.length ? `${first.path.join(".")}: ` : "";
    throw new ValidationError(`Invalid campaign input: ${where}${first?.message ?? "invalid"}.`);
  }
  return r.data;
}

// By name, not instanceof: the Vault client may come from another server bundle (see lib/keys/vault-keys.ts).
const isVaultError = (err: unknown, name: string) => err instanceof Error && err.name === name && "operation" in err;

async function readKeyForCampaign(vault: VaultClient, keyName: string): Promise<TransitKeyInfo> {
  try {
    return await vault.readKey(keyName);
  } catch (err) {
    if (isVaultError(err, "VaultNotFoundError")) throw new ValidationError(`Vault has no Transit key "${keyName}".`);
    throw err;
  }
}

/** Records of the scope below the target, from the census counters (exact, trigger-maintained, no scan). */
export async function countInScope(db: DbOrTx, scope: CampaignScope, mapping: Record<string, string>): Promise<number> {
  const [row] = rowsOf<{ n: string | number | null }>(
    await db.execute(sql`select coalesce(sum(c.records), 0) as n from share_census c where ${censusScopeCondition(scope, mapping)}`),
  );
  return Number(row?.n ?? 0);
}

export async function createCampaign(
  tx: Tx,
  rawInput: CreateCampaignInput,
  actor: CampaignActor,
  deps: { vault: VaultClient; settings: CampaignSettings },
): Promise<CampaignDto> {
  const input = parse(createCampaignSchema, rawInput);
  const { settings } = deps;
  const key = await readKeyForCampaign(deps.vault, input.keyName);
  if (!key.supportsEncryption) throw new ValidationError(`Transit key "${key.name}" (${key.type}) cannot encrypt, so nothing can be re-wrapped to it.`);

  const target = input.targetVersion ?? key.latestVersion;
  if (target > key.latestVersion) {
    throw new ValidationError(`Target version ${target} is above the latest version of "${key.name}" (${key.latestVersion}).`);
  }
  if (target < key.minDecryptionVersion) {
    throw new ValidationError(`Target version ${target} is below the key's min_decryption_version (${key.minDecryptionVersion}).`);
  }
  if (key.minEncryptionVersion > 0 && target < key.minEncryptionVersion) {
    throw new ValidationError(`Target version ${target} is below the key's min_encryption_version (${key.minEncryptionVersion}).`);
  }
  const scopeVersions = input.scopeVersions ? [...new Set(input.scopeVersions)].sort((a, b) => a - b) : null;
  const tooHigh = scopeVersions?.find((v) => v >= target);
  if (tooHigh !== undefined) throw new ValidationError(`Scope version ${tooHigh} is not below the target version ${target}.`);

  const scope: CampaignScope = { keyName: key.name, targetVersion: target, scopeVersions, scopeEnvironment: input.scopeEnvironment ?? null };
  const active = await tx
    .select({ id: rewrapCampaigns.id, state: rewrapCampaigns.state })
    .from(rewrapCampaigns)
    .where(and(eq(rewrapCampaigns.keyName, key.name), inArray(rewrapCampaigns.state, [...ACTIVE_CAMPAIGN_STATES])))
    .limit(1);
  if (active[0]) throw new ConflictError(`Key "${key.name}" already has a ${active[0].state} campaign (${active[0].id}).`);

  const records = await countInScope(tx, scope, settings.environmentMapping);
  if (records === 0) {
    throw new ValidationError(`No records of "${key.name}" in this scope are below version ${target}: nothing to re-wrap.`);
  }

  const id = randomUUID();
  const values = {
    id,
    keyName: key.name,
    targetVersion: target,
    scopeVersions,
    scopeEnvironment: scope.scopeEnvironment,
    derived: key.derived,
    state: "pending" as const,
    batchSize: input.batchSize ?? settings.defaultBatchSize,
    failureBudget: input.failureBudget ?? settings.defaultFailureBudget,
    maxItemAttempts: input.maxItemAttempts ?? settings.defaultMaxItemAttempts,
    createdBy: actorLabel(actor),
    recordsAtStart: records,
  };
  try {
    // A savepoint: the partial unique index decides a race between two creators; the loser gets a clear error.
    await tx.transaction((sp) => sp.insert(rewrapCampaigns).values(values));
  } catch (err) {
    if (pgCode(err) === "23505") throw new ConflictError(`Key "${key.name}" already has an active campaign.`);
    throw err;
  }
  await appendAuditEvent(tx, {
    actor,
    action: "campaign.create",
    target: { type: "campaign", id },
    reason: input.reason,
    requestId: actor.requestId,
    vaultRequestId: key.requestId,
    details: {
      keyName: key.name,
      targetVersion: target,
      latestVersion: key.latestVersion,
      scopeVersions,
      scopeEnvironment: scope.scopeEnvironment,
      records,
      batchSize: values.batchSize,
    },
  });
  return getCampaign(tx, id);
}

function pgCode(err: unknown): string | undefined {
  for (let e: unknown = err, i = 0; e && i < 4; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

async function lockCampaign(tx: Tx, id: string) {
  const [row] = await tx.select().from(rewrapCampaigns).where(eq(rewrapCampaigns.id, id)).for("update");
  if (!row) throw new NotFoundError("No such campaign.");
  return row;
}

function refuse(action: string, state: CampaignState, allowed: readonly CampaignState[]): never {
  throw new ConflictError(`Cannot ${action} a ${state} campaign; only a ${allowed.join(" or ")} one.`);
}

const PAUSABLE: CampaignState[] = ["pending", "running"];
const RESUMABLE: CampaignState[] = ["paused"];
const CANCELLABLE: CampaignState[] = ["pending", "running", "paused"];

export async function pauseCampaign(tx: Tx, rawInput: CampaignRefInput, actor: CampaignActor): Promise<CampaignDto> {
  const input = parse(campaignRefSchema, rawInput);
  const c = await lockCampaign(tx, input.campaignId);
  if (!PAUSABLE.includes(c.state)) refuse("pause", c.state, PAUSABLE);
  // Leases stay: a batch in flight may still commit (it is whole and correct); no new batch is claimed.
  await tx
    .update(rewrapCampaigns)
    .set({ state: "paused", stateReason: input.reason ? `Paused by ${actorLabel(actor)}: ${input.reason}` : `Paused by ${actorLabel(actor)}.`, updatedAt: new Date() })
    .where(eq(rewrapCampaigns.id, c.id));
  await appendAuditEvent(tx, {
    actor,
    action: "campaign.pause",
    target: { type: "campaign", id: c.id },
    reason: input.reason,
    requestId: actor.requestId,
    details: { keyName: c.keyName, from: c.state },
  });
  return getCampaign(tx, c.id);
}

export async function resumeCampaign(tx: Tx, rawInput: CampaignRefInput, actor: CampaignActor): Promise<CampaignDto> {
  const input = parse(campaignRefSchema, rawInput);
  const c = await lockCampaign(tx, input.campaignId);
  if (!RESUMABLE.includes(c.state)) refuse("resume", c.state, RESUMABLE);
  await tx
    .update(rewrapCampaigns)
    .set({
      state: c.startedAt ? "running" : "pending",
      stateReason: null,
      consecutiveFailures: 0,
      notBefore: null,
      updatedAt: new Date(),
    })
    .where(eq(rewrapCampaigns.id, c.id));
  await appendAuditEvent(tx, {
    actor,
    action: "campaign.resume",
    target: { type: "campaign", id: c.id },
    reason: input.reason,
    requestId: actor.requestId,
    details: { keyName: c.keyName, pausedBecause: c.stateReason },
  });
  return getCampaign(tx, c.id);
}

export async function cancelCampaign(tx: Tx, rawInput: CampaignRefInput, actor: CampaignActor): Promise<CampaignDto> {
  const input = parse(campaignRefSchema, rawInput);
  const c = await lockCampaign(tx, input.campaignId);
  if (!CANCELLABLE.includes(c.state)) refuse("cancel", c.state, CANCELLABLE);
  // Deleting the leases fences off batches in flight: their write-back finds no lease and writes nothing.
  await tx.delete(rewrapLeases).where(eq(rewrapLeases.campaignId, c.id));
  await tx
    .update(rewrapCampaigns)
    .set({ state: "cancelled", stateReason: input.reason ? `Cancelled by ${actorLabel(actor)}: ${input.reason}` : `Cancelled by ${actorLabel(actor)}.`, finishedAt: new Date(), updatedAt: new Date() })
    .where(eq(rewrapCampaigns.id, c.id));
  await appendAuditEvent(tx, {
    actor,
    action: "campaign.cancel",
    target: { type: "campaign", id: c.id },
    reason: input.reason,
    requestId: actor.requestId,
    details: { keyName: c.keyName, from: c.state, rewrapped: c.rewrapped },
  });
  return getCampaign(tx, c.id);
}

/** Quarantined records go back into the campaign: the next pass tries them again with a fresh attempt count. */
export async function retryQuarantined(tx: Tx, rawInput: QuarantineActionInput, actor: CampaignActor): Promise<{ retried: number }> {
  const input = parse(quarantineActionSchema, rawInput);
  const c = await lockCampaign(tx, input.campaignId);
  if (!CANCELLABLE.includes(c.state)) refuse("retry records of", c.state, CANCELLABLE);
  const deleted = await tx
    .delete(rewrapItemFailures)
    .where(
      and(
        eq(rewrapItemFailures.campaignId, c.id),
        eq(rewrapItemFailures.quarantined, true),
        input.recordIds ? inArray(rewrapItemFailures.recordId, input.recordIds) : undefined,
      ),
    )
    .returning({ recordId: rewrapItemFailures.recordId });
  await appendAuditEvent(tx, {
    actor,
    action: "campaign.quarantine.retry",
    target: { type: "campaign", id: c.id },
    reason: input.reason,
    requestId: actor.requestId,
    details: { keyName: c.keyName, retried: deleted.length },
  });
  return { retried: deleted.length };
}

/**
 * Accepting that quarantined records stay on their old version lets the campaign complete; they still count
 * below the target in the census, so retiring that version stays refused while they exist.
 */
export async function acknowledgeQuarantined(tx: Tx, rawInput: QuarantineActionInput, actor: CampaignActor): Promise<{ acknowledged: number }> {
  const input = parse(quarantineActionSchema, rawInput);
  const c = await lockCampaign(tx, input.campaignId);
  if (!CANCELLABLE.includes(c.state)) refuse("acknowledge records of", c.state, CANCELLABLE);
  const updated = await tx
    .update(rewrapItemFailures)
    .set({ acknowledgedAt: new Date(), acknowledgedBy: actorLabel(actor) })
    .where(
      and(
        eq(rewrapItemFailures.campaignId, c.id),
        eq(rewrapItemFailures.quarantined, true),
        sql`${rewrapItemFailures.acknowledgedAt} is null`,
        input.recordIds ? inArray(rewrapItemFailures.recordId, input.recordIds) : undefined,
      ),
    )
    .returning({ recordId: rewrapItemFailures.recordId });
  await appendAuditEvent(tx, {
    actor,
    action: "campaign.quarantine.acknowledge",
    target: { type: "campaign", id: c.id },
    reason: input.reason,
    requestId: actor.requestId,
    details: { keyName: c.keyName, acknowledged: updated.length },
  });
  return { acknowledged: updated.length };
}

// ---------------------------------------------------------------------------------------------------------
// Reads

const iso = (d: Date | null) => (d ? d.toISOString() : null);

type CampaignRow = typeof rewrapCampaigns.$inferSelect;

function toDto(r: CampaignRow): CampaignDto {
  return {
    id: r.id,
    keyName: r.keyName,
    targetVersion: r.targetVersion,
    scopeVersions: r.scopeVersions ?? null,
    scopeEnvironment: r.scopeEnvironment,
    derived: r.derived,
    state: r.state,
    stateReason: r.stateReason,
    batchSize: r.batchSize,
    failureBudget: r.failureBudget,
    maxItemAttempts: r.maxItemAttempts,
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    updatedAt: r.updatedAt.toISOString(),
    recordsAtStart: Number(r.recordsAtStart),
    rewrapped: Number(r.rewrapped),
    skippedConflict: Number(r.skippedConflict),
    itemFailures: Number(r.itemFailures),
    batches: Number(r.batches),
    failedCalls: Number(r.failedCalls),
    consecutiveFailures: r.consecutiveFailures,
    notBefore: iso(r.notBefore),
    lastBatchAt: iso(r.lastBatchAt),
    lastError: r.lastError,
    pass: r.pass,
  };
}

export async function getCampaign(db: DbOrTx, id: string): Promise<CampaignDto> {
  if (!campaignIdSchema.safeParse(id).success) throw new NotFoundError("No such campaign.");
  const [row] = await db.select().from(rewrapCampaigns).where(eq(rewrapCampaigns.id, id)).limit(1);
  if (!row) throw new NotFoundError("No such campaign.");
  return toDto(row);
}

/** One indexed read per figure; no scan of the share table (remaining comes from the census counters). */
export async function getCampaignStatus(db: DbOrTx, id: string, mapping: Record<string, string>): Promise<CampaignStatusDto> {
  const c = await getCampaign(db, id);
  const scope: CampaignScope = { keyName: c.keyName, targetVersion: c.targetVersion, scopeVersions: c.scopeVersions, scopeEnvironment: c.scopeEnvironment };
  const [remaining, [q], [l]] = await Promise.all([
    countInScope(db, scope, mapping),
    rowsOf<{ quarantined: string | number; unacked: string | number }>(
      await db.execute(sql`
        select count(*) filter (where quarantined) as quarantined,
               count(*) filter (where quarantined and acknowledged_at is null) as unacked
        from rewrap_item_failures where campaign_id = ${id}`),
    ),
    rowsOf<{ n: string | number }>(await db.execute(sql`select count(*) as n from rewrap_leases where campaign_id = ${id}`)),
  ]);
  return {
    ...c,
    remaining,
    quarantined: Number(q?.quarantined ?? 0),
    quarantinedUnacknowledged: Number(q?.unacked ?? 0),
    activeLeases: Number(l?.n ?? 0),
  };
}

export interface ListCampaignsOptions {
  state?: CampaignState;
  keyName?: string;
  limit?: number;
  /** Keyset: campaigns created before this one (created_at, id). */
  before?: { createdAt: string; id: string };
}

export async function listCampaigns(db: DbOrTx, opts: ListCampaignsOptions = {}): Promise<CampaignDto[]> {
  const limit = Math.min(Math.max(opts.limit ?? 50, 1), 200);
  const rows = await db
    .select()
    .from(rewrapCampaigns)
    .where(
      and(
        opts.state ? eq(rewrapCampaigns.state, opts.state) : undefined,
        opts.keyName ? eq(rewrapCampaigns.keyName, opts.keyName) : undefined,
        opts.before
          ? or(
              lt(rewrapCampaigns.createdAt, new Date(opts.before.createdAt)),
              and(eq(rewrapCampaigns.createdAt, new Date(opts.before.createdAt)), lt(rewrapCampaigns.id, opts.before.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(rewrapCampaigns.createdAt), desc(rewrapCampaigns.id))
    .limit(limit);
  return rows.map(toDto);
}

export async function listQuarantined(db: DbOrTx, campaignId: string, limit = 100): Promise<QuarantinedRecordDto[]> {
  const rows = rowsOf<{
    record_id: string;
    wallet_id: string | null;
    attempts: number;
    reason_code: string;
    error: string;
    quarantined: boolean;
    acknowledged_at: string | Date | null;
    acknowledged_by: string | null;
    last_failed_at: string | Date;
  }>(
    await db.execute(sql`
      select f.record_id, s.wallet_id, f.attempts, f.reason_code, f.error, f.quarantined, f.acknowledged_at, f.acknowledged_by, f.last_failed_at
      from rewrap_item_failures f
      left join server_wallet_key_shares s on s.id = f.record_id
      where f.campaign_id = ${campaignId}
      order by f.quarantined desc, f.last_failed_at desc, f.record_id
      limit ${Math.min(Math.max(limit, 1), 1000)}`),
  );
  const toIso = (v: string | Date | null) => (v === null ? null : new Date(v).toISOString());
  return rows.map((r) => ({
    recordId: r.record_id,
    walletId: r.wallet_id,
    attempts: Number(r.attempts),
    reasonCode: r.reason_code,
    error: r.error,
    quarantined: r.quarantined,
    acknowledgedAt: toIso(r.acknowledged_at),
    acknowledgedBy: r.acknowledged_by,
    lastFailedAt: new Date(r.last_failed_at).toISOString(),
  }));
}

/** Campaign settings from the validated configuration (KEY_ENVIRONMENT_MAPPING, CAMPAIGN_*). */
export function campaignSettingsFrom(config: { keys: { environmentMapping: Record<string, string> }; campaigns: { batchSize: number; failureBudget: number } }): CampaignSettings {
  return {
    environmentMapping: config.keys.environmentMapping,
    defaultBatchSize: config.campaigns.batchSize,
    defaultFailureBudget: config.campaigns.failureBudget,
    defaultMaxItemAttempts: DEFAULT_CAMPAIGN_SETTINGS.defaultMaxItemAttempts,
  };
}
