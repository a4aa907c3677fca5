import "server-only";
import { constants } from "node:os";
import type { Job } from "./define";
import { startJobs, type JobsHandle, type StartJobsOptions, type StopResult } from "./runner";

/**
 * The jobs of this process: one runner, kept on globalThis so that a Next.js dev-mode module reload (which
 * evaluates this module again) finds the running one instead of starting every job a second time.
 */
const SLOT = Symbol.for("keyshare-console.jobs.process");
const holder = globalThis as unknown as { [SLOT]?: JobsHandle };

/** Starts `jobs` for this process, or returns the runner already started (the jobs passed are then ignored). */
export function startProcessJobs(jobs: readonly Job[], options: StartJobsOptions = {}): { handle: JobsHandle; started: boolean } {
  const existing = holder[SLOT];
  if (existing) return { handle: existing, started: false };
  const handle = startJobs(jobs, options);
  holder[SLOT] = handle;
  return { handle, started: true };
}

export function processJobs(): JobsHandle | undefined {
  return holder[SLOT];
}

/** Stops this process's jobs (see JobsHandle.stop); resolves at once when none were started. */
export async function stopProcessJobs(options: { timeoutMs?: number } = {}): Promise<StopResult> {
  const handle = holder[SLOT];
  if (!handle) return { finished: true, unfinished: [] };
  const result = await handle.stop(options);
  if (holder[SLOT] === handle) delete holder[SLOT];
  return result;
}

type SignalTarget = Pick<NodeJS.EventEmitter, "listeners" | "on" | "removeListener">;

/**
 * Stops background jobs first when the process is told to stop, then hands the signal to whoever listened
 * before. In `next start` that is Next's own handler, which closes the HTTP server and exits the process as
 * soon as requests drain — run alongside it, a job would be cut off by that exit instead of finishing or
 * giving up within its grace time. With no earlier listener the process exits with the signal's usual code.
 * A second signal while jobs are stopping is handed over at once (Ctrl-C twice does not wait).
 */
export function stopJobsOnSignals(
  stop: () => Promise<unknown>,
  options: { target?: SignalTarget; signals?: NodeJS.Signals[]; exit?: (code: number) => void } = {},
): () => void {
  const target = options.target ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let stopping: Promise<unknown> | undefined;
  const uninstall: (() => void)[] = [];
  for (const signal of options.signals ?? (["SIGTERM", "SIGINT"] as NodeJS.Signals[])) {
    const previous = target.listeners(signal) as ((...args: unknown[]) => void)[];
    for (const l of previous) target.removeListener(signal, l);
    const handOver = () => {
      if (previous.length === 0) exit(128 + (constants.signals[signal] ?? 0));
      for (const l of previous) l.call(target, signal);
    };
    const handler = () => {
      if (stopping) return handOver();
      stopping = stop().catch(() => undefined);
      void stopping.then(handOver);
    };
    target.on(signal, handler);
    uninstall.push(() => {
      target.removeListener(signal, handler);
      for (const l of previous) target.on(signal, l);
    });
  }
  return () => uninstall.forEach((u) => u());
}
