import "server-only";
import { Redis } from "ioredis";
import type { Db } from "@/lib/db/client";
import { defineJob, type IntervalJob } from "@/lib/jobs/define";
import {
  postgresAdvisoryLock as postgresLock,
  sessionAdvisoryLock as sessionLock,
  type AdvisoryLock,
} from "@/lib/jobs/lock";
import { syncWalletPropertiesFromRedis, type RedisSyncSummary } from "./redis-sync";

export type { AdvisoryLock } from "@/lib/jobs/lock";

/**
 * The periodic Redis sync as a background job (lib/jobs; registered when REDIS_URL is set). With N processes
 * on one PostgreSQL only one syncs at a time: the job is single-instance under REDIS_SYNC_LOCK_ID, which
 * `npm run sync:redis` takes too, so a manual run never overlaps the periodic one. A failing run is logged
 * by the runner and retried next interval. Stopping the runner aborts the scan at the next batch; the run
 * then records an incomplete sync and the next one starts over (the upsert is idempotent).
 */

/** Arbitrary, fixed: the advisory lock id of the Redis sync (ASCII "ks-redis" as a signed 64-bit int). */
export const REDIS_SYNC_LOCK_ID = 0x6b732d7265646973n;

/** The Redis sync's lock on its own PostgreSQL connection (`npm run sync:redis`, tests). */
export function postgresAdvisoryLock(url: string, lockId: bigint = REDIS_SYNC_LOCK_ID): AdvisoryLock {
  return postgresLock(url, lockId);
}

/** The Redis sync's lock on PGlite. */
export function sessionAdvisoryLock(db: Db, lockId: bigint = REDIS_SYNC_LOCK_ID): AdvisoryLock {
  return sessionLock(db, lockId);
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

/** Connects, syncs, disconnects. */
async function syncOnce(db: Db, redisUrl: string, options: { keyPrefix?: string; signal?: AbortSignal }): Promise<RedisSyncSummary> {
  const redis = createRedisClient(redisUrl);
  // ioredis reports connection errors as events as well as rejections; without a listener they are printed raw.
  redis.on("error", () => {});
  try {
    await redis.connect();
    return await syncWalletPropertiesFromRedis({ redis, db, keyPrefix: options.keyPrefix, signal: options.signal });
  } finally {
    redis.disconnect();
  }
}

/** One guarded run outside the job runner: skipped when another instance holds the lock. */
export async function runRedisSyncOnce(
  lock: AdvisoryLock,
  db: Db,
  redisUrl: string,
  options: { keyPrefix?: string } = {},
): Promise<RedisSyncSummary | "skipped"> {
  const outcome = await lock.run((lost) => syncOnce(db, redisUrl, { ...options, signal: lost }));
  return outcome.locked ? outcome.value : "skipped";
}

export function redisSyncJob(options: { redisUrl: string; intervalMs: number; keyPrefix?: string }): IntervalJob {
  return defineJob({
    name: "redis-sync",
    kind: "interval",
    intervalMs: options.intervalMs,
    initialDelayMs: Math.min(15_000, options.intervalMs),
    singleInstance: REDIS_SYNC_LOCK_ID,
    async run({ db, signal, logger }) {
      const s = await syncOnce(db, options.redisUrl, { keyPrefix: options.keyPrefix, signal });
      const { scanned, upserted, unchanged, malformed, vanished, plaintextSharesInCache, durationMs, complete } = s;
      logger.info({ scanned, upserted, unchanged, malformed, vanished, plaintextSharesInCache, durationMs, complete }, complete ? "redis sync done" : "redis sync stopped early");
    },
  });
}
