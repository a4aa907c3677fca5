import { randomBytes } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents, walletProperties } from "@/lib/db/schema";
import { testBackends, type TestDb } from "@/lib/db/testing";
import { startJobs, type LockBackend } from "@/lib/jobs/runner";
import { captureLogger, waitFor } from "@/lib/jobs/testing";
import { escapeGlob } from "./redis-sync";
import { REDIS_SYNC_LOCK_ID, redisSyncJob } from "./redis-sync-job";

/** The Redis sync as a background job: real Redis (DB 15, a random key prefix), PGlite and PostgreSQL. */
const REDIS_URL = process.env.REDIS_TEST_URL ?? "redis://127.0.0.1:6379/15";
const evm = () => `0x${randomBytes(20).toString("hex")}`;
const entry = (address: string) =>
  JSON.stringify({ walletId: `w-${address.slice(2, 14)}`, accountAddress: address, chainName: "EVM", thresholdSignatureScheme: "TWO_OF_TWO", derivationPath: "m/44'/60'/0'/0/0" });

let redis: Redis;
const ns = `kstest-job-${randomBytes(6).toString("hex")}:`;
beforeAll(async () => {
  redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
});
afterAll(async () => {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${escapeGlob(ns)}*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== "0");
  redis.disconnect();
});

describe.each(testBackends())("Redis sync job on $name", (backend) => {
  let t: TestDb;
  let locks: LockBackend;
  beforeAll(async () => {
    t = await backend.create();
    locks = t.kind === "postgres" ? { kind: "postgres", url: t.url! } : { kind: "session" };
  });
  afterAll(() => t?.close());

  it("is single-instance under the lock npm run sync:redis takes, and syncs through the runner", async () => {
    const prefix = `${ns}${backend.name}:a:wallet:`;
    const address = evm();
    await redis.set(`${prefix}${address}`, entry(address));
    const job = redisSyncJob({ redisUrl: REDIS_URL, intervalMs: 300_000, keyPrefix: prefix });
    expect(job).toMatchObject({ name: "redis-sync", singleInstance: REDIS_SYNC_LOCK_ID, intervalMs: 300_000, initialDelayMs: 15_000 });

    const log = captureLogger();
    const h = startJobs([{ ...job, initialDelayMs: 0 }], { db: t.db, locks, logger: log.logger });
    await waitFor(() => h.status()[0]!.lastFinishedAt !== undefined, 15_000, "one run");
    await h.stop();
    expect(h.status()[0]).toMatchObject({ runs: 1, failures: 0 });
    const [row] = await t.db.select().from(walletProperties).where(eq(walletProperties.accountAddress, address));
    expect(row).toMatchObject({ source: "redis" });
    const done = log.messages().find((m) => m.msg === "redis sync done") as unknown as { job: string; scanned: number; complete: boolean };
    expect(done).toMatchObject({ job: "redis-sync", scanned: 1, complete: true });
  });

  it("stopping the runner stops a sync in progress at the next batch, recorded as incomplete", async () => {
    const prefix = `${ns}${backend.name}:b:wallet:`;
    const N = 5_000;
    for (let i = 0; i < N; i += 1_000) {
      const args: string[] = [];
      for (let j = 0; j < 1_000; j++) {
        const a = evm();
        args.push(`${prefix}${a}`, entry(a));
      }
      await redis.mset(...args);
    }
    const log = captureLogger();
    const h = startJobs([{ ...redisSyncJob({ redisUrl: REDIS_URL, intervalMs: 300_000, keyPrefix: prefix }), initialDelayMs: 0 }], {
      db: t.db,
      locks,
      logger: log.logger,
    });
    await waitFor(() => h.status()[0]!.running, 15_000, "the sync running");
    expect(await h.stop({ timeoutMs: 30_000 })).toEqual({ finished: true, unfinished: [] });
    const stopped = log.messages().find((m) => m.msg === "redis sync stopped early") as unknown as { scanned: number; complete: boolean };
    expect(stopped).toMatchObject({ complete: false });
    expect(stopped.scanned).toBeLessThan(N);
    const [event] = await t.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, "inventory.sync.redis"), sql`${auditEvents.details}->>'complete' = 'false'`));
    expect(event).toBeDefined();
  }, 60_000);
});
