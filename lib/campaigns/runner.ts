import "server-only";
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import { appendAuditEvent } from "@/lib/audit";
import { rowsOf, sanitizeDbError, type Db, type Tx } from "@/lib/db/client";
import { rewrapTarget } from "@/lib/db/share-format";
import { logger as rootLogger } from "@/lib/log";
import type { BatchItemResult, VaultClient } from "@/lib/vault";
import { workerActor, type CampaignActor } from "./actor";
import { classifyItemError, TRANSIENT_ITEM_ATTEMPT_LIMIT } from "./item-errors";
import { shareScopeCondition, type CampaignScope } from "./scope";

/**
 * The batch engine of a re-wrap campaign (DESIGN §5.3). One call of `runNextBatch` does, for one campaign:
 *
 * 1. claim — a short transaction under the campaign row lock hands out the next range of records below the
 *    target, in (key_version, id) order, as a lease with an expiry and a fencing token; or takes over a lease
 *    whose worker died. No share row is locked: the backend's signing path never waits on Vault.
 * 2. one Transit `rewrap` call with `batch_input` (reference = record id, key_version = the pinned target,
 *    context = wallet id for derived keys); the Vault client matches results by reference and checks that every
 *    result is on the pinned version. Plaintext never reaches this process.
 * 3. write-back — one transaction: the lease's token is checked (a worker whose lease was taken over writes
 *    nothing), one set-based UPDATE guarded by compare-and-swap on `row_version` (a record the backend rewrote
 *    meanwhile is skipped, never overwritten; its bookkeeping columns are not in the SET list, so concurrent
 *    `last_accessed_at`/`access_count` updates survive), per-item failures, the campaign counters and one audit
 *    event. All or nothing: if the audit event cannot be written, nothing of the batch is.
 *
 * At the end of a pass (the cursor found nothing and no lease is out) a fresh count decides: completed (nothing
 * left below the target but acknowledged quarantine), paused (only quarantined records left), or another pass
 * (records that failed transiently, or that a backend wrote on an old version behind the cursor).
 */

/** claim → vault (Transit call) → commit (write-back starts) → writing (inside it, rows updated) → committed. */
export type CampaignPhase = "claim" | "vault" | "commit" | "writing" | "committed";

export interface RunnerOptions {
  db: Db;
  vault: VaultClient;
  workerId: string;
  /** KEY_ENVIRONMENT_MAPPING, for campaigns scoped to an environment. */
  environmentMapping: Record<string, string>;
  /** How long a claimed range stays reserved before another worker may take it over. Default 60 s. */
  leaseMs?: number;
  logger?: Logger;
  /** Observability: called as a batch moves through its phases (the torture test kills workers on these). */
  onPhase?: (phase: CampaignPhase, campaignId: string) => void;
  /** Work on this campaign only (tests, CLI); default any runnable campaign. */
  campaignId?: string;
}

export type BatchResult =
  | { kind: "nothing" }
  | { kind: "waiting"; campaignId: string }
  | { kind: "pass-ended"; campaignId: string; pass: number }
  | { kind: "completed"; campaignId: string }
  | { kind: "paused"; campaignId: string; reason: string }
  | { kind: "committed"; campaignId: string; rewrapped: number; conflicts: number; failed: number; quarantined: number }
  | { kind: "vault-failed"; campaignId: string; error: string; delayMs: number }
  | { kind: "fenced"; campaignId: string };

interface CampaignRow {
  id: string;
  key_name: string;
  target_version: number;
  scope_versions: number[] | null;
  scope_environment: string | null;
  derived: boolean;
  state: string;
  batch_size: number;
  failure_budget: number;
  max_item_attempts: number;
  cursor_version: number | null;
  cursor_id: string | null;
  pass: number;
  started_at: unknown;
  runnable: boolean;
}

interface ShareRow {
  id: string;
  wallet_id: string;
  row_version: number;
  key_version: number;
  encrypted_key_shares: Uint8Array;
}

interface Lease {
  id: string;
  token: number;
}

const DEFAULT_LEASE_MS = 60_000;
const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 30_000;

