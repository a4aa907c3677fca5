import { ConfigError, getConfig } from "@/lib/config/env";

/**
 * Server start in the Node.js runtime (called from instrumentation.ts). Configuration is checked here, not on
 * the first request: a production instance missing a setting, or about to use a dev component, exits with a
 * message naming each problem. Background work that every instance may run — guarded so only one does at a
 * time — is scheduled after that; a job that cannot start is logged and the console still serves.
 */
export async function registerNode(): Promise<void> {
  try {
    getConfig();
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : "Keyshare Console configuration could not be read.");
    process.exit(1);
  }
  try {
    const { startRedisSyncSchedule } = await import("@/lib/ingest/redis-sync-job");
    startRedisSyncSchedule();
    const { startSessionSweeper } = await import("@/lib/auth/session-sweeper");
    startSessionSweeper();
  } catch (err) {
    console.error("background jobs not started:", err instanceof Error ? err.message : "unknown error");
  }
}
