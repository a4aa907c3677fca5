import "server-only";
import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { Config } from "@/lib/config/env";
import { rowsOf, type Db } from "@/lib/db/client";
import { auditCheckpoints } from "@/lib/db/schema/audit";
import { defineJob, type IntervalJob } from "@/lib/jobs/define";
import { getVaultClient, type VaultClient } from "@/lib/vault";
import { readChainPage } from "./chain-rows";
import { auditContentFingerprint, canonicalJson } from "./hash";
import { appendAuditEvent } from "./writer";

/**
 * Signed checkpoints of the audit chain (DESIGN §6). Someone with full database access but no Vault access can
 * rewrite events and recompute every hash and the head; they cannot produce a checkpoint's HMAC, which is made
 * by Vault Transit with a key the console may use but not export.
 *
 * A checkpoint at seq S signs (canonicalCheckpointMessage): S, the hash of event S, its time, the previous
 * checkpoint's signature (so deleting a checkpoint breaks the next one), and a digest of the content
 * fingerprints of the events it covers (prev.seq+1 … S), which lets the verifier name the exact event that was
 * changed, removed, inserted or moved. The row goes to audit_checkpoints and the same facts are appended as an
 * `audit.checkpoint` event, so a copy leaves the database with the trail (exports, SIEM).
 *
 * Checkpoints are made every `everyEvents` events and at least every `intervalMs` even when the trail is idle
 * (then covering the previous checkpoint's own event): a last checkpoint older than that means the job is
 * down or someone deleted the tail together with its checkpoints.
 *
 * The Vault call happens outside any transaction and before the head lock, so a slow or unreachable Vault never
 * blocks appends; a failed round is logged by the job runner and retried at the next run.
 */

export const CHECKPOINT_ACTION = "audit.checkpoint";
export const CHECKPOINT_ACTOR = { type: "service", userId: "audit-checkpoint" } as const;

export interface CheckpointSettings {
  keyName: string;
  everyEvents: number;
  intervalMs: number;
  /** Create the Transit key when it does not exist (dev and tests; production provisions it). */
  createKey?: boolean;
}

export interface CheckpointMessageInput {
  seq: number;
  hash: string;
  /** ISO-8601 with milliseconds: the checkpoint's created_at. */
  at: string;
  /** Signature of the checkpoint before it, or null for the first. */
  prev: string | null;
  /** First seq covered (the previous checkpoint's seq + 1). */
  from: number;
  /** Concatenated content fingerprints of events from … seq. */
  fingerprints: string;
}

/** The bytes Vault HMACs. Changing this needs a new `v`. */
export function canonicalCheckpointMessage(m: CheckpointMessageInput): Buffer {
  const fp = createHash("sha256").update(m.fingerprints, "utf8").digest("hex");
  return Buffer.from(
    canonicalJson({ v: 1, kind: "keyshare-audit-checkpoint", seq: m.seq, hash: m.hash, at: m.at, prev: m.prev, from: m.from, fp }),
    "utf8",
  );
}

/** `vault:v3:abc…` → 3; undefined when it is not a Transit HMAC string. */
export function signatureVersion(signature: string): number | undefined {
  const m = /^vault:v(\d+):/.exec(signature);
  return m ? Number(m[1]) : undefined;
}

/**
 * What the `audit.checkpoint` event carries. The MAC goes without its `vault:vN:` prefix (kept as keyVersion):
 * the audit redactor treats anything shaped like a Transit ciphertext as secret, and an HMAC is not one.
 */
export interface CheckpointEventDetails {
  seq: number;
  hash: string;
  at: string;
  from: number;
  keyName: string;
  keyVersion: number;
  mac: string;
  fingerprints: string;
}

export function checkpointEventDetails(
  m: CheckpointMessageInput,
  signature: string,
  keyName: string,
): CheckpointEventDetails {
  const version = signatureVersion(signature) ?? 0;
  return {
    seq: m.seq,
    hash: m.hash,
    at: m.at,
    from: m.from,
    keyName,
    keyVersion: version,
    mac: signature.replace(/^vault:v\d+:/, ""),
    fingerprints: m.fingerprints,
  };
}

export type CheckpointOutcome =
  | { created: true; seq: number; hash: string; signature: string; from: number; eventSeq: number }
  | { created: false; reason: "empty" | "not-due" | "raced" };

interface HeadRow {
  last_seq: string | number;
}
interface LastCheckpointRow {
  seq: string | number;
  signature: string;
  created_at: string;
}

async function dbNow(db: Db): Promise<Date> {
  const [r] = rowsOf<{ now: string }>(
    await db.execute(sql`select to_char(date_trunc('milliseconds', clock_timestamp()) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as now`),
  );
  return new Date(r!.now);
}

async function lastCheckpoint(db: Db): Promise<{ seq: number; signature: string; createdAt: Date } | undefined> {
  const [r] = rowsOf<LastCheckpointRow>(
    await db.execute(sql`
      select seq, signature, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at
      from public.audit_checkpoints order by seq desc limit 1`),
  );
  return r ? { seq: Number(r.seq), signature: r.signature, createdAt: new Date(r.created_at) } : undefined;
}

// By name, not instanceof: the process-wide Vault client may have been created by another server bundle
// (pages, route handlers, instrumentation), whose error classes are other objects (see lib/keys/vault-keys.ts).
const isVaultError = (err: unknown, name: string) => err instanceof Error && err.name === name && "operation" in err;

