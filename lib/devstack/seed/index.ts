import "server-only";
import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { recordAuditEvent } from "@/lib/audit";
import { rowsOf, sanitizeDbError, type Db, type Tx } from "@/lib/db/client";
import { encodeDirect, type SealedShares } from "@/lib/db/share-format";
import { parseWalletProperties, toWalletPropertiesRecord, toWalletPropertiesRow, type WalletPropertiesRow } from "@/lib/ingest/wallet-properties";
import type { VaultClient } from "@/lib/vault";
import { DEMO_KEYS, generateDemoWallet, type DemoWallet } from "./demo-data";
import { encodeEnvelope, sealShares } from "./envelope";
import { createRng } from "./random";

export { DEMO_KEYS, DEMO_KEY_ENVIRONMENT_MAPPING } from "./demo-data";

/**
 * Demo data for the embedded mode and for benchmarks (DESIGN §3): WalletProperties across chains, schemes
 * and backup postures, share records in both layouts under several Transit keys rotated part-way, ~18
 * months of history, and the integrity cases the console flags (wallets without a share, shares without
 * WalletProperties). Share plaintexts are random bytes; they exist only in this process, only until encrypted.
 *
 * Speed (100k wallets in well under a minute): everything is batched — Transit `batch_input` per
 * (key, version), multi-row INSERTs, one transaction per chunk, and the next chunk is encrypted while the
 * current one is written.
 */

export type SeedVault = Pick<VaultClient, "createKey" | "rotateKey" | "readKey" | "encrypt">;

export interface SeedOptions {
  wallets: number;
  /** Same seed → same inventory (ids, addresses, ages, plaintexts); ciphertexts differ (Transit nonces). */
  seed?: number;
  now?: Date;
  /** Wallets per transaction. Default 5000. */
  chunkSize?: number;
  /** Parallel Transit requests. Default 4. */
  concurrency?: number;
  /** Test hook: sees each share plaintext (e.g. to assert it never reaches a response). */
  onPlaintext?: (walletId: string, plaintext: Uint8Array) => void;
  onProgress?: (done: number, total: number) => void;
}

export interface SeedResult {
  wallets: number;
  walletProperties: number;
  shareRecords: number;
  keys: { name: string; latestVersion: number }[];
  seed: number;
  ms: number;
}

/** True when neither inventory table has a row: the launcher seeds only then. */
export async function isDatabaseEmpty(db: Db): Promise<boolean> {
  const [row] = rowsOf<{ any: boolean }>(
    await db.execute(sql`select (exists (select 1 from wallet_properties) or exists (select 1 from server_wallet_key_shares)) as "any"`),
  );
  return !row?.any;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

async function prepareKeys(vault: SeedVault) {
  const keys: { name: string; latestVersion: number }[] = [];
  for (const plan of DEMO_KEYS) {
    await vault.createKey(plan.name, { type: "aes256-gcm96", derived: plan.derived });
    let info = await vault.readKey(plan.name);
    while (info.latestVersion < plan.versions) info = await vault.rotateKey(plan.name);
    keys.push({ name: plan.name, latestVersion: info.latestVersion });
  }
  return keys;
}

interface EncryptedChunk {
  wallets: DemoWallet[];
  ciphertexts: (Buffer | null)[];
}

/**
 * Direct layout: Transit-encrypt the shares. Envelope layout: a local random 256-bit data key encrypts the
 * shares (AES-256-GCM), and the data key is wrapped with a batch `transit/encrypt` — the same ciphertext
 * format `transit/datakey` returns, but ~1000 per request instead of one. Versions are pinned per batch to
 * spread records over the key's versions.
 */
async function encryptChunk(vault: SeedVault, wallets: DemoWallet[], concurrency: number): Promise<EncryptedChunk> {
  interface Item {
    index: number;
    plaintext: Uint8Array;
    context?: Uint8Array;
    sealed?: SealedShares;
  }
  const groups = new Map<string, { key: string; version: number; items: Item[] }>();
  wallets.forEach((w, index) => {
    const s = w.share;
    if (!s) return;
    const context = s.derived ? Buffer.from(w.walletId, "utf8") : undefined;
    let item: Item;
    if (s.layout === "envelope") {
      const dataKey = randomBytes(32);
      item = { index, plaintext: dataKey, context, sealed: sealShares(s.plaintext, dataKey, w.walletId) };
    } else {
      item = { index, plaintext: s.plaintext, context };
    }
    const id = `${s.keyName}:${s.keyVersion}`;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { key: s.keyName, version: s.keyVersion, items: [] }));
    g.items.push(item);
  });

  const ciphertexts: (Buffer | null)[] = wallets.map(() => null);
  await mapLimit([...groups.values()], concurrency, async (g) => {
    const results = await vault.encrypt(
      g.key,
      g.items.map((it) => ({ plaintext: it.plaintext, context: it.context, reference: String(it.index) })),
      { keyVersion: g.version },
    );
    results.forEach((r, i) => {
      const it = g.items[i]!;
      if ("error" in r) throw new Error(`Transit encrypt failed for key ${g.key} v${g.version}: ${r.error}`);
      ciphertexts[it.index] = it.sealed ? encodeEnvelope(r.ciphertext, it.sealed) : encodeDirect(r.ciphertext);
      it.plaintext = new Uint8Array(0);
    });
  });
  return { wallets, ciphertexts };
}