function scopeOf(c: CampaignRow): CampaignScope {
  return { keyName: c.key_name, targetVersion: c.target_version, scopeVersions: c.scope_versions, scopeEnvironment: c.scope_environment };
}

const NOT_QUARANTINED = (campaignId: string) => sql`not exists (
  select 1 from rewrap_item_failures f where f.campaign_id = ${campaignId} and f.record_id = s.id and f.quarantined)`;

async function pickCampaign(db: Db, only: string | undefined): Promise<string | undefined> {
  const rows = rowsOf<{ id: string }>(
    await db.execute(sql`
      select id from rewrap_campaigns
      where state in ('pending', 'running') and (not_before is null or not_before <= now())
        ${only ? sql`and id = ${only}` : sql``}
      order by last_batch_at nulls first, created_at
      limit 1`),
  );
  return rows[0]?.id;
}

type Claim =
  | { kind: "lease"; campaign: CampaignRow; lease: Lease; rows: ShareRow[] }
  | Exclude<BatchResult, { kind: "committed" | "vault-failed" | "fenced" }>;

async function claim(tx: Tx, campaignId: string, opts: RunnerOptions, actor: CampaignActor): Promise<Claim> {
  const [c] = rowsOf<CampaignRow>(
    await tx.execute(sql`
      select id, key_name, target_version, scope_versions, scope_environment, derived, state, batch_size, failure_budget,
             max_item_attempts, cursor_version, cursor_id, pass, started_at,
             (state in ('pending', 'running') and (not_before is null or not_before <= now())) as runnable
      from rewrap_campaigns where id = ${campaignId} for update`),
  );
  if (!c || !c.runnable) return { kind: "waiting", campaignId };
  if (c.state === "pending") {
    await tx.execute(sql`update rewrap_campaigns set state = 'running', started_at = now(), updated_at = now() where id = ${c.id}`);
    await appendAuditEvent(tx, { actor, action: "campaign.start", target: { type: "campaign", id: c.id }, details: { keyName: c.key_name, targetVersion: c.target_version } });
  }
  const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  const scope = shareScopeCondition(scopeOf(c), opts.environmentMapping);
  const cols = sql`s.id, s.wallet_id, s.row_version, s.key_version, s.encrypted_key_shares`;

  // A lease whose worker died (or gave it back after a failed call) is taken over with a new fencing token.
  const [expired] = rowsOf<{ id: string; token: string | number; lo_version: number; lo_id: string; hi_version: number; hi_id: string }>(
    await tx.execute(sql`
      select id, token, lo_version, lo_id, hi_version, hi_id from rewrap_leases
      where campaign_id = ${c.id} and expires_at < now()
      order by expires_at limit 1 for update skip locked`),
  );
  if (expired) {
    const token = Number(expired.token) + 1;
    await tx.execute(sql`
      update rewrap_leases set token = ${token}, owner = ${opts.workerId}, expires_at = now() + ${leaseMs} * interval '1 millisecond'
      where id = ${expired.id}`);
    const rows = rowsOf<ShareRow>(
      await tx.execute(sql`
        select ${cols} from server_wallet_key_shares s
        where ${scope}
          and (s.key_version, s.id) >= (${expired.lo_version}::int, ${expired.lo_id}::uuid)
          and (s.key_version, s.id) <= (${expired.hi_version}::int, ${expired.hi_id}::uuid)
          and ${NOT_QUARANTINED(c.id)}
        order by s.key_version, s.id`),
    );
    return { kind: "lease", campaign: c, lease: { id: expired.id, token }, rows };
  }

  const after =
    c.cursor_version === null || c.cursor_id === null
      ? sql`true`
      : sql`(s.key_version, s.id) > (${c.cursor_version}::int, ${c.cursor_id}::uuid)`;
  const rows = rowsOf<ShareRow>(
    await tx.execute(sql`
      select ${cols} from server_wallet_key_shares s
      where ${scope} and ${after} and ${NOT_QUARANTINED(c.id)}
      order by s.key_version, s.id
      limit ${c.batch_size}`),
  );
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (first && last) {
    const lease: Lease = { id: randomUUID(), token: 1 };
    await tx.execute(sql`
      insert into rewrap_leases (id, campaign_id, lo_version, lo_id, hi_version, hi_id, token, owner, expires_at)
      values (${lease.id}, ${c.id}, ${first.key_version}, ${first.id}, ${last.key_version}, ${last.id}, 1, ${opts.workerId},
              now() + ${leaseMs} * interval '1 millisecond')`);
    await tx.execute(sql`
      update rewrap_campaigns set cursor_version = ${last.key_version}, cursor_id = ${last.id}, updated_at = now() where id = ${c.id}`);
    return { kind: "lease", campaign: c, lease, rows };
  }

  // End of the pass. Ranges still out belong to live workers (or will expire and be taken over).
  const [out] = rowsOf<{ n: string | number }>(await tx.execute(sql`select count(*) as n from rewrap_leases where campaign_id = ${c.id}`));
  if (Number(out?.n ?? 0) > 0) return { kind: "waiting", campaignId: c.id };

  const [count] = rowsOf<{ open: string | number; blocked: string | number }>(
    await tx.execute(sql`
      select count(*) filter (where f.record_id is null or not f.quarantined) as open,
             count(*) filter (where f.quarantined and f.acknowledged_at is null) as blocked
      from server_wallet_key_shares s
      left join rewrap_item_failures f on f.campaign_id = ${c.id} and f.record_id = s.id
      where ${scope}`),
  );
  const open = Number(count?.open ?? 0);
  const blocked = Number(count?.blocked ?? 0);
  if (open === 0 && blocked === 0) {
    await tx.execute(sql`
      update rewrap_campaigns set state = 'completed', state_reason = null, finished_at = now(), updated_at = now(), cursor_version = null, cursor_id = null
      where id = ${c.id}`);
    await appendAuditEvent(tx, {
      actor,
      action: "campaign.complete",
      target: { type: "campaign", id: c.id },
      details: { keyName: c.key_name, targetVersion: c.target_version, passes: c.pass },
    });
    return { kind: "completed", campaignId: c.id };
  }
  if (open === 0) {
    const reason = `${blocked} record(s) are quarantined after repeated per-item failures: retry or acknowledge them.`;
    await tx.execute(sql`update rewrap_campaigns set state = 'paused', state_reason = ${reason}, updated_at = now() where id = ${c.id}`);
    await appendAuditEvent(tx, {
      actor,
      action: "campaign.auto_pause",
      target: { type: "campaign", id: c.id },
      reason,
      details: { keyName: c.key_name, quarantined: blocked },
    });
    return { kind: "paused", campaignId: c.id, reason };
  }
  await tx.execute(sql`
    update rewrap_campaigns set cursor_version = null, cursor_id = null, pass = pass + 1, updated_at = now() where id = ${c.id}`);
  return { kind: "pass-ended", campaignId: c.id, pass: c.pass + 1 };
}

