import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowsOf } from "@/lib/db/client";
import { createTestPostgres, testPostgresUrl, type TestDb } from "@/lib/db/testing";
import { defineJob, lockIdOf } from "./define";
import { LockLostError, postgresAdvisoryLock } from "./lock";
import { startJobs, type JobsHandle } from "./runner";
import { captureLogger, untilAborted, waitFor } from "./testing";

const adminUrl = testPostgresUrl();

/** The backend pid holding advisory lock `id`, if any. */
async function holderPid(t: TestDb, id: bigint): Promise<number | undefined> {
  const classid = ((id >> 32n) & 0xffffffffn).toString();
  const objid = (id & 0xffffffffn).toString();
  const [row] = rowsOf<{ pid: number }>(
    await t.db.execute(
      sql`select pid from pg_locks where locktype = 'advisory' and granted and classid = ${classid}::oid and objid = ${objid}::oid and objsubid = 1`,
    ),
  );
  return row?.pid;
}

describe.skipIf(!adminUrl)("single-instance lock on PostgreSQL", () => {
  let t: TestDb;
  const handles: JobsHandle[] = [];
  beforeAll(async () => {
    t = await createTestPostgres(adminUrl!);
  });
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.stop({ timeoutMs: 2_000 })));
    await t?.close();
  });

  it("is released when the holder's connection dies: the holder's run is aborted and the other runner takes over", async () => {
    const events: string[] = [];
    const at: Record<string, number> = {};
    const reasons: Record<string, unknown> = {};
    const job = (runner: string) =>
      defineJob({
        name: "takeover",
        kind: "interval",
        intervalMs: 20,
        initialDelayMs: 0,
        singleInstance: true,
        async run({ signal }) {
          events.push(`${runner} start`);
          at[`${runner} start`] ??= Date.now();
          await untilAborted(signal);
          reasons[runner] = signal.reason;
          events.push(`${runner} aborted`);
          at[`${runner} aborted`] ??= Date.now();
        },
      });
    const logA = captureLogger();
    const a = startJobs([job("A")], { db: t.db, locks: { kind: "postgres", url: t.url! }, logger: logA.logger, lockCheckIntervalMs: 50 });
    handles.push(a);
    await waitFor(() => events.includes("A start"), 5_000, "A running");
    const b = startJobs([job("B")], { db: t.db, locks: { kind: "postgres", url: t.url! }, logger: captureLogger().logger, lockCheckIntervalMs: 50 });
    handles.push(b);
    await waitFor(() => b.status()[0]!.skipped >= 3, 5_000, "B refused the lock");
    expect(events).toEqual(["A start"]);

    const pid = await holderPid(t, lockIdOf(job("A"))!);
    expect(pid).toBeDefined();
    await t.db.execute(sql`select pg_terminate_backend(${pid}::int)`);

    await waitFor(() => events.includes("B start") && events.includes("A aborted"), 5_000, "B taking over, A aborted");
    // A learns that it lost the lock at its next check, so the job ran in both places for at most about one
    // check interval (50 ms here) — a window advisory locks cannot close, which jobs must tolerate.
    // Bounded by the check interval plus scheduling delay (generous for a loaded machine).
    expect(at["A aborted"]! - at["B start"]!).toBeLessThan(2_000);
    expect(reasons.A).toBeInstanceOf(LockLostError);
    expect(logA.messages().some((m) => m.msg.startsWith("lock lost"))).toBe(true);
    // A keeps trying on a fresh connection and is refused while B holds the lock.
    const skippedBefore = a.status()[0]!.skipped;
    // Generous: A reconnects on a fresh connection first, which on a loaded CI machine takes a while.
    await waitFor(() => a.status()[0]!.skipped > skippedBefore + 2, 30_000, "A refused after the takeover");
    expect(await holderPid(t, lockIdOf(job("A"))!)).not.toBe(pid);

    await Promise.all([a.stop(), b.stop()]);
    expect(reasons.B).not.toBeInstanceOf(LockLostError);
    expect(await holderPid(t, lockIdOf(job("A"))!)).toBeUndefined();
  }, 90_000);

  it("a lock object never runs two holders at once, though PostgreSQL session locks are re-entrant", async () => {
    const lock = postgresAdvisoryLock(t.url!, 4242n);
    try {
      let release!: () => void;
      const first = lock.run(() => new Promise<string>((r) => (release = () => r("first"))));
      await waitFor(async () => (await holderPid(t, 4242n)) !== undefined, 5_000, "first holder");
      expect(await lock.run(async () => "second")).toEqual({ locked: false });
      release();
      expect(await first).toEqual({ locked: true, value: "first" });
      expect(await lock.run(async () => "third")).toEqual({ locked: true, value: "third" });
    } finally {
      await lock.close();
    }
  });
});
