import "server-only";
import type { Logger } from "pino";
import { getConfig } from "@/lib/config/env";
import { getDb, type Db } from "@/lib/db/client";
import { logger as rootLogger } from "@/lib/log";
import { lockIdOf, type Job, type JobContext, type LoopJob } from "./define";
import { describeError, type ErrorSummary } from "./describe-error";
import { postgresAdvisoryLock, sessionAdvisoryLock, type AdvisoryLock } from "./lock";

/** Where single-instance locks live: PostgreSQL (a dedicated connection per job) or PGlite's one session. */
export type LockBackend = { kind: "postgres"; url: string } | { kind: "session" };

export interface StartJobsOptions {
  /** `ctx.db`; default the process-wide database (`getDb()`), asked for at each run. */
  db?: Db;
  /** Default from configuration: DATABASE_URL → PostgreSQL, otherwise (PGlite) the session. */
  locks?: LockBackend;
  logger?: Logger;
  /** How often a held PostgreSQL lock's session is checked while a run holds it. Default 5 s. */
  lockCheckIntervalMs?: number;
  /** Worker processes: pending timers keep the process alive. In a web process they must not hold it open. */
  keepProcessAlive?: boolean;
}

export interface JobStatus {
  name: string;
  kind: Job["kind"];
  singleInstance: boolean;
  running: boolean;
  /** Runs started (for a single-instance job: with the lock held). */
  runs: number;
  failures: number;
  /** Rounds skipped because another instance held the lock. */
  skipped: number;
  lastStartedAt?: Date;
  lastFinishedAt?: Date;
  lastError?: ErrorSummary;
  nextRunAt?: Date;
}

export interface StopResult {
  /** False when a job was still running at the timeout (its lock connection is then closed regardless). */
  finished: boolean;
  unfinished: string[];
}

export interface JobsHandle {
  readonly names: readonly string[];
  /** Every job of this runner with its counters: the one place to see what runs in this process. */
  status(): JobStatus[];
  /**
   * Aborts every job's signal, stops scheduling, waits up to `timeoutMs` (default 30 s) for running jobs to
   * return, then releases the locks. Idempotent: a second call returns the first call's result.
   */
  stop(options?: { timeoutMs?: number }): Promise<StopResult>;
}

interface RunnerEnv {
  signal: AbortSignal;
  logger: Logger;
  db?: Db;
  locks?: LockBackend;
  lockCheckIntervalMs?: number;
  keepProcessAlive: boolean;
}

interface Worker {
  name: string;
  status: JobStatus;
  /** The run (interval) or the loop in progress, if any; it never rejects. */
  current(): Promise<void> | undefined;
  cancelTimer(): void;
  close(force: boolean): Promise<void>;
}

/**
 * Starts the given jobs in this process. Within one runner a job never overlaps itself: an interval job's next
 * run is scheduled only when the previous one finished, a loop job is one loop. A failing run is logged (the
 * error described without database parameters) and retried next interval or after a backoff; a job that cannot
 * be started is logged and the others start.
 */
export function startJobs(jobs: readonly Job[], options: StartJobsOptions = {}): JobsHandle {
  const log = options.logger ?? rootLogger;
  const controller = new AbortController();
  const env: RunnerEnv = {
    signal: controller.signal,
    logger: log,
    db: options.db,
    locks: options.locks,
    lockCheckIntervalMs: options.lockCheckIntervalMs,
    keepProcessAlive: options.keepProcessAlive ?? false,
  };
  const workers: Worker[] = [];
  for (const job of jobs) {
    try {
      if (workers.some((w) => w.name === job.name)) throw new Error("a job of this name is already started by this runner");
      workers.push(startWorker(job, env));
    } catch (err) {
      log.error({ job: job.name, err: describeError(err) }, "background job not started");
    }
  }
  if (workers.length > 0) log.info({ jobs: workers.map((w) => w.name) }, "background jobs started");

  let stopping: Promise<StopResult> | undefined;
  return {
    names: workers.map((w) => w.name),
    status: () => workers.map((w) => ({ ...w.status })),
    stop(stopOptions = {}) {
      stopping ??= (async () => {
        const timeoutMs = stopOptions.timeoutMs ?? 30_000;
        controller.abort(new Error("background jobs stopping"));
        for (const w of workers) w.cancelTimer();
        const running = workers.map((w) => w.current()).filter((p): p is Promise<void> => p !== undefined);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.all(running), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
        clearTimeout(timer);
        const unfinished = workers.filter((w) => w.current() !== undefined).map((w) => w.name);
        await Promise.all(workers.map((w) => w.close(unfinished.includes(w.name))));
        if (unfinished.length > 0) log.warn({ unfinished, timeoutMs }, "background jobs stopped; some were still running at the timeout");
        else if (workers.length > 0) log.info("background jobs stopped");
        return { finished: unfinished.length === 0, unfinished };
      })();
      return stopping;
    },
  };
}