class Fenced extends Error {
  constructor() {
    super("lease lost");
    this.name = "Fenced";
  }
}

interface Prepared {
  updates: { id: string; rv: number; ct: string }[];
  failures: { id: string; code: string; error: string; permanent: boolean }[];
  sent: number;
}

/** Turns Vault's per-item answers into the write-back set. New bytes are built here; nothing is written yet. */
function prepare(rows: ShareRow[], results: BatchItemResult[], replacers: Map<string, (c: string) => Buffer>, failures: Prepared["failures"]): Prepared {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const updates: Prepared["updates"] = [];
  for (const r of results) {
    const row = byId.get(r.reference);
    const replace = replacers.get(r.reference);
    if (!row || !replace) continue;
    if ("error" in r) {
      const cls = classifyItemError(r.error);
      failures.push({ id: row.id, code: cls.code, error: r.error.slice(0, 500), permanent: cls.permanent });
      continue;
    }
    updates.push({ id: row.id, rv: row.row_version, ct: replace(r.ciphertext).toString("utf8") });
  }
  return { updates, failures, sent: results.length };
}

async function writeBack(
  tx: Tx,
  c: CampaignRow,
  lease: Lease,
  p: Prepared,
  vaultRequestIds: string[],
  actor: CampaignActor,
  onWriting?: () => void,
): Promise<{ rewrapped: number; conflicts: number; quarantined: number }> {
  const [held] = rowsOf<{ token: string | number }>(await tx.execute(sql`select token from rewrap_leases where id = ${lease.id} for update`));
  if (!held || Number(held.token) !== lease.token) throw new Fenced();

  let rewrapped = 0;
  if (p.updates.length > 0) {
    const written = rowsOf<{ id: string }>(
      await tx.execute(sql`
        update server_wallet_key_shares as s
        set encrypted_key_shares = convert_to(u.ct, 'UTF8'),
            last_rewrapped_at = (now() at time zone 'UTC'),
            rewrap_campaign_id = ${c.id}
        from jsonb_to_recordset(${JSON.stringify(p.updates)}::jsonb) as u(id uuid, rv integer, ct text)
        where s.id = u.id and s.row_version = u.rv
          and s.encryption_key_id = ${c.key_name} and s.key_version < ${c.target_version}
        returning s.id`),
    );
    rewrapped = written.length;
    if (rewrapped > 0) {
      await tx.execute(sql`
        delete from rewrap_item_failures
        where campaign_id = ${c.id} and record_id in (select (e ->> 'id')::uuid from jsonb_array_elements(${JSON.stringify(written)}::jsonb) e)`);
    }
  }
  let quarantined = 0;
  if (p.failures.length > 0) {
    const rows = rowsOf<{ quarantined: boolean }>(
      await tx.execute(sql`
        insert into rewrap_item_failures as f (campaign_id, record_id, attempts, reason_code, error, quarantined)
        select ${c.id}, x.id, 1, x.code, x.error,
               (x.permanent and 1 >= ${c.max_item_attempts}) or 1 >= ${TRANSIENT_ITEM_ATTEMPT_LIMIT}
        from jsonb_to_recordset(${JSON.stringify(p.failures)}::jsonb) as x(id uuid, code text, error text, permanent boolean)
        on conflict (campaign_id, record_id) do update set
          attempts = f.attempts + 1,
          reason_code = excluded.reason_code,
          error = excluded.error,
          last_failed_at = now(),
          quarantined = f.quarantined
            or (excluded.reason_code <> 'transient' and f.attempts + 1 >= ${c.max_item_attempts})
            or f.attempts + 1 >= ${TRANSIENT_ITEM_ATTEMPT_LIMIT}
        returning f.quarantined`),
    );
    quarantined = rows.filter((r) => r.quarantined).length;
  }
  onWriting?.();
  const conflicts = p.updates.length - rewrapped;
  await tx.execute(sql`delete from rewrap_leases where id = ${lease.id}`);
  await tx.execute(sql`
    update rewrap_campaigns set
      rewrapped = rewrapped + ${rewrapped},
      skipped_conflict = skipped_conflict + ${conflicts},
      item_failures = item_failures + ${p.failures.length},
      batches = batches + 1,
      consecutive_failures = 0,
      not_before = null,
      last_batch_at = now(),
      updated_at = now()
    where id = ${c.id}`);
  await appendAuditEvent(tx, {
    actor,
    action: "campaign.batch",
    target: { type: "campaign", id: c.id },
    vaultRequestId: vaultRequestIds[0] ?? null,
    details: {
      keyName: c.key_name,
      targetVersion: c.target_version,
      pass: c.pass,
      sent: p.sent,
      rewrapped,
      skippedConflict: conflicts,
      failed: p.failures.length,
      quarantined,
      ...(vaultRequestIds.length > 1 ? { vaultRequestIds } : {}),
    },
  });
  return { rewrapped, conflicts, quarantined };
}

