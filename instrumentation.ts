/**
 * Next.js calls `register()` once per server instance at start. Background work that every instance may
 * run — guarded so only one does at a time — is scheduled here.
 *
 * It also validates the configuration first, so a misconfigured instance never starts serving.
 *
 * Only in the Node.js runtime (the edge runtime has no sockets for Redis or PostgreSQL). Nothing here may throw:
 * a background job that cannot start is logged and the console still serves.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  // Configuration is checked at start, not on the first request: a production instance missing a setting,
  // or about to use a dev component, stops here with a message naming each problem.
  const { getConfig, ConfigError } = await import("./lib/config/env");
  try {
    getConfig();
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : "Keyshare Console configuration could not be read.");
    process.exit(1);
  }
  try {
    const { startRedisSyncSchedule } = await import("./lib/ingest/redis-sync-job");
    startRedisSyncSchedule();
  } catch (err) {
    console.error("background jobs not started:", err instanceof Error ? err.message : "unknown error");
  }
}