/**
 * Rows travel as one JSON parameter per statement and are expanded by json_to_recordset: one round trip and
 * one bind parameter per ~2000 rows, the same SQL on PostgreSQL and PGlite (no driver array support needed).
 * Ciphertext bytes travel hex-encoded and are decoded in SQL.
 */
const INSERT_ROWS = 2500;

async function insertPropertyRows(tx: Tx, rows: WalletPropertiesRow[]) {
  const json = JSON.stringify(rows.map(toWalletPropertiesRecord));
  await tx.execute(sql`
    insert into wallet_properties (wallet_id, account_address, chain_name, threshold_signature_scheme, derivation_path,
      backup_info, has_backup_info, password_encrypted, backup_locations, backed_up_anywhere, source)
    select wallet_id, account_address, chain_name, threshold_signature_scheme, derivation_path,
      backup_info, has_backup_info, password_encrypted, coalesce(backup_locations, '{}'), backed_up_anywhere, source
    from json_to_recordset(${json}::json) as x(wallet_id text, account_address text, chain_name text,
      threshold_signature_scheme text, derivation_path text, backup_info jsonb, has_backup_info boolean,
      password_encrypted boolean, backup_locations text[], backed_up_anywhere boolean, source text)`);
}

interface ShareRow {
  id: string;
  walletId: string;
  accountAddress: string;
  ciphertext: Buffer;
  keyName: string;
  createdAt: Date;
  lastAccessedAt: Date | null;
  accessCount: number;
  environment: string | null;
  lastRewrappedAt: Date | null;
}

async function insertShareRows(tx: Tx, rows: ShareRow[]) {
  const json = JSON.stringify(
    rows.map((r) => ({
      id: r.id,
      wallet_id: r.walletId,
      account_address: r.accountAddress,
      ct: r.ciphertext.toString("hex"),
      encryption_key_id: r.keyName,
      created_at: r.createdAt.toISOString(),
      last_accessed_at: r.lastAccessedAt?.toISOString() ?? null,
      access_count: r.accessCount,
      environment: r.environment,
      last_rewrapped_at: r.lastRewrappedAt?.toISOString() ?? null,
    })),
  );
  // key_version, layout, fingerprint and row_version come from the table's trigger, as for any backend.
  await tx.execute(sql`
    insert into server_wallet_key_shares (id, wallet_id, account_address, encrypted_key_shares, encryption_key_id,
      created_at, last_accessed_at, access_count, environment, last_rewrapped_at)
    select id, wallet_id, account_address, decode(ct, 'hex'), encryption_key_id,
      created_at, last_accessed_at, access_count, environment, last_rewrapped_at
    from json_to_recordset(${json}::json) as x(id uuid, wallet_id text, account_address text, ct text,
      encryption_key_id text, created_at timestamptz, last_accessed_at timestamptz, access_count integer,
      environment text, last_rewrapped_at timestamptz)`);
}