const vaultErrorName = (err: unknown) => (err instanceof Error && err.name.startsWith("Vault") && "operation" in err ? err.name : undefined);

/** What a whole-call Vault failure means for the campaign. */
function judgeCallFailure(err: unknown): { verdict: "retry" | "pause" | "fail"; message: string; retryAfterMs: number; requestId: string | null } {
  const name = vaultErrorName(err);
  const e = err as { message?: string; retryAfterMs?: number; requestId?: string };
  const message = name ? String(e.message) : "unexpected error during the Vault call";
  const requestId = name && typeof e.requestId === "string" ? e.requestId : null;
  const retryAfterMs = typeof e.retryAfterMs === "number" ? e.retryAfterMs : 0;
  if (name === "VaultNotFoundError") return { verdict: "fail", message: `The Transit key no longer exists in Vault (${message})`, retryAfterMs, requestId };
  if (name === "VaultUnavailableError" || name === "VaultSealedError") return { verdict: "retry", message, retryAfterMs, requestId };
  // Permission denied, a rejected request, an inconsistent answer: repeating it unchanged will not help.
  return { verdict: "pause", message, retryAfterMs, requestId };
}

async function recordCallFailure(
  db: Db,
  c: CampaignRow,
  lease: Lease,
  err: unknown,
  actor: CampaignActor,
): Promise<{ delayMs: number; message: string; stateChange: "paused" | "failed" | null }> {
  const j = judgeCallFailure(err);
  return db.transaction(async (tx) => {
    // Give the range back at once so any worker can take it over after the backoff.
    await tx.execute(sql`update rewrap_leases set expires_at = now() where id = ${lease.id} and token = ${lease.token}`);
    const [row] = rowsOf<{ consecutive: number; budget: number; state: string }>(
      await tx.execute(sql`
        update rewrap_campaigns set failed_calls = failed_calls + 1, consecutive_failures = consecutive_failures + 1,
               last_error = ${j.message}, updated_at = now()
        where id = ${c.id}
        returning consecutive_failures as consecutive, failure_budget as budget, state`),
    );
    const consecutive = Number(row?.consecutive ?? 1);
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(consecutive - 1, 16));
    const delayMs = Math.max(Math.round(ceiling * (0.5 + Math.random() * 0.5)), j.retryAfterMs);
    let stateChange: "paused" | "failed" | null = null;
    let reason: string | null = null;
    if (row && (row.state === "running" || row.state === "pending")) {
      if (j.verdict === "fail") {
        stateChange = "failed";
        reason = j.message;
      } else if (j.verdict === "pause") {
        stateChange = "paused";
        reason = `Paused: Vault refused the re-wrap (${j.message}). Fix the cause, then resume.`;
      } else if (consecutive >= Number(row.budget)) {
        stateChange = "paused";
        reason = `Paused after ${consecutive} consecutive failed Vault calls (last: ${j.message}). Resume when Vault is healthy.`;
      }
    }
    await tx.execute(sql`
      update rewrap_campaigns set not_before = now() + ${delayMs} * interval '1 millisecond'
        ${stateChange ? sql`, state = ${stateChange}, state_reason = ${reason}` : sql``}
        ${stateChange === "failed" ? sql`, finished_at = now()` : sql``}
      where id = ${c.id}`);
    await appendAuditEvent(tx, {
      actor,
      action: "campaign.batch",
      outcome: "failure",
      target: { type: "campaign", id: c.id },
      reason: j.message,
      vaultRequestId: j.requestId,
      details: { keyName: c.key_name, consecutiveFailures: consecutive, retryInMs: delayMs },
    });
    if (stateChange) {
      await appendAuditEvent(tx, {
        actor,
        action: stateChange === "failed" ? "campaign.fail" : "campaign.auto_pause",
        target: { type: "campaign", id: c.id },
        reason,
        details: { keyName: c.key_name },
      });
    }
    return { delayMs, message: j.message, stateChange };
  });
}

