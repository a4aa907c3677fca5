/**
 * Next.js calls `register()` once per server instance at start. Background work that every instance may
 * run — guarded so only one does at a time — is scheduled here.
 *
 * Only in the Node.js runtime (the edge runtime has no sockets for Redis or PostgreSQL). Nothing here may throw:
 * a background job that cannot start is logged and the console still serves.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  try {
    const { startRedisSyncSchedule } = await import("./lib/ingest/redis-sync-job");
    startRedisSyncSchedule();
  } catch (err) {
    console.error("background jobs not started:", err instanceof Error ? err.message : "unknown error");
  }
}
