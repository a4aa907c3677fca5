import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { and, eq, like, sql } from "drizzle-orm";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { rowsOf } from "@/lib/db/client";
import { auditEvents, walletProperties } from "@/lib/db/schema";
import { testBackends, type TestDb } from "@/lib/db/testing";
import { parseInventoryParams } from "@/lib/inventory/params";
import { listInventory } from "@/lib/inventory/queries";
import { createLogger } from "@/lib/log";
import { getOverviewFigures } from "@/lib/overview/queries";
import { createVaultClient } from "@/lib/vault";
import { tablesContaining } from "@/test/db-text-scan";
import { escapeGlob, syncWalletPropertiesFromRedis, type RedisSyncSummary } from "./redis-sync";
import { postgresAdvisoryLock, runRedisSyncOnce, sessionAdvisoryLock } from "./redis-sync-job";

/**
 * Against the real Redis on 127.0.0.1:6379 (REDIS_TEST_URL to override), DB index 15, and under a random key
 * prefix per test group so that parallel runs and other engineers never see each other's keys. Only keys under
 * that prefix are ever deleted (never FLUSHDB/FLUSHALL).
 */
const REDIS_URL = process.env.REDIS_TEST_URL ?? "redis://127.0.0.1:6379/15";

const evm = () => `0x${randomBytes(20).toString("hex")}`;

function camel(address: string, over: Record<string, unknown> = {}) {
  return {
    walletId: `w-${address.slice(2, 14)}`,
    accountAddress: address,
    chainName: "EVM",
    thresholdSignatureScheme: "TWO_OF_TWO",
    derivationPath: "m/44'/60'/0'/0/0",
    externalServerKeySharesBackupInfo: { passwordEncrypted: true, backups: { dynamic: [{ location: "dynamic", keyShareId: "k1" }] } },
    ...over,
  };
}

function snake(address: string) {
  return {
    wallet_id: `w-${address.slice(0, 12)}`,
    account_address: address,
    chain_name: "SVM",
    threshold_signature_scheme: "TWO_OF_THREE",
    derivation_path: [44, 501, 0, 0],
    external_server_key_shares_backup_info: {
      password_encrypted: false,
      backups: { google_drive: [{ location: "google_drive", key_share_id: "k2" }], i_cloud: [], dynamic: [] },
    },
  };
}

async function deletePrefix(redis: Redis, prefix: string) {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${escapeGlob(prefix)}*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== "0");
}

let redis: Redis;
beforeAll(async () => {
  redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
});
afterAll(() => redis.disconnect());

