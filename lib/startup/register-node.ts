import { ConfigError, getConfig, type Config } from "@/lib/config/env";

/**
 * Server start in the Node.js runtime (called from instrumentation.ts). Configuration is checked here, not on
 * the first request: a production instance missing a setting, or about to use a dev component, exits with a
 * message naming each problem. Then the background jobs (lib/jobs) start in this process, unless production
 * leaves them to `npm run worker` (KEYSHARE_RUN_JOBS_IN_WEB=false); a job that cannot start is logged and the
 * console still serves. SIGTERM/SIGINT stop the jobs gracefully before the server shuts down.
 */
export async function registerNode(): Promise<void> {
  let cfg: Config;
  try {
    cfg = getConfig();
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : "Keyshare Console configuration could not be read.");
    process.exit(1);
  }
  await startBackgroundJobs(cfg);
}

async function startBackgroundJobs(cfg: Config): Promise<void> {
  const { logger } = await import("@/lib/log");
  // PGlite is one process: nothing else can open the database, so its jobs can only run here.
  const embedded = cfg.database.kind === "pglite";
  if (!cfg.jobs.runInWeb) {
    if (!embedded) {
      logger.info("background jobs are not run in this process (KEYSHARE_RUN_JOBS_IN_WEB=false): run `npm run worker`");
      return;
    }
    logger.warn("KEYSHARE_RUN_JOBS_IN_WEB=false is ignored with the embedded database: its jobs run in the console process");
  }
  try {
    const { resolveJobs, startProcessJobs, stopJobsOnSignals, stopProcessJobs } = await import("@/lib/jobs");
    const { jobs, off } = resolveJobs(cfg);
    for (const { name, reason } of off) logger.info({ job: name, reason }, "background job off");
    const { started } = startProcessJobs(jobs);
    // A dev-mode reload finds the runner already started, and its signal hook already installed.
    if (started) stopJobsOnSignals(() => stopProcessJobs({ timeoutMs: cfg.jobs.shutdownTimeoutMs }));
  } catch (err) {
    const { describeError } = await import("@/lib/jobs/describe-error");
    logger.error({ err: describeError(err) }, "background jobs not started");
  }
}