/** Claims, re-wraps and writes back one batch of one runnable campaign. */
export async function runNextBatch(opts: RunnerOptions): Promise<BatchResult> {
  const { db } = opts;
  const log = (opts.logger ?? rootLogger).child({ component: "campaign", worker: opts.workerId });
  const actor = workerActor(opts.workerId);
  const campaignId = await pickCampaign(db, opts.campaignId);
  if (!campaignId) return { kind: "nothing" };

  opts.onPhase?.("claim", campaignId);
  const claimed = await db.transaction((tx) => claim(tx, campaignId, opts, actor));
  if (claimed.kind !== "lease") return claimed;
  const { campaign: c, lease, rows } = claimed;

  // Build the Vault items. Bytes neither layout can read never go to Vault; they fail as permanent items.
  const failures: Prepared["failures"] = [];
  const replacers = new Map<string, (ct: string) => Buffer>();
  const items = [];
  for (const row of rows) {
    const target = rewrapTarget(Buffer.from(row.encrypted_key_shares));
    if (!target) {
      failures.push({ id: row.id, code: "unparseable", error: "stored bytes are neither the direct nor the envelope layout", permanent: true });
      continue;
    }
    replacers.set(row.id, target.replace);
    items.push({
      reference: row.id,
      ciphertext: target.transitCiphertext,
      ...(c.derived ? { context: Buffer.from(row.wallet_id, "utf8") } : {}),
    });
  }

  let results: BatchItemResult[] = [];
  const vaultRequestIds: string[] = [];
  if (items.length > 0) {
    opts.onPhase?.("vault", c.id);
    try {
      results = await opts.vault.rewrapBatch(c.key_name, items, {
        keyVersion: c.target_version,
        onRequestId: (id) => vaultRequestIds.push(id),
      });
    } catch (err) {
      const f = await recordCallFailure(db, c, lease, err, actor);
      log.warn({ campaignId: c.id, error: vaultErrorName(err) ?? "unknown", retryInMs: f.delayMs, stateChange: f.stateChange }, "campaign batch: Vault call failed");
      if (f.stateChange === "paused") return { kind: "paused", campaignId: c.id, reason: f.message };
      return { kind: "vault-failed", campaignId: c.id, error: f.message, delayMs: f.delayMs };
    }
  }

  const prepared = prepare(rows, results, replacers, failures);
  opts.onPhase?.("commit", c.id);
  try {
    const r = await db.transaction((tx) => writeBack(tx, c, lease, prepared, vaultRequestIds, actor, () => opts.onPhase?.("writing", c.id)));
    opts.onPhase?.("committed", c.id);
    return { kind: "committed", campaignId: c.id, rewrapped: r.rewrapped, conflicts: r.conflicts, failed: prepared.failures.length, quarantined: r.quarantined };
  } catch (err) {
    if (err instanceof Fenced) {
      log.info({ campaignId: c.id }, "campaign batch: lease was taken over or cancelled; nothing written");
      return { kind: "fenced", campaignId: c.id };
    }
    // Nothing of the batch was written. Give the range back so it is retried soon rather than after the lease.
    await db.execute(sql`update rewrap_leases set expires_at = now() where id = ${lease.id} and token = ${lease.token}`).catch(() => undefined);
    throw sanitizeDbError(err);
  }
}