describe.each(testBackends())("Redis WalletProperties sync on $name", (backend) => {
  let t: TestDb;
  const ns = `kstest-${randomBytes(6).toString("hex")}:`;
  const prefix = `${ns}wallet:`;
  const sync = (extra: Partial<Parameters<typeof syncWalletPropertiesFromRedis>[0]> = {}) =>
    syncWalletPropertiesFromRedis({ redis, db: t.db, keyPrefix: prefix, ...extra });

  beforeAll(async () => {
    t = await backend.create();
  });
  afterAll(async () => {
    await deletePrefix(redis, ns);
    await t?.close();
  });

  const addrA = evm();
  const addrB = `So1${randomBytes(16).toString("hex")}`;
  const addrC = evm();

  async function row(address: string) {
    const [r] = await t.db.select().from(walletProperties).where(eq(walletProperties.accountAddress, address));
    return r;
  }

  it("imports camelCase and snake_case entries with derived columns, source redis", async () => {
    await redis.set(`${prefix}${addrA}`, JSON.stringify(camel(addrA)));
    await redis.set(`${prefix}${addrB}`, JSON.stringify(snake(addrB)));
    // Backends that lower-case the key of a checksummed EVM address still match it.
    const mixed = `0x${randomBytes(20).toString("hex").toUpperCase()}`;
    await redis.set(`${prefix}${mixed.toLowerCase()}`, JSON.stringify(camel(mixed, { externalServerKeySharesBackupInfo: undefined })));

    const s = await sync();
    expect(s).toMatchObject({ scanned: 3, upserted: 3, inserted: 3, updated: 0, unchanged: 0, malformed: {}, complete: true });

    const a = await row(addrA);
    expect(a).toMatchObject({
      walletId: `w-${addrA.slice(2, 14)}`,
      chainName: "EVM",
      thresholdSignatureScheme: "TWO_OF_TWO",
      hasBackupInfo: true,
      passwordEncrypted: true,
      backupLocations: ["dynamic"],
      backedUpAnywhere: true,
      source: "redis",
    });
    const b = await row(addrB);
    expect(b).toMatchObject({
      chainName: "SVM",
      thresholdSignatureScheme: "TWO_OF_THREE",
      derivationPath: "[44,501,0,0]",
      hasBackupInfo: true,
      passwordEncrypted: false,
      backupLocations: ["googleDrive"],
      backedUpAnywhere: true,
      source: "redis",
    });
    expect(b?.backupInfo).toEqual({ passwordEncrypted: false, backups: { googleDrive: 1, iCloud: 0, dynamic: 0 } });
    const m = await row(mixed);
    expect(m).toMatchObject({ hasBackupInfo: false, passwordEncrypted: null, backupLocations: [], backedUpAnywhere: false });
  });

  it("leaves unchanged entries alone and updates changed ones", async () => {
    const before = await row(addrA);
    const s1 = await sync();
    expect(s1).toMatchObject({ scanned: 3, upserted: 0, unchanged: 3 });
    expect((await row(addrA))?.updatedAt.getTime()).toBe(before?.updatedAt.getTime());

    // Same content with keys in another order and snake_case: still unchanged.
    const reordered = Object.fromEntries(Object.entries(camel(addrA)).reverse());
    await redis.set(`${prefix}${addrA}`, JSON.stringify(reordered));
    expect(await sync()).toMatchObject({ upserted: 0, unchanged: 3 });

    await redis.set(
      `${prefix}${addrA}`,
      JSON.stringify(camel(addrA, { thresholdSignatureScheme: "TWO_OF_THREE", externalServerKeySharesBackupInfo: { passwordEncrypted: false, backups: {} } })),
    );
    await redis.set(`${prefix}${addrC}`, JSON.stringify(camel(addrC)));
    const s2 = await sync();
    expect(s2).toMatchObject({ scanned: 4, upserted: 2, inserted: 1, updated: 1, unchanged: 2 });
    const a = await row(addrA);
    expect(a).toMatchObject({ thresholdSignatureScheme: "TWO_OF_THREE", passwordEncrypted: false, backupLocations: [], backedUpAnywhere: false, hasBackupInfo: true });
    expect(a!.updatedAt.getTime()).toBeGreaterThan(before!.updatedAt.getTime());
  });

  it("takes over a row another source wrote only when its content differs", async () => {
    const same = evm();
    const differs = evm();
    const { toWalletPropertiesRow, parseWalletProperties } = await import("./wallet-properties");
    for (const a of [same, differs]) {
      const p = parseWalletProperties(camel(a));
      if (!p.ok) throw new Error(p.error);
      await t.db.insert(walletProperties).values(toWalletPropertiesRow(p.value, "seed"));
    }
    await redis.set(`${prefix}${same}`, JSON.stringify(camel(same)));
    await redis.set(`${prefix}${differs}`, JSON.stringify(camel(differs, { chainName: "BTC" })));
    const s = await sync();
    expect(s).toMatchObject({ updated: 1, inserted: 0 });
    expect((await row(same))?.source).toBe("seed");
    expect(await row(differs)).toMatchObject({ source: "redis", chainName: "BTC" });
  });

  it("counts malformed entries by reason with sample keys, never values, and keeps going", async () => {
    const secretish = `VALUE-${randomBytes(8).toString("hex")}`;
    const good = evm();
    const bad = {
      json: `${prefix}${evm()}`,
      schema: `${prefix}${evm()}`,
      schemaArray: `${prefix}${evm()}`,
      doubleEncoded: `${prefix}${evm()}`,
      wrongTypeField: `${prefix}${evm()}`,
      mismatch: `${prefix}${evm()}`,
      hash: `${prefix}${evm()}`,
      large: `${prefix}${evm()}`,
    };
    const addr = (k: string) => k.slice(prefix.length);
    await redis.set(`${prefix}${good}`, JSON.stringify(camel(good)));
    await redis.set(bad.json, `{"walletId": "${secretish}", `);
    await redis.set(bad.schema, JSON.stringify({ accountAddress: addr(bad.schema), note: secretish }));
    await redis.set(bad.schemaArray, JSON.stringify([secretish]));
    await redis.set(bad.doubleEncoded, JSON.stringify(JSON.stringify(camel(addr(bad.doubleEncoded)))));
    await redis.set(bad.wrongTypeField, JSON.stringify(camel(addr(bad.wrongTypeField), { chainName: 42, walletId: secretish })));
    await redis.set(bad.mismatch, JSON.stringify(camel(evm(), { walletId: secretish })));
    await redis.hset(bad.hash, { walletId: secretish });
    await redis.set(bad.large, JSON.stringify(camel(addr(bad.large), { derivationPath: secretish.repeat(10_000) })));

    const s = await sync();
    expect(s.malformed).toEqual({
      invalid_json: 1,
      schema_violation: 4,
      key_address_mismatch: 1,
      wrong_type: 1,
      too_large: 1,
    });
    expect(s.malformedSamples.invalid_json).toEqual([bad.json]);
    expect(s.malformedSamples.wrong_type).toEqual([bad.hash]);
    expect(s.malformedSamples.key_address_mismatch).toEqual([bad.mismatch]);
    expect(new Set(s.malformedSamples.schema_violation)).toEqual(new Set([bad.schema, bad.schemaArray, bad.doubleEncoded, bad.wrongTypeField]));
    expect(s.inserted).toBe(1);
    expect(await row(good)).toBeDefined();
    expect(JSON.stringify(s)).not.toContain(secretish);

    const [event] = await t.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.action, "inventory.sync.redis"))
      .orderBy(sql`${auditEvents.seq} desc`)
      .limit(1);
    expect(event).toMatchObject({ actorType: "service", actorUserId: "redis-sync", outcome: "success", targetType: "redis" });
    expect(event!.details).toMatchObject({ scanned: s.scanned, inserted: 1, malformed: s.malformed });
    expect(JSON.stringify(event)).not.toContain(secretish);
    await Promise.all(Object.values(bad).map((k) => redis.del(k)));
  });

  it("keeps only the number of backup entries: a value planted in an entry is nowhere in the database", async () => {
    const marker = `BACKUP-ENTRY-${randomBytes(12).toString("hex")}`;
    const node = evm();
    const rust = `So1${randomBytes(16).toString("hex")}`;
    await redis.set(
      `${prefix}${node}`,
      JSON.stringify(
        camel(node, {
          externalServerKeySharesBackupInfo: {
            passwordEncrypted: true,
            backups: {
              dynamic: [{ location: "dynamic", keyShareId: "k1", encryptedKeyShare: marker }, { location: "dynamic", keyShareId: marker }],
              user: [{ location: "user", passwordEncryptedShare: marker }],
            },
          },
        }),
      ),
    );
    await redis.set(
      `${prefix}${rust}`,
      JSON.stringify({
        ...snake(rust),
        external_server_key_shares_backup_info: { password_encrypted: false, backups: { google_drive: [{ key_share_id: "k2", note: marker }], i_cloud: [] } },
      }),
    );
    try {
      await sync();
      expect(await row(node)).toMatchObject({
        backupInfo: { passwordEncrypted: true, backups: { dynamic: 2, user: 1 } },
        backupLocations: ["dynamic", "user"],
        backedUpAnywhere: true,
        passwordEncrypted: true,
      });
      expect(await row(rust)).toMatchObject({
        backupInfo: { passwordEncrypted: false, backups: { googleDrive: 1, iCloud: 0 } },
        backupLocations: ["googleDrive"],
        backedUpAnywhere: true,
      });
      expect(await tablesContaining(t.db, marker)).toEqual([]);
    } finally {
      await redis.del(`${prefix}${node}`, `${prefix}${rust}`);
    }
  });

  it("flags wallets whose cache entry carries plaintext key shares, counts them, and keeps, logs and shows none of them", async () => {
    const marker = `PLAINTEXT-SHARE-${randomBytes(12).toString("hex")}`;
    const node = evm();
    const rust = `So1${randomBytes(16).toString("hex")}`;
    const broken = evm();
    const empty = evm();
    const keys = { node: `${prefix}${node}`, rust: `${prefix}${rust}`, broken: `${prefix}${broken}`, empty: `${prefix}${empty}` };
    // The Node SDK's object cached as is; the Rust SDK's serde form; an otherwise invalid document; an empty field.
    await redis.set(keys.node, JSON.stringify(camel(node, { externalServerKeyShares: [{ keyShare: marker, index: 0 }] })));
    await redis.set(keys.rust, JSON.stringify({ ...snake(rust), external_server_key_shares: [marker] }));
    await redis.set(keys.broken, JSON.stringify({ accountAddress: broken, externalServerKeyShares: marker }));
    await redis.set(keys.empty, JSON.stringify(camel(empty, { externalServerKeyShares: [] })));
    const lines: string[] = [];
    const logger = createLogger({
      level: "debug",
      destination: new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    });
    const deadVault = createVaultClient({ addr: "http://127.0.0.1:9", token: "x", retries: 0 });
    try {
      const s = await sync({ logger });
      expect(s.plaintextSharesInCache).toBe(3);
      expect(new Set(s.plaintextSharesSamples)).toEqual(new Set([keys.node, keys.rust, keys.broken]));
      expect(s.malformed.schema_violation).toBe(1);
      expect(await row(node)).toMatchObject({ plaintextSharesInCache: true, chainName: "EVM" });
      expect(await row(rust)).toMatchObject({ plaintextSharesInCache: true, chainName: "SVM" });
      expect(await row(empty)).toMatchObject({ plaintextSharesInCache: false });

      const [event] = await t.db
        .select()
        .from(auditEvents)
        .where(eq(auditEvents.action, "inventory.sync.redis"))
        .orderBy(sql`${auditEvents.seq} desc`)
        .limit(1);
      expect(event!.details).toMatchObject({ plaintextSharesInCache: 3 });

      // The read table, the Wallets flag filter and the Overview counter.
      expect(
        rowsOf<{ account_address: string; plaintext_in_cache: boolean }>(
          await t.db.execute(sql`select account_address, plaintext_in_cache from inventory_wallets
                                 where account_address in (${node}, ${rust}, ${empty}) order by account_address`),
        ),
      ).toEqual(
        [
          { account_address: node, plaintext_in_cache: true },
          { account_address: rust, plaintext_in_cache: true },
          { account_address: empty, plaintext_in_cache: false },
        ].sort((x, y) => (x.account_address < y.account_address ? -1 : 1)),
      );
      const page = await listInventory(t.db, parseInventoryParams({ flag: "plaintext_in_cache" }), { environmentMapping: {}, latestVersions: null });
      expect(page.rows.map((r) => r.accountAddress).sort()).toEqual([node, rust].sort());
      expect(page.rows.every((r) => r.flags.plaintextInCache)).toBe(true);
      const overview = await getOverviewFigures(t.db, deadVault, { policy: { maxAgeDays: 90, environmentMapping: {} } });
      expect(overview.risk.plaintextSharesInCache).toBe(2);

      // Only the count and keys reach the log, once per run.
      const warnings = lines.filter((l) => l.includes("plaintext key shares"));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, plaintextSharesInCache: 3 });
      for (const text of [lines.join("\n"), JSON.stringify(s), JSON.stringify(overview), JSON.stringify(page)]) expect(text).not.toContain(marker);
      expect(await tablesContaining(t.db, marker)).toEqual([]);

      // The backend stops caching them: the next run clears the flag.
      await redis.set(keys.node, JSON.stringify(camel(node)));
      await redis.del(keys.broken);
      const again = await sync({ logger });
      expect(again.plaintextSharesInCache).toBe(1);
      expect(await row(node)).toMatchObject({ plaintextSharesInCache: false });
      expect((await getOverviewFigures(t.db, deadVault, { policy: { maxAgeDays: 90, environmentMapping: {} } })).risk.plaintextSharesInCache).toBe(1);
    } finally {
      deadVault.close();
      await redis.del(...Object.values(keys));
    }
  });

  it("writes one audit event per run", async () => {
    const count = async () =>
      (await t.db.select({ n: sql<number>`count(*)::int` }).from(auditEvents).where(eq(auditEvents.action, "inventory.sync.redis")))[0]!.n;
    const before = await count();
    await sync();
    await sync();
    expect(await count()).toBe(before + 2);
  });

  it("records a failure event and rethrows when Redis fails mid-run", async () => {
    const broken = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 });
    await broken.connect();
    vi.spyOn(broken, "mget").mockRejectedValueOnce(new Error("connection lost"));
    await expect(syncWalletPropertiesFromRedis({ redis: broken, db: t.db, keyPrefix: prefix })).rejects.toThrow("connection lost");
    broken.disconnect();
    const [event] = await t.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "inventory.sync.redis"), eq(auditEvents.outcome, "failure")));
    expect(event?.details).toMatchObject({ complete: false });
  });

  it("syncs 20k keys in bounded batches with SCAN (never KEYS), and resumes from a cursor", async () => {
    const bulk = `${ns}bulk:wallet:`;
    const N = 20_000;
    const addresses = Array.from({ length: N }, () => evm());
    for (let i = 0; i < N; i += 2000) {
      const args: string[] = [];
      for (const a of addresses.slice(i, i + 2000)) args.push(`${bulk}${a}`, JSON.stringify(i % 4000 === 0 ? camel(a) : snake(a)));
      await redis.mset(...args);
    }
    // Noise that MATCH must skip: other prefixes, a glob-looking neighbour.
    await redis.set(`${ns}bulk:walletX${evm()}`, "{}");

    const keysSpy = vi.spyOn(redis, "keys");
    const mgetSpy = vi.spyOn(redis, "mget");
    const controller = new AbortController();
    const first = await syncWalletPropertiesFromRedis({
      redis,
      db: t.db,
      keyPrefix: bulk,
      scanCount: 1000,
      signal: controller.signal,
      onBatch: (s) => {
        if (s.scanned >= 5000) controller.abort();
      },
    });
    expect(first.complete).toBe(false);
    expect(first.cursor).not.toBe("0");

    const started = performance.now();
    const rest: RedisSyncSummary = await syncWalletPropertiesFromRedis({ redis, db: t.db, keyPrefix: bulk, scanCount: 1000, cursor: first.cursor });
    const seconds = (performance.now() - started) / 1000;
    expect(rest.complete).toBe(true);
    expect(keysSpy).not.toHaveBeenCalled();
    const batchSizes = mgetSpy.mock.calls.map((c) => (c[0] as unknown as string[]).length);
    // COUNT is a hint: Redis may return somewhat more, never the whole keyspace.
    expect(Math.max(...batchSizes)).toBeLessThanOrEqual(3000);
    expect(batchSizes.length).toBeGreaterThanOrEqual(10);
    // Together the two runs cover every key (SCAN guarantees keys present throughout are returned).
    const [{ n }] = (await t.db
      .select({ n: sql<number>`count(*)::int` })
      .from(walletProperties)
      .where(
        and(like(walletProperties.walletId, "w-%"), sql`${walletProperties.accountAddress} in (select jsonb_array_elements_text(${JSON.stringify(addresses)}::jsonb))`),
      )) as [{ n: number }];
    expect(n).toBe(N);
    expect(first.inserted + rest.inserted).toBe(N);
    console.log(`[redis-sync ${backend.name}] ${rest.scanned} keys in ${seconds.toFixed(2)} s (${Math.round(rest.scanned / seconds)} keys/s)`);

    const again = await syncWalletPropertiesFromRedis({ redis, db: t.db, keyPrefix: bulk, audit: false });
    expect(again).toMatchObject({ scanned: N, upserted: 0, unchanged: N });
    console.log(`[redis-sync ${backend.name}] unchanged re-run: ${N} keys in ${again.durationMs} ms`);
    keysSpy.mockRestore();
    mgetSpy.mockRestore();
  }, 120_000);

  it("runs under the advisory lock; a second instance skips while one holds it", async () => {
    if (t.kind === "postgres") {
      const lock1 = postgresAdvisoryLock(t.url!, 424242n);
      const lock2 = postgresAdvisoryLock(t.url!, 424242n);
      try {
        let release!: () => void;
        let entered!: () => void;
        const inside = new Promise<void>((r) => (entered = r));
        const held = lock1.run(
          () =>
            new Promise<string>((r) => {
              release = () => r("done");
              entered();
            }),
        );
        await inside;
        expect(await lock2.run(async () => "second")).toEqual({ locked: false });
        release();
        expect(await held).toEqual({ locked: true, value: "done" });
        expect(await lock2.run(async () => "second")).toEqual({ locked: true, value: "second" });
      } finally {
        await lock1.close();
        await lock2.close();
      }
    }
    // The job's one-shot run: connects with a URL, syncs, disconnects.
    const lock = t.kind === "postgres" ? postgresAdvisoryLock(t.url!) : sessionAdvisoryLock(t.db);
    try {
      const own = evm();
      await redis.set(`${prefix}${own}`, JSON.stringify(camel(own)));
      const result = await runRedisSyncOnce(lock, t.db, REDIS_URL, { keyPrefix: prefix });
      expect(result).toMatchObject({ complete: true });
      expect(await row(own)).toMatchObject({ source: "redis" });
      expect(result !== "skipped" && result.scanned).toBeGreaterThan(0);
    } finally {
      await lock.close();
    }
  });
});