function startWorker(job: Job, env: RunnerEnv): Worker {
  const lockId = lockIdOf(job);
  const log = env.logger.child({ job: job.name });
  const status: JobStatus = { name: job.name, kind: job.kind, singleInstance: lockId !== undefined, running: false, runs: 0, failures: 0, skipped: 0 };
  let lock: AdvisoryLock | undefined;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> | undefined;

  const createLock = (db: Db, id: bigint): AdvisoryLock => {
    const backend = env.locks ?? locksFromConfig();
    return backend.kind === "postgres"
      ? postgresAdvisoryLock(backend.url, id, { checkIntervalMs: env.lockCheckIntervalMs })
      : sessionAdvisoryLock(db, id);
  };

  const runJob = async (db: Db, signal: AbortSignal) => {
    status.running = true;
    status.runs++;
    status.lastStartedAt = new Date();
    const ctx: JobContext = { signal, logger: log, db };
    try {
      await job.run(ctx);
    } finally {
      status.running = false;
      status.lastFinishedAt = new Date();
    }
  };

  /** One run; never rejects. */
  const runOnce = async (): Promise<"ran" | "skipped" | "failed"> => {
    try {
      const db = env.db ?? (await getDb());
      if (lockId === undefined) {
        await runJob(db, env.signal);
        return "ran";
      }
      lock ??= createLock(db, lockId);
      const outcome = await lock.run(async (lost) => {
        const onLost = () => log.warn("lock lost (its database session ended); run aborted, another instance may take over");
        lost.addEventListener("abort", onLost, { once: true });
        try {
          await runJob(db, AbortSignal.any([env.signal, lost]));
        } finally {
          lost.removeEventListener("abort", onLost);
        }
      });
      if (outcome.locked) return "ran";
      status.skipped++;
      log.debug("skipped: another instance holds the lock");
      return "skipped";
    } catch (err) {
      status.failures++;
      status.lastError = describeError(err);
      if (env.signal.aborted) log.warn({ err: status.lastError }, "job ended with an error while stopping");
      else log.error({ err: status.lastError }, job.kind === "interval" ? "job failed; retrying next interval" : "job failed; restarting after a backoff");
      return "failed";
    }
  };

  if (job.kind === "interval") {
    const schedule = (delayMs: number) => {
      if (env.signal.aborted) return;
      status.nextRunAt = new Date(Date.now() + delayMs);
      timer = setTimeout(() => {
        timer = undefined;
        status.nextRunAt = undefined;
        current = runOnce().then(() => {
          current = undefined;
          schedule(job.intervalMs);
        });
      }, delayMs);
      if (!env.keepProcessAlive) timer.unref();
    };
    schedule(job.initialDelayMs ?? Math.min(job.intervalMs, 15_000));
  } else {
    current = runLoop(job, env, status, log, runOnce).finally(() => (current = undefined));
  }

  return {
    name: job.name,
    status,
    current: () => current,
    cancelTimer: () => {
      clearTimeout(timer);
      timer = undefined;
      status.nextRunAt = undefined;
    },
    close: (force) => lock?.close({ force }).catch(() => undefined) ?? Promise.resolve(),
  };
}

async function runLoop(
  job: LoopJob,
  env: RunnerEnv,
  status: JobStatus,
  log: Logger,
  runOnce: () => Promise<"ran" | "skipped" | "failed">,
): Promise<void> {
  const initialDelay = job.restartDelayMs ?? 1_000;
  const maxDelay = Math.max(job.maxRestartDelayMs ?? 60_000, initialDelay);
  const lockRetry = job.lockRetryMs ?? 15_000;
  let delay = initialDelay;
  while (!env.signal.aborted) {
    const started = Date.now();
    const outcome = await runOnce();
    if (env.signal.aborted) break;
    // A run that lasted longer than the longest backoff was healthy for a while: back off from the start again.
    if (Date.now() - started >= maxDelay) delay = initialDelay;
    let wait: number;
    if (outcome === "skipped") wait = lockRetry;
    else {
      if (outcome === "ran") log.warn("loop job returned before it was stopped; restarting after a backoff");
      wait = delay;
      delay = Math.min(delay * 2, maxDelay);
    }
    status.nextRunAt = new Date(Date.now() + wait);
    await sleep(wait, env.signal, env.keepProcessAlive);
    status.nextRunAt = undefined;
  }
}

function sleep(ms: number, signal: AbortSignal, keepProcessAlive: boolean): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (!keepProcessAlive) timer.unref();
    signal.addEventListener("abort", done, { once: true });
  });
}

function locksFromConfig(): LockBackend {
  const database = getConfig().database;
  return database.kind === "postgres" ? { kind: "postgres", url: database.url } : { kind: "session" };
}