async function hmacWithKey(vault: VaultClient, settings: CheckpointSettings, input: Buffer): Promise<string> {
  try {
    return await vault.hmac(settings.keyName, input);
  } catch (err) {
    // Vault answers a missing key with 400 on hmac; read the key to tell that from other refusals.
    if (!settings.createKey || !(isVaultError(err, "VaultBadRequestError") || isVaultError(err, "VaultNotFoundError"))) throw err;
    try {
      await vault.readKey(settings.keyName);
      throw err;
    } catch (readErr) {
      if (!isVaultError(readErr, "VaultNotFoundError")) throw readErr;
    }
    await vault.createKey(settings.keyName, { type: "aes256-gcm96", exportable: false });
    return vault.hmac(settings.keyName, input);
  }
}

/**
 * Makes one checkpoint when one is due, else nothing. Safe to run concurrently with appends and (rarely) with
 * itself: the insert re-checks that no other checkpoint landed meanwhile, and seq is unique.
 */
export async function createCheckpoint(
  db: Db,
  vault: VaultClient,
  settings: CheckpointSettings,
  options: { /** The checkpoint's time instead of the database clock (tests). */ now?: Date } = {},
): Promise<CheckpointOutcome> {
  const [head] = rowsOf<HeadRow>(await db.execute(sql`select last_seq from public.audit_chain_head where id = 1`));
  const headSeq = Number(head?.last_seq ?? 0);
  if (headSeq === 0) return { created: false, reason: "empty" };
  const last = await lastCheckpoint(db);
  const now = options.now ? new Date(Math.floor(options.now.getTime())) : await dbNow(db);
  const due =
    !last ||
    headSeq - last.seq > settings.everyEvents ||
    (headSeq > last.seq && now.getTime() - last.createdAt.getTime() >= settings.intervalMs);
  if (!due) return { created: false, reason: "not-due" };

  const from = last ? last.seq + 1 : 1;
  // A long backlog is covered in windows of everyEvents; the job calls again until it has caught up.
  const seq = Math.min(headSeq, from + settings.everyEvents - 1);
  const rows = await readChainPage(db, from, seq - from + 1, seq);
  if (rows.length !== seq - from + 1 || rows.some((r, i) => r.seq !== from + i)) {
    throw new Error(`audit chain has gaps between seq ${from} and ${seq}: run npm run audit:verify`);
  }
  let fingerprints = "";
  for (const r of rows) fingerprints += auditContentFingerprint(r);
  const message: CheckpointMessageInput = {
    seq,
    hash: rows[rows.length - 1]!.hash,
    at: now.toISOString(),
    prev: last?.signature ?? null,
    from,
    fingerprints,
  };
  const signature = await hmacWithKey(vault, settings, canonicalCheckpointMessage(message));
  const keyVersion = signatureVersion(signature);
  if (keyVersion === undefined) throw new Error("Vault returned an HMAC without a key version");

  return db.transaction(async (tx) => {
    const [current] = rowsOf<{ seq: string | number }>(
      await tx.execute(sql`select seq from public.audit_checkpoints order by seq desc limit 1`),
    );
    if ((current ? Number(current.seq) : undefined) !== last?.seq) return { created: false, reason: "raced" } as const;
    await tx.insert(auditCheckpoints).values({
      seq,
      hash: message.hash,
      signature,
      keyName: settings.keyName,
      keyVersion,
      createdAt: now,
    });
    const event = await appendAuditEvent(tx, {
      actor: CHECKPOINT_ACTOR,
      action: CHECKPOINT_ACTION,
      target: { type: "audit-chain", id: String(seq) },
      details: { ...checkpointEventDetails(message, signature, settings.keyName) },
    });
    return { created: true, seq, hash: message.hash, signature, from, eventSeq: event.seq } as const;
  });
}

/** Checkpoints until none is due (bounded per run, so a stop request is honoured between checkpoints). */
export async function runCheckpoints(
  db: Db,
  vault: VaultClient,
  settings: CheckpointSettings,
  options: { signal?: AbortSignal; logger?: Logger; maxPerRun?: number } = {},
): Promise<number> {
  let made = 0;
  const max = options.maxPerRun ?? 100;
  while (made < max && !options.signal?.aborted) {
    const outcome = await createCheckpoint(db, vault, settings);
    if (!outcome.created) break;
    made += 1;
    options.logger?.info({ seq: outcome.seq, from: outcome.from, eventSeq: outcome.eventSeq }, "audit checkpoint signed");
  }
  return made;
}

export function checkpointSettingsOf(cfg: Config): CheckpointSettings {
  return {
    keyName: cfg.audit.checkpointKey,
    everyEvents: cfg.audit.checkpointEveryEvents,
    intervalMs: cfg.audit.checkpointIntervalMs,
    createKey: cfg.devMode,
  };
}

/**
 * The checkpoint job: single-instance, looks every minute (or every interval, if shorter) whether a checkpoint
 * is due. A Vault outage fails the run (logged by the runner, without payload) and the next run retries.
 */
export function auditCheckpointJob(cfg: Config, deps: { vault?: () => VaultClient } = {}): IntervalJob {
  const vault = deps.vault ?? getVaultClient;
  const settings = checkpointSettingsOf(cfg);
  return defineJob({
    kind: "interval",
    name: "audit-checkpoint",
    intervalMs: Math.min(60_000, settings.intervalMs),
    initialDelayMs: 5_000,
    singleInstance: true,
    run: async (ctx) => {
      await runCheckpoints(ctx.db, vault(), settings, { signal: ctx.signal, logger: ctx.logger });
    },
  });
}