async function writeChunk(db: Db, chunk: EncryptedChunk): Promise<{ properties: number; shares: number }> {
  const propertyRows: WalletPropertiesRow[] = [];
  const shareRows: ShareRow[] = [];
  for (const [i, w] of chunk.wallets.entries()) {
    if (w.properties) {
      const parsed = parseWalletProperties(w.properties);
      if (!parsed.ok) throw new Error(`demo WalletProperties did not parse: ${parsed.error}`);
      propertyRows.push(toWalletPropertiesRow(parsed.value, "seed"));
    }
    const s = w.share;
    const ct = chunk.ciphertexts[i];
    if (s && ct) {
      shareRows.push({
        id: s.id,
        walletId: w.walletId,
        accountAddress: w.accountAddress,
        ciphertext: ct,
        keyName: s.keyName,
        createdAt: s.createdAt,
        lastAccessedAt: s.lastAccessedAt,
        accessCount: s.accessCount,
        environment: s.environment,
        lastRewrappedAt: s.lastRewrappedAt,
      });
    }
  }
  try {
    await db.transaction(async (tx) => {
      // Both tables for the same wallets: the read table is refreshed once for the chunk after both inserts
      // instead of once per insert (migration 0012; the second pass would redo every wallet).
      await tx.execute(sql`set local keyshare.inventory_deferred = 'on'`);
      for (let i = 0; i < propertyRows.length; i += INSERT_ROWS) await insertPropertyRows(tx, propertyRows.slice(i, i + INSERT_ROWS));
      for (let i = 0; i < shareRows.length; i += INSERT_ROWS) await insertShareRows(tx, shareRows.slice(i, i + INSERT_ROWS));
      const addresses = JSON.stringify([...new Set([...propertyRows.map((r) => r.accountAddress), ...shareRows.map((r) => r.accountAddress)])]);
      await tx.execute(sql`select keyshare_inventory_refresh(array(select json_array_elements_text(${addresses}::json)))`);
    });
  } catch (err) {
    // Drizzle's error text lists bound parameters, i.e. ciphertexts: never let it travel.
    throw sanitizeDbError(err);
  }
  return { properties: propertyRows.length, shares: shareRows.length };
}

export async function seedDemoData(db: Db, vault: SeedVault, options: SeedOptions): Promise<SeedResult> {
  const started = Date.now();
  const total = Math.max(0, Math.floor(options.wallets));
  const seed = options.seed ?? randomBytes(4).readUInt32BE(0);
  const now = options.now ?? new Date();
  const chunkSize = options.chunkSize ?? 5000;
  const concurrency = options.concurrency ?? 4;
  const rng = createRng(seed);
  const audit = { actor: { type: "service" as const, userId: "demo-seed" }, action: "demo.seed", target: { type: "database", id: "demo" } };

  try {
    const keys = await prepareKeys(vault);
    const makeChunk = (from: number) => {
      const wallets: DemoWallet[] = [];
      for (let i = from; i < Math.min(total, from + chunkSize); i++) {
        const w = generateDemoWallet(rng, now);
        if (w.share) options.onPlaintext?.(w.walletId, w.share.plaintext);
        wallets.push(w);
      }
      const encrypted = encryptChunk(vault, wallets, concurrency);
      // Awaited later; this only keeps an early rejection from counting as unhandled meanwhile.
      encrypted.catch(() => undefined);
      return encrypted;
    };

    let properties = 0;
    let shares = 0;
    let pending = total > 0 ? makeChunk(0) : undefined;
    for (let from = 0; pending; from += chunkSize) {
      const chunk = await pending;
      // Encrypt the next chunk while this one is written.
      pending = from + chunkSize < total ? makeChunk(from + chunkSize) : undefined;
      const written = await writeChunk(db, chunk);
      properties += written.properties;
      shares += written.shares;
      options.onProgress?.(Math.min(total, from + chunkSize), total);
    }

    const result: SeedResult = { wallets: total, walletProperties: properties, shareRecords: shares, keys, seed, ms: Date.now() - started };
    await recordAuditEvent(db, {
      ...audit,
      details: { wallets: total, walletProperties: properties, shareRecords: shares, seed, keys: keys.map((k) => `${k.name}@v${k.latestVersion}`) },
    });
    return { ...result, ms: Date.now() - started };
  } catch (err) {
    await recordAuditEvent(db, {
      ...audit,
      outcome: "failure",
      reason: "demo seeding failed",
      details: { wallets: total, seed, error: err instanceof Error ? err.name : "unknown" },
    }).catch(() => undefined);
    throw err;
  }
}
