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
  // Each job on its own: one that cannot start does not keep the others from starting.
  const jobs: [string, () => Promise<unknown>][] = [
    ["redis sync", async () => (await import("@/lib/ingest/redis-sync-job")).startRedisSyncSchedule()],
    ["session sweeper", async () => (await import("@/lib/auth/session-sweeper")).startSessionSweeper()],
  ];
  for (const [name, start] of jobs) {
    try {
      await start();
    } catch (err) {
      console.error(`background job "${name}" not started:`, err instanceof Error ? err.message : "unknown error");
    }
  }
}
