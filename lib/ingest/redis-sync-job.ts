import "server-only";
import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import postgres from "postgres";
import { getConfig } from "@/lib/config/env";
import { getDbHandle, rowsOf, sanitizeDbError, type Db } from "@/lib/db/client";
import { logger } from "@/lib/log";
import { syncWalletPropertiesFromRedis, type RedisSyncSummary } from "./redis-sync";

/**
 * The periodic in-app Redis sync (issue 4): started from `instrumentation.ts` when REDIS_URL is set.
 *
 * With N app instances on one PostgreSQL only one syncs at a time: each run first takes a session-level
 * advisory lock with `pg_try_advisory_lock` and skips the round when another instance holds it. The lock lives
 * on a dedicated one-connection client so lock and unlock run in the same session (a pooled client could
 * unlock on another connection); if the instance dies mid-run its connection closes and PostgreSQL releases
 * the lock. PGlite is single-process, so there the in-process `running` flag is the whole story.
 *
 * A failing run is logged (redacting logger) and retried next interval; it never crashes the server.
 */

/** Arbitrary, fixed: the advisory lock id of the Redis sync (ASCII "ks-redis" as a signed 64-bit int). */
export const REDIS_SYNC_LOCK_ID = 0x6b732d7265646973n;

export interface AdvisoryLock {
  /** Runs `fn` while holding the lock; resolves `{ locked: false }` without running it when the lock is taken. */
  run<T>(fn: () => Promise<T>): Promise<{ locked: true; value: T } | { locked: false }>;
  close(): Promise<void>;
}

/** Session-level advisory lock on its own PostgreSQL connection. */
export function postgresAdvisoryLock(url: string, lockId: bigint = REDIS_SYNC_LOCK_ID): AdvisoryLock {
  const client = postgres(url, {
    max: 1,
    idle_timeout: 60,
    onnotice: () => {},
    connection: { application_name: "keyshare-console-lock" },
  });
  return {
    async run(fn) {
      const conn = await client.reserve();
      try {
        const [row] = await conn`select pg_try_advisory_lock(${lockId.toString()}::bigint) as locked`;
        if (!row?.locked) return { locked: false };
        try {
          return { locked: true, value: await fn() };
        } finally {
          await conn`select pg_advisory_unlock(${lockId.toString()}::bigint)`.catch(() => undefined);
        }
      } finally {
        conn.release();
      }
    },
    close: () => client.end({ timeout: 5 }),
  };
}

/** PGlite has one session: the lock still guards against anything else taking it in that session. */
export function sessionAdvisoryLock(db: Db, lockId: bigint = REDIS_SYNC_LOCK_ID): AdvisoryLock {
  return {
    async run(fn) {
      const [row] = rowsOf<{ locked: boolean }>(await db.execute(sql`select pg_try_advisory_lock(${lockId.toString()}::bigint) as locked`));
      if (!row?.locked) return { locked: false };
      try {
        return { locked: true, value: await fn() };
      } finally {
        await db.execute(sql`select pg_advisory_unlock(${lockId.toString()}::bigint)`).catch(() => undefined);
      }
    },
    close: async () => {},
  };
}

export function createRedisClient(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    connectTimeout: 5_000,
    maxRetriesPerRequest: 2,
    // A run that cannot reach Redis should fail and be retried next interval, not queue commands forever.
    enableOfflineQueue: false,
    retryStrategy: (times) => (times > 3 ? null : Math.min(times * 200, 1_000)),
  });
}

/** One guarded run with the app's configuration: connects, syncs, disconnects. */
export async function runRedisSyncOnce(
  lock: AdvisoryLock,
  db: Db,
  redisUrl: string,
  options: { keyPrefix?: string } = {},
): Promise<RedisSyncSummary | "skipped"> {
  const outcome = await lock.run(async () => {
    const redis = createRedisClient(redisUrl);
    // ioredis reports connection errors as events as well as rejections; without a listener they are printed raw.
    redis.on("error", () => {});
    try {
      await redis.connect();
      return await syncWalletPropertiesFromRedis({ redis, db, keyPrefix: options.keyPrefix });
    } finally {
      redis.disconnect();
    }
  });
  return outcome.locked ? outcome.value : "skipped";
}

interface Scheduler {
  timer?: NodeJS.Timeout;
  running: boolean;
  lock?: AdvisoryLock;
}
const SLOT = Symbol.for("keyshare-console.redis-sync-job");
const holder = globalThis as unknown as { [SLOT]?: Scheduler };

/**
 * Schedules the sync every `redisSyncIntervalSeconds` (first run shortly after start). Idempotent: a second call
 * (dev-mode reload) keeps the first schedule. Returns false when REDIS_URL is not set.
 */
export function startRedisSyncSchedule(): boolean {
  let cfg;
  try {
    cfg = getConfig();
  } catch (err) {
    logger.error({ err: err instanceof Error ? err.message : "invalid configuration" }, "redis sync not scheduled");
    return false;
  }
  const redisUrl = cfg.redisUrl;
  if (!redisUrl) return false;
  if (holder[SLOT]) return true;
  const state: Scheduler = { running: false };
  holder[SLOT] = state;
  const intervalMs = cfg.redisSyncIntervalSeconds * 1000;
  const database = cfg.database;

  const tick = async () => {
    if (state.running) return;
    state.running = true;
    try {
      const { db } = await getDbHandle();
      state.lock ??= database.kind === "postgres" ? postgresAdvisoryLock(database.url) : sessionAdvisoryLock(db);
      const result = await runRedisSyncOnce(state.lock, db, redisUrl);
      if (result === "skipped") logger.debug("redis sync skipped: another instance holds the lock");
      else {
        const { scanned, upserted, unchanged, malformed, vanished, plaintextSharesInCache, durationMs } = result;
        logger.info({ scanned, upserted, unchanged, malformed, vanished, plaintextSharesInCache, durationMs }, "redis sync done");
      }
    } catch (err) {
      logger.error({ err: describeError(err) }, "redis sync failed; retrying next interval");
    } finally {
      state.running = false;
      state.timer = setTimeout(() => void tick(), intervalMs);
      state.timer.unref();
    }
  };
  state.timer = setTimeout(() => void tick(), Math.min(15_000, intervalMs));
  state.timer.unref();
  logger.info({ intervalSeconds: cfg.redisSyncIntervalSeconds }, "redis sync scheduled");
  return true;
}

export async function stopRedisSyncSchedule(): Promise<void> {
  const state = holder[SLOT];
  if (!state) return;
  delete holder[SLOT];
  clearTimeout(state.timer);
  await state.lock?.close();
}

/** Name and message only: a database error passes through sanitizeDbError (Drizzle lists parameters). */
function describeError(err: unknown): { name: string; message: string; code?: string } {
  const e = err instanceof Error && /Drizzle|Postgres|Database/i.test(err.name) ? sanitizeDbError(err) : err;
  if (e instanceof Error) return { name: e.name, message: e.message, code: (e as { code?: string }).code };
  return { name: "unknown", message: "non-error thrown" };
}
