import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowsOf, type Db } from "@/lib/db/client";
import { testBackends, type TestDb } from "@/lib/db/testing";
import { defineJob, lockIdOf, type Job, type JobContext } from "./define";
import { startJobs, type JobsHandle, type LockBackend } from "./runner";
import { captureLogger, sleep, untilAborted, waitFor } from "./testing";

/** How many sessions hold the advisory lock of `job` (pg_locks splits a bigint key into classid/objid). */
async function lockHolders(db: Db, job: Job): Promise<number> {
  const id = lockIdOf(job)!;
  const classid = ((id >> 32n) & 0xffffffffn).toString();
  const objid = (id & 0xffffffffn).toString();
  const [row] = rowsOf<{ n: number }>(
    await db.execute(
      sql`select count(*)::int as n from pg_locks where locktype = 'advisory' and granted and classid = ${classid}::oid and objid = ${objid}::oid and objsubid = 1`,
    ),
  );
  return row!.n;
}

describe.each(testBackends())("background job runner on $name", (backend) => {
  let t: TestDb;
  let locks: LockBackend;
  const handles: JobsHandle[] = [];
  const start = (jobs: Job[], log = captureLogger()) => {
    const handle = startJobs(jobs, { db: t.db, locks, logger: log.logger, lockCheckIntervalMs: 50 });
    handles.push(handle);
    return handle;
  };

  beforeAll(async () => {
    t = await backend.create();
    locks = t.kind === "postgres" ? { kind: "postgres", url: t.url! } : { kind: "session" };
  });
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.stop({ timeoutMs: 2_000 })));
    await t?.close();
  });

  it("two runners on one database never run a single-instance job at the same time", async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const job = () =>
      defineJob({
        name: "exclusive",
        kind: "interval",
        intervalMs: 5,
        initialDelayMs: 0,
        singleInstance: true,
        async run() {
          active++;
          maxActive = Math.max(maxActive, active);
          await sleep(40);
          runs++;
          active--;
        },
      });
    const a = start([job()]);
    const b = start([job()]);
    await waitFor(() => runs >= 12, 15_000, "12 runs");
    const [sa] = a.status();
    const [sb] = b.status();
    // Both runners asked many times; whenever one held the lock the other skipped its round.
    expect(sa!.skipped + sb!.skipped).toBeGreaterThan(0);
    expect(sa!.runs + sb!.runs).toBeGreaterThanOrEqual(12);
    await Promise.all([a.stop(), b.stop()]);
    expect(maxActive).toBe(1);
    expect(await lockHolders(t.db, job())).toBe(0);
  });

  it("never overlaps a job with itself within one runner, even when a run outlasts the interval", async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const h = start([
      defineJob({
        name: "slow",
        kind: "interval",
        intervalMs: 1,
        initialDelayMs: 0,
        async run() {
          active++;
          maxActive = Math.max(maxActive, active);
          await sleep(30);
          runs++;
          active--;
        },
      }),
    ]);
    await waitFor(() => runs >= 5, 10_000, "5 runs");
    await h.stop();
    expect(maxActive).toBe(1);
  });

  it("stop() aborts the signal, waits for a running job to finish, then releases its lock", async () => {
    let finished = false;
    let sawAbort = false;
    const job = defineJob({
      name: "finishes-its-work",
      kind: "interval",
      intervalMs: 60_000,
      initialDelayMs: 0,
      singleInstance: true,
      async run({ signal }: JobContext) {
        await untilAborted(signal);
        sawAbort = true;
        // Work that finishes after the stop was asked for: stop() must wait for it.
        await sleep(300);
        finished = true;
      },
    });
    const h = start([job]);
    await waitFor(() => h.status()[0]!.running, 5_000, "job running");
    expect(await lockHolders(t.db, job)).toBe(1);
    const began = Date.now();
    const result = await h.stop({ timeoutMs: 5_000 });
    expect(result).toEqual({ finished: true, unfinished: [] });
    expect(sawAbort).toBe(true);
    expect(finished).toBe(true);
    expect(Date.now() - began).toBeGreaterThanOrEqual(250);
    expect(await lockHolders(t.db, job)).toBe(0);
    // Stopped means stopped: no further run is scheduled.
    const runs = h.status()[0]!.runs;
    await sleep(100);
    expect(h.status()[0]!.runs).toBe(runs);
    expect(h.status()[0]!.nextRunAt).toBeUndefined();
  });

  it("stop() gives up on a job that ignores the signal at the timeout and still releases the lock", async () => {
    const job = defineJob({
      name: "ignores-the-signal",
      kind: "interval",
      intervalMs: 60_000,
      initialDelayMs: 0,
      singleInstance: true,
      async run() {
        await sleep(3_000);
      },
    });
    const h = start([job]);
    await waitFor(() => h.status()[0]!.running, 5_000, "job running");
    const began = Date.now();
    expect(await h.stop({ timeoutMs: 150 })).toEqual({ finished: false, unfinished: ["ignores-the-signal"] });
    expect(Date.now() - began).toBeLessThan(2_000);
    // PostgreSQL: the lock's connection was closed, so the server dropped the lock. PGlite: the process keeps
    // its one session, and the run still holds the lock until it returns.
    if (t.kind === "postgres") await waitFor(async () => (await lockHolders(t.db, job)) === 0, 5_000, "lock released");
  });

  it("a loop job runs until stop() aborts its signal; stop() waits for it to return", async () => {
    let starts = 0;
    let returned = false;
    let signal: AbortSignal | undefined;
    const h = start([
      defineJob({
        name: "campaign-like",
        kind: "loop",
        async run(ctx) {
          starts++;
          signal = ctx.signal;
          await untilAborted(ctx.signal);
          await sleep(100);
          returned = true;
        },
      }),
    ]);
    await waitFor(() => starts === 1, 5_000, "loop started");
    await sleep(100);
    expect(signal!.aborted).toBe(false);
    expect(await h.stop({ timeoutMs: 5_000 })).toEqual({ finished: true, unfinished: [] });
    expect(signal!.aborted).toBe(true);
    expect(returned).toBe(true);
    expect(starts).toBe(1);
  });

  it("a throwing interval job is logged and retried next interval", async () => {
    const log = captureLogger();
    let calls = 0;
    let succeeded = false;
    const h = start(
      [
        defineJob({
          name: "flaky",
          kind: "interval",
          intervalMs: 20,
          initialDelayMs: 0,
          async run() {
            calls++;
            if (calls <= 2) throw new Error(`attempt ${calls} failed`);
            succeeded = true;
          },
        }),
      ],
      log,
    );
    await waitFor(() => succeeded, 5_000, "a successful run");
    await h.stop();
    expect(h.status()[0]).toMatchObject({ failures: 2, lastError: { name: "Error", message: "attempt 2 failed" } });
    const failures = log.messages().filter((m) => m.msg === "job failed; retrying next interval");
    expect(failures.map((m) => [m.job, m.err?.message])).toEqual([
      ["flaky", "attempt 1 failed"],
      ["flaky", "attempt 2 failed"],
    ]);
  });

  it("a throwing loop job is restarted after a backoff that doubles", async () => {
    const startedAt: number[] = [];
    const h = start([
      defineJob({
        name: "crashing-loop",
        kind: "loop",
        restartDelayMs: 100,
        async run({ signal }) {
          startedAt.push(Date.now());
          if (startedAt.length <= 2) throw new Error("boom");
          await untilAborted(signal);
        },
      }),
    ]);
    await waitFor(() => startedAt.length === 3, 5_000, "third start");
    await h.stop();
    expect(h.status()[0]).toMatchObject({ failures: 2, runs: 3 });
    const [first, second, third] = startedAt as [number, number, number];
    expect(second - first).toBeGreaterThanOrEqual(90);
    expect(third - second).toBeGreaterThanOrEqual(190);
  });

  it("logs a database failure without the query's parameters", async () => {
    const log = captureLogger();
    const secret = `SECRET-${Math.random().toString(36).slice(2)}`;
    let calls = 0;
    const h = start(
      [
        defineJob({
          name: "bad-query",
          kind: "interval",
          intervalMs: 60_000,
          initialDelayMs: 0,
          async run({ db }) {
            calls++;
            await db.execute(sql`select ${secret}::text as x from no_such_table_for_jobs`);
          },
        }),
      ],
      log,
    );
    await waitFor(() => h.status()[0]!.failures === 1, 5_000, "the failure");
    await h.stop();
    expect(calls).toBe(1);
    const failure = log.messages().find((m) => m.msg === "job failed; retrying next interval");
    expect(failure?.err?.message).toContain("no_such_table_for_jobs");
    expect(log.lines.join("\n")).not.toContain(secret);
    expect(JSON.stringify(h.status())).not.toContain(secret);
  });

  it("a job that cannot start does not keep the others from starting", async () => {
    const log = captureLogger();
    let ran = 0;
    const ok = defineJob({ name: "fine", kind: "interval", intervalMs: 60_000, initialDelayMs: 0, run: async () => void ran++ });
    const h = start([ok, ok], log);
    await waitFor(() => ran === 1, 5_000, "the other job");
    await h.stop();
    expect(h.names).toEqual(["fine"]);
    expect(log.messages().some((m) => m.msg === "background job not started" && m.job === "fine")).toBe(true);
  });
});
