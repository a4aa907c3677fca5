/**
 * `npm run sync:redis [-- --prefix wallet: --count 1000 --json]`
 *
 * Imports WalletProperties from the Redis cache (REDIS_URL, keys `wallet:{accountAddress}`) into the configured
 * database (DATABASE_URL, or PGlite under DATA_DIR — not while the console has that folder open). Takes the
 * same advisory lock as the in-app periodic job, so it never runs alongside it. Prints a summary; exit code 1
 * when the run failed, 3 when another instance holds the lock. Malformed entries are reported, not fatal.
 */
import "./lib/server-only-hook";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    prefix: { type: "string", default: "wallet:" },
    count: { type: "string", default: "1000" },
    json: { type: "boolean", default: false },
  },
});
const scanCount = Number(args.count);
if (!Number.isInteger(scanCount) || scanCount <= 0) {
  console.error("--count must be a positive integer");
  process.exit(2);
}

const { getConfig } = await import("../lib/config/env");
const { createDb } = await import("../lib/db");
const { syncWalletPropertiesFromRedis } = await import("../lib/ingest/redis-sync");
const { createRedisClient, postgresAdvisoryLock, sessionAdvisoryLock } = await import("../lib/ingest/redis-sync-job");

const config = getConfig();
if (!config.redisUrl) {
  console.error("REDIS_URL is not set: nothing to sync from (e.g. REDIS_URL=redis://127.0.0.1:6379).");
  process.exit(2);
}
const handle = await createDb(config.database);
const lock = config.database.kind === "postgres" ? postgresAdvisoryLock(config.database.url) : sessionAdvisoryLock(handle.db);
const redis = createRedisClient(config.redisUrl);
redis.on("error", () => {});
let exitCode = 0;
try {
  await redis.connect();
  let lastReport = Date.now();
  const outcome = await lock.run(() =>
    syncWalletPropertiesFromRedis({
      redis,
      db: handle.db,
      keyPrefix: args.prefix,
      scanCount,
      onBatch: (s) => {
        if (args.json || Date.now() - lastReport < 2_000) return;
        lastReport = Date.now();
        process.stderr.write(`  … ${s.scanned} keys scanned, ${s.upserted} upserted, ${s.unchanged} unchanged\n`);
      },
    }),
  );
  if (!outcome.locked) {
    console.error("Another instance is syncing Redis right now (advisory lock held); try again later.");
    exitCode = 3;
  } else {
    const s = outcome.value;
    const { malformedSamples, ...counts } = s;
    if (args.json) console.log(JSON.stringify(s));
    else {
      const malformedTotal = Object.values(s.malformed).reduce((a, b) => a + (b ?? 0), 0);
      console.log(
        `Redis sync: ${s.scanned} keys scanned, ${s.upserted} upserted (${s.inserted} new, ${s.updated} changed), ` +
          `${s.unchanged} unchanged, ${malformedTotal} malformed, ${s.vanished} vanished in ${(s.durationMs / 1000).toFixed(1)} s ` +
          `(${Math.round(s.scanned / Math.max(s.durationMs / 1000, 0.001))} keys/s).`,
      );
      for (const [reason, n] of Object.entries(counts.malformed)) {
        console.log(`  malformed ${reason}: ${n}  e.g. ${(malformedSamples[reason as keyof typeof malformedSamples] ?? []).join(", ")}`);
      }
    }
  }
} catch (err) {
  const { sanitizeDbError } = await import("../lib/db");
  const e = err instanceof Error && /Drizzle/.test(err.name) ? sanitizeDbError(err) : err;
  console.error(`Redis sync failed: ${e instanceof Error ? e.message : String(e)}`);
  exitCode = 1;
} finally {
  redis.disconnect();
  await lock.close();
  await handle.close();
}
process.exit(exitCode);
