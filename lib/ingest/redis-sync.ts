import "server-only";
import { sql } from "drizzle-orm";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { recordAuditEvent } from "@/lib/audit";
import { rowsOf, sanitizeDbError, type Db } from "@/lib/db/client";
import { logger } from "@/lib/log";
import {
  documentHoldsPlaintextShares,
  toWalletPropertiesRecord,
  toWalletPropertiesRow,
  walletPropertiesSchema,
  type WalletPropertiesRow,
} from "./wallet-properties";

/**
 * Imports the storage guide's WalletProperties cache (`wallet:{accountAddress}` → JSON, DESIGN §1) into
 * `wallet_properties` (source 'redis').
 *
 * Safe on a million keys: SCAN (never KEYS) with MATCH/COUNT, one MGET per scan batch, one set-based upsert per
 * batch; memory is bounded by one batch. Rows whose content did not change are not rewritten (the upsert's
 * `DO UPDATE … WHERE … IS DISTINCT FROM …`), so a periodic run over an unchanged cache writes nothing.
 *
 * The cache is outside input: every entry is validated, and a bad entry is counted by reason with a few
 * sample keys — never its value — and skipped; it never stops the run. SCAN may return a key twice and keys may
 * vanish between SCAN and MGET; both are harmless. Entries removed from Redis are not deleted here: the cache
 * is not the inventory's source of truth.
 *
 * Plaintext shares in the cache (`externalServerKeyShares`, a backend caching the Node SDK's WalletProperties
 * object as is) are the worst thing the cache can hold: each such entry is counted (also when it is otherwise
 * malformed), its wallet row flagged (`plaintext_shares_in_cache`), the run's audit event and a warning carry
 * the count and sample keys — and the value itself is never kept, logged or shown.
 */

export const MALFORMED_REASONS = [
  /** Not parseable as JSON. */
  "invalid_json",
  /** JSON, but not a WalletProperties document (missing/ill-typed fields, not an object). */
  "schema_violation",
  /** The key's `{accountAddress}` is not the document's accountAddress. */
  "key_address_mismatch",
  /** The key holds a hash, list, set… instead of a string. */
  "wrong_type",
  /** Larger than any WalletProperties document can reasonably be. */
  "too_large",
] as const;
export type MalformedReason = (typeof MALFORMED_REASONS)[number];

export interface RedisSyncSummary {
  /** Distinct keys seen by SCAN (a key SCAN returned twice in one batch counts once). */
  scanned: number;
  /** Rows inserted or changed. */
  upserted: number;
  inserted: number;
  updated: number;
  /** Valid entries whose row already held the same content. */
  unchanged: number;
  /** Keys that disappeared between SCAN and MGET. */
  vanished: number;
  malformed: Partial<Record<MalformedReason, number>>;
  /** Up to `sampleKeys` keys per reason, for the operator to look at. Keys only, never values. */
  malformedSamples: Partial<Record<MalformedReason, string[]>>;
  /** Entries carrying plaintext key shares (`externalServerKeyShares`), valid or not. */
  plaintextSharesInCache: number;
  /** Up to `sampleKeys` of their keys. Keys only, never values. */
  plaintextSharesSamples: string[];
  batches: number;
  /** False when stopped by `signal`; `cursor` then resumes the scan. */
  complete: boolean;
  cursor: string;
  durationMs: number;
}

export interface RedisSyncOptions {
  redis: Redis;
  db: Db;
  /** Keys are `${keyPrefix}{accountAddress}`. Default `wallet:` (the storage guide's). */
  keyPrefix?: string;
  /** SCAN COUNT hint, and so the batch size. Default 1000. */
  scanCount?: number;
  /** Resume a previous run's scan. Default "0" (from the start). */
  cursor?: string;
  /** Checked between batches; the summary then has complete=false and the cursor to resume from. */
  signal?: AbortSignal;
  /** Sample keys kept per malformed reason. Default 5. */
  sampleKeys?: number;
  /** Entries above this many UTF-16 units are `too_large`. Default 64 KiB. */
  maxValueLength?: number;
  /** Write the `inventory.sync.redis` audit event. Default true. */
  audit?: boolean;
  onBatch?: (summary: Readonly<RedisSyncSummary>) => void;
  /** Where warnings and errors go. Default: the app's redacting logger. */
  logger?: Pick<Logger, "warn" | "error">;
}

const SAMPLE_KEY_MAX = 200;
export const REDIS_SYNC_AUDIT_ACTION = "inventory.sync.redis";
export const REDIS_SYNC_ACTOR = { type: "service", userId: "redis-sync" } as const;

