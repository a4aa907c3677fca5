import "server-only";
import { createHash } from "node:crypto";
import type { Logger } from "pino";
import type { Db } from "@/lib/db/client";

export interface JobContext {
  /**
   * Aborts when the runner stops, and for a single-instance job also when its lock is lost (the lock's database
   * connection died, so another process may take over). A job checks it between units of work and returns.
   */
  signal: AbortSignal;
  /** The runner's logger with `job: <name>`. */
  logger: Logger;
  db: Db;
}

interface JobBase {
  /** kebab-case, unique in the registry; the worker's `--jobs` option and every log line use it. */
  name: string;
  /**
   * Only one run at a time across every process on the same database: a PostgreSQL session advisory lock on a
   * dedicated connection. `true` derives the lock id from the name; a bigint is the lock id itself (for a lock
   * another tool shares, such as `npm run sync:redis`).
   */
  singleInstance?: boolean | bigint;
  run(ctx: JobContext): Promise<void>;
}

/** Runs `intervalMs` after the previous run finished (never overlapping), first after `initialDelayMs`. */
export interface IntervalJob extends JobBase {
  kind: "interval";
  intervalMs: number;
  /** Default: `min(intervalMs, 15 s)`, so a start is not slowed by every job at once. */
  initialDelayMs?: number;
}

/**
 * Runs continuously until `ctx.signal` aborts. A run that throws (or returns early) is started again after a
 * backoff that doubles from `restartDelayMs` up to `maxRestartDelayMs`; a single-instance loop whose lock is
 * held elsewhere tries again every `lockRetryMs`.
 */
export interface LoopJob extends JobBase {
  kind: "loop";
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  lockRetryMs?: number;
}

export type Job = IntervalJob | LoopJob;

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Checks a job definition once, where it is written; the runner can then trust it. */
export function defineJob<J extends Job>(job: J): J {
  if (!NAME.test(job.name)) throw new Error(`job name "${job.name}" must be kebab-case`);
  const positive = (label: string, v: number | undefined, allowZero = false) => {
    if (v === undefined) return;
    if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) throw new Error(`job "${job.name}": ${label} must be a positive number of milliseconds`);
  };
  if (job.kind === "interval") {
    if (job.intervalMs === undefined) throw new Error(`job "${job.name}": intervalMs is required`);
    positive("intervalMs", job.intervalMs);
    positive("initialDelayMs", job.initialDelayMs, true);
  } else if (job.kind === "loop") {
    positive("restartDelayMs", job.restartDelayMs);
    positive("maxRestartDelayMs", job.maxRestartDelayMs);
    positive("lockRetryMs", job.lockRetryMs);
  } else {
    throw new Error(`job "${(job as Job).name}": kind must be "interval" or "loop"`);
  }
  if (typeof job.singleInstance === "bigint" && (job.singleInstance < INT64_MIN || job.singleInstance > INT64_MAX))
    throw new Error(`job "${job.name}": lock id must fit a PostgreSQL bigint`);
  const copy: J = { ...job };
  return Object.freeze(copy);
}

/** The advisory lock id of a single-instance job, or undefined when it is not single-instance. */
export function lockIdOf(job: Job): bigint | undefined {
  if (typeof job.singleInstance === "bigint") return job.singleInstance;
  if (!job.singleInstance) return undefined;
  // Stable across processes and releases: the first 8 bytes of a hash of the name, as a signed 64-bit int.
  const digest = createHash("sha256").update(`keyshare-console.job:${job.name}`).digest();
  return digest.readBigInt64BE(0);
}
