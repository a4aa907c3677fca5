import { afterEach, describe, expect, it, vi } from "vitest";

/**
 * Which processes run the background jobs (DESIGN §3): the console always with the embedded database, and in
 * production unless KEYSHARE_RUN_JOBS_IN_WEB=false. Each case loads the modules afresh so that the
 * configuration is read from that case's environment; no job runs (their first runs are seconds away).
 */
async function boot(env: Record<string, string>) {
  vi.resetModules();
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  const before = { SIGTERM: process.listeners("SIGTERM"), SIGINT: process.listeners("SIGINT") };
  const { registerNode } = await import("./register-node");
  await registerNode();
  const jobs = await import("@/lib/jobs/process");
  return {
    names: jobs.processJobs()?.names,
    hooked: process.listeners("SIGTERM").length === 1 && !before.SIGTERM.includes(process.listeners("SIGTERM")[0]!),
    async cleanup() {
      await jobs.stopProcessJobs({ timeoutMs: 1_000 });
      for (const signal of ["SIGTERM", "SIGINT"] as const) {
        process.removeAllListeners(signal);
        for (const l of before[signal]) process.on(signal, l);
      }
    },
  };
}

describe("registerNode starts the background jobs", () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
    vi.unstubAllEnvs();
  });

  it("in the console with the embedded database, and hooks SIGTERM/SIGINT to stop them", async () => {
    const b = await boot({ NODE_ENV: "test", DATABASE_URL: "", REDIS_URL: "" });
    cleanup = b.cleanup;
    expect(b.names).toEqual(["session-sweeper", "audit-checkpoint", "rewrap-campaigns"]);
    expect(b.hooked).toBe(true);
  });

  it("in a production-style web instance by default", async () => {
    const b = await boot({ NODE_ENV: "test", DATABASE_URL: "postgres://nobody@127.0.0.1:1/none", REDIS_URL: "redis://127.0.0.1:6379" });
    cleanup = b.cleanup;
    expect(b.names).toEqual(["redis-sync", "session-sweeper", "audit-checkpoint", "rewrap-campaigns"]);
  });

  it("not in a web instance with KEYSHARE_RUN_JOBS_IN_WEB=false: the workers run them", async () => {
    const b = await boot({ NODE_ENV: "test", DATABASE_URL: "postgres://nobody@127.0.0.1:1/none", KEYSHARE_RUN_JOBS_IN_WEB: "false" });
    cleanup = b.cleanup;
    expect(b.names).toBeUndefined();
    expect(b.hooked).toBe(false);
  });

  it("always with the embedded database, even with KEYSHARE_RUN_JOBS_IN_WEB=false (nothing else can open it)", async () => {
    const b = await boot({ NODE_ENV: "test", DATABASE_URL: "", REDIS_URL: "", KEYSHARE_RUN_JOBS_IN_WEB: "false" });
    cleanup = b.cleanup;
    expect(b.names).toEqual(["session-sweeper", "audit-checkpoint", "rewrap-campaigns"]);
  });
});