/** Escapes glob metacharacters so a prefix is matched literally by SCAN MATCH. */
export function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** EVM addresses are checksummed (mixed case) in one place and lower-cased in another: compare them caselessly. */
function keyMatchesAddress(keyAddress: string, docAddress: string): boolean {
  if (keyAddress === docAddress) return true;
  return EVM_ADDRESS.test(docAddress) && keyAddress.toLowerCase() === docAddress.toLowerCase();
}


/**
 * One statement per batch: the batch travels as one jsonb parameter (no 65535-parameter ceiling, no SQL built
 * from strings), `jsonb_to_recordset` turns it into rows, and only changed rows are updated. `xmax = 0` tells
 * an inserted row from an updated one; unchanged rows are not returned at all.
 */
async function upsertBatch(db: Db, rows: WalletPropertiesRow[]): Promise<{ inserted: number; updated: number }> {
  if (rows.length === 0) return { inserted: 0, updated: 0 };
  const payload = JSON.stringify(rows.map(toWalletPropertiesRecord));
  const result = await db.execute(sql`
    insert into wallet_properties as wp
      (wallet_id, account_address, chain_name, threshold_signature_scheme, derivation_path, backup_info,
       has_backup_info, password_encrypted, backup_locations, backed_up_anywhere, plaintext_shares_in_cache, source)
    select v.wallet_id, v.account_address, v.chain_name, v.threshold_signature_scheme, v.derivation_path,
           v.backup_info, v.has_backup_info, v.password_encrypted, coalesce(v.backup_locations, '{}'),
           v.backed_up_anywhere, v.plaintext_shares_in_cache, 'redis'
    from jsonb_to_recordset(${payload}::jsonb) as v(
      wallet_id varchar, account_address varchar, chain_name varchar, threshold_signature_scheme varchar,
      derivation_path text, backup_info jsonb, has_backup_info boolean, password_encrypted boolean,
      backup_locations text[], backed_up_anywhere boolean, plaintext_shares_in_cache boolean)
    on conflict (account_address) do update set
      wallet_id = excluded.wallet_id,
      chain_name = excluded.chain_name,
      threshold_signature_scheme = excluded.threshold_signature_scheme,
      derivation_path = excluded.derivation_path,
      backup_info = excluded.backup_info,
      has_backup_info = excluded.has_backup_info,
      password_encrypted = excluded.password_encrypted,
      backup_locations = excluded.backup_locations,
      backed_up_anywhere = excluded.backed_up_anywhere,
      plaintext_shares_in_cache = excluded.plaintext_shares_in_cache,
      source = 'redis',
      updated_at = now()
    where (wp.wallet_id, wp.chain_name, wp.threshold_signature_scheme, wp.derivation_path, wp.backup_info,
           wp.has_backup_info, wp.password_encrypted, wp.backup_locations, wp.backed_up_anywhere,
           wp.plaintext_shares_in_cache)
      is distinct from
          (excluded.wallet_id, excluded.chain_name, excluded.threshold_signature_scheme, excluded.derivation_path,
           excluded.backup_info, excluded.has_backup_info, excluded.password_encrypted, excluded.backup_locations,
           excluded.backed_up_anywhere, excluded.plaintext_shares_in_cache)
    returning (xmax = 0) as inserted`);
  let inserted = 0;
  let updated = 0;
  for (const r of rowsOf<{ inserted: boolean }>(result)) {
    if (r.inserted) inserted++;
    else updated++;
  }
  return { inserted, updated };
}

export function emptySummary(): RedisSyncSummary {
  return {
    scanned: 0,
    upserted: 0,
    inserted: 0,
    updated: 0,
    unchanged: 0,
    vanished: 0,
    malformed: {},
    malformedSamples: {},
    plaintextSharesInCache: 0,
    plaintextSharesSamples: [],
    batches: 0,
    complete: false,
    cursor: "0",
    durationMs: 0,
  };
}