export interface WorkerLoopOptions extends RunnerOptions {
  signal: AbortSignal;
  /** Batches in flight at once in this process. Default 1. */
  concurrency?: number;
  /** Sleep when there is nothing to claim. Default 1 s. */
  idleMs?: number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Runs batches until the signal aborts. A batch in flight when it aborts is finished (its write-back is one
 * transaction either way), so a stop never half-writes. Errors are logged and the loop carries on after a pause.
 */
export async function runCampaignWorker(opts: WorkerLoopOptions): Promise<void> {
  const log = (opts.logger ?? rootLogger).child({ component: "campaign", worker: opts.workerId });
  const idleMs = opts.idleMs ?? 1_000;
  const slots = Math.max(1, opts.concurrency ?? 1);
  await Promise.all(
    Array.from({ length: slots }, async () => {
      let errors = 0;
      while (!opts.signal.aborted) {
        let r: BatchResult;
        try {
          r = await runNextBatch(opts);
          errors = 0;
        } catch (err) {
          errors += 1;
          log.error({ err: sanitizeDbError(err) }, "campaign batch failed; retrying");
          await sleep(Math.min(30_000, 200 * 2 ** Math.min(errors, 8)), opts.signal);
          continue;
        }
        if (r.kind === "committed" || r.kind === "pass-ended" || r.kind === "fenced") continue;
        if (r.kind === "completed") log.info({ campaignId: r.campaignId }, "campaign completed");
        if (r.kind === "paused") log.warn({ campaignId: r.campaignId, reason: r.reason }, "campaign paused itself");
        await sleep(r.kind === "vault-failed" ? Math.min(r.delayMs, idleMs * 5) : idleMs, opts.signal);
      }
    }),
  );
}
