/**
 * `npm run worker [-- --jobs redis-sync,session-sweeper]`
 *
 * Runs Keyshare Console's background jobs (lib/jobs/registry.ts) outside the web process, for production:
 * same configuration as the console (DATABASE_URL required; the embedded PGlite database is one process, so
 * in embedded mode the jobs run inside the console instead). Any number of workers and console instances may
 * run against one PostgreSQL: single-instance jobs take an advisory lock. Logs one "worker ready" line once the
 * jobs are scheduled. SIGTERM/SIGINT stop the jobs gracefully: running jobs get up to WORKER_SHUTDOWN_TIMEOUT_MS
 * (default 30 s) to finish, then the process exits 0. A second signal exits at once.
 *
 * Exit codes: 0 stopped by a signal, 1 configuration problem, 2 bad arguments.
 */
import "./lib/server-only-hook";
import { parseArgs } from "node:util";

let args;
try {
  ({ values: args } = parseArgs({ options: { jobs: { type: "string" }, help: { type: "boolean", default: false } } }));
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(2);
}

const { ConfigError, getConfig } = await import("../lib/config/env");
const { JOBS, resolveJobs, startProcessJobs, stopProcessJobs, UnknownJobError } = await import("../lib/jobs");

if (args.help) {
  console.log("Usage: npm run worker [-- --jobs name,name]\n\nJobs:");
  for (const entry of JOBS) console.log(`  ${entry.name.padEnd(18)} ${entry.description}`);
  process.exit(0);
}

let config;
try {
  config = getConfig();
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : "Keyshare Console configuration could not be read.");
  process.exit(1);
}
if (config.database.kind !== "postgres") {
  console.error(
    "npm run worker needs DATABASE_URL (PostgreSQL). Without it the console uses the embedded PGlite database, " +
      "which only one process can open: in embedded mode the background jobs run inside the console (npm start).",
  );
  process.exit(1);
}

const only = args.jobs
  ?.split(",")
  .map((s) => s.trim())
  .filter(Boolean);
if (only && only.length === 0) {
  console.error("--jobs needs at least one job name");
  process.exit(2);
}
let resolved;
try {
  resolved = resolveJobs(config, { only });
} catch (err) {
  if (!(err instanceof UnknownJobError)) throw err;
  console.error(`--jobs: ${err.message}`);
  process.exit(2);
}
if (only && resolved.off.length > 0) {
  for (const { name, reason } of resolved.off) console.error(`--jobs: ${name} is off in this configuration: ${reason}`);
  process.exit(1);
}
if (resolved.jobs.length === 0) {
  console.error("No background job could be started (see the log above).");
  process.exit(1);
}

const { logger } = await import("../lib/log");
const { closeDb } = await import("../lib/db");
for (const { name, reason } of resolved.off) logger.info({ job: name, reason }, "background job off");
const { handle } = startProcessJobs(resolved.jobs, { keepProcessAlive: true });

let stopping = false;
const shutdown = async (signal: NodeJS.Signals) => {
  if (stopping) {
    logger.warn({ signal }, "worker: second signal, exiting without waiting for running jobs");
    process.exit(1);
  }
  stopping = true;
  const timeoutMs = config.jobs.shutdownTimeoutMs;
  logger.info({ signal, timeoutMs }, "worker stopping");
  const result = await stopProcessJobs({ timeoutMs });
  await closeDb().catch(() => undefined);
  logger.info({ unfinished: result.unfinished }, "worker stopped");
  process.exit(0);
};
process.on("SIGTERM", (s) => void shutdown(s));
process.on("SIGINT", (s) => void shutdown(s));

logger.info({ jobs: handle.names, pid: process.pid }, "worker ready");