export async function syncWalletPropertiesFromRedis(options: RedisSyncOptions): Promise<RedisSyncSummary> {
  const { redis, db } = options;
  const prefix = options.keyPrefix ?? "wallet:";
  const scanCount = options.scanCount ?? 1000;
  const sampleKeys = options.sampleKeys ?? 5;
  const maxValueLength = options.maxValueLength ?? 64 * 1024;
  const pattern = `${escapeGlob(prefix)}*`;
  const log = options.logger ?? logger;
  const started = performance.now();
  const summary = emptySummary();
  summary.cursor = options.cursor ?? "0";

  const sample = (samples: string[], key: string) => {
    if (samples.length < sampleKeys) samples.push(key.length > SAMPLE_KEY_MAX ? `${key.slice(0, SAMPLE_KEY_MAX)}…` : key);
  };
  const malformed = (reason: MalformedReason, key: string) => {
    summary.malformed[reason] = (summary.malformed[reason] ?? 0) + 1;
    sample((summary.malformedSamples[reason] ??= []), key);
  };

  const run = async () => {
    let cursor = summary.cursor;
    do {
      if (options.signal?.aborted) return;
      const [next, found] = await redis.scan(cursor, "MATCH", pattern, "COUNT", scanCount);
      cursor = next;
      const keys = [...new Set(found)];
      if (keys.length > 0) {
        summary.scanned += keys.length;
        // MGET answers nil both for a key that vanished and for one of another type; TYPE tells them apart.
        const values = await redis.mget(keys);
        const nils = keys.filter((_, i) => values[i] == null);
        const types = nils.length > 0 ? await typesOf(redis, nils) : new Map<string, string>();

        const rows: WalletPropertiesRow[] = [];
        keys.forEach((key, i) => {
          const value = values[i];
          if (value == null) {
            if ((types.get(key) ?? "none") === "none") summary.vanished++;
            else malformed("wrong_type", key);
            return;
          }
          if (value.length > maxValueLength) return malformed("too_large", key);
          let doc: unknown;
          try {
            doc = JSON.parse(value);
          } catch {
            return malformed("invalid_json", key);
          }
          if (documentHoldsPlaintextShares(doc)) {
            summary.plaintextSharesInCache++;
            sample(summary.plaintextSharesSamples, key);
          }
          // The schema directly, not parseWalletProperties: a JSON string holding JSON is not a document.
          const parsed = walletPropertiesSchema.safeParse(doc);
          if (!parsed.success) return malformed("schema_violation", key);
          if (!keyMatchesAddress(key.slice(prefix.length), parsed.data.accountAddress)) return malformed("key_address_mismatch", key);
          rows.push(toWalletPropertiesRow(parsed.data, "redis"));
        });

        let written: { inserted: number; updated: number };
        try {
          written = await upsertBatch(db, rows);
        } catch (err) {
          throw sanitizeDbError(err);
        }
        summary.inserted += written.inserted;
        summary.updated += written.updated;
        summary.upserted += written.inserted + written.updated;
        summary.unchanged += rows.length - written.inserted - written.updated;
      }
      summary.batches++;
      summary.cursor = cursor;
      options.onBatch?.(summary);
    } while (cursor !== "0");
    summary.complete = true;
  };

  const details = () => ({
    scanned: summary.scanned,
    upserted: summary.upserted,
    inserted: summary.inserted,
    updated: summary.updated,
    unchanged: summary.unchanged,
    vanished: summary.vanished,
    malformed: summary.malformed,
    malformedSamples: summary.malformedSamples,
    plaintextSharesInCache: summary.plaintextSharesInCache,
    plaintextSharesSamples: summary.plaintextSharesSamples,
    batches: summary.batches,
    complete: summary.complete,
    durationMs: summary.durationMs,
  });
  const target = { type: "redis", id: pattern };
  const warnPlaintext = () => {
    if (summary.plaintextSharesInCache === 0) return;
    log.warn(
      { plaintextSharesInCache: summary.plaintextSharesInCache, sampleKeys: summary.plaintextSharesSamples },
      "the WalletProperties cache holds plaintext key shares (externalServerKeyShares): the backend caches the SDK object as is; " +
        "the console kept none of it — fix the backend and purge those cache entries",
    );
  };

  try {
    await run();
  } catch (err) {
    warnPlaintext();
    summary.durationMs = Math.round(performance.now() - started);
    if (options.audit !== false) {
      await recordAuditEvent(db, {
        actor: REDIS_SYNC_ACTOR,
        action: REDIS_SYNC_AUDIT_ACTION,
        target,
        outcome: "failure",
        reason: "sync stopped by an error",
        details: { ...details(), error: err instanceof Error ? err.name : "unknown" },
      }).catch((auditErr: unknown) =>
        log.error({ err: sanitizeDbError(auditErr) }, "could not record the failed Redis sync in the audit trail"),
      );
    }
    throw err;
  }
  summary.durationMs = Math.round(performance.now() - started);
  warnPlaintext();
  if (options.audit !== false) {
    await recordAuditEvent(db, { actor: REDIS_SYNC_ACTOR, action: REDIS_SYNC_AUDIT_ACTION, target, details: details() });
  }
  return summary;
}

async function typesOf(redis: Redis, keys: string[]): Promise<Map<string, string>> {
  const pipeline = redis.pipeline();
  for (const k of keys) pipeline.type(k);
  const answers = (await pipeline.exec()) ?? [];
  return new Map(keys.map((k, i) => [k, String(answers[i]?.[1] ?? "none")]));
}
