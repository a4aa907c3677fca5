import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowsOf } from "@/lib/db/client";
import { sessions, users } from "@/lib/db/schema/auth";
import { testBackends, type TestDb } from "@/lib/db/testing";
import { captureLogger } from "@/lib/jobs/testing";
import { sessionSweeperJob, sweepDeadSessions } from "./session-sweeper";

const MIN = 60_000;
const NOW = Date.parse("2026-11-24T12:00:00Z");
const limits = { maxAgeSeconds: 8 * 3600, idleTimeoutSeconds: 30 * 60 };

describe.each(testBackends())("session sweeper on $name", (backend) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await backend.create();
  });
  afterAll(() => t?.close());

  it("deletes expired, idle and too-old sessions and keeps live ones", async () => {
    await t.db.insert(users).values({ id: "u1", name: "U", email: "u1@example.test", role: "viewer" });
    const at = (minutesAgo: number) => new Date(NOW - minutesAgo * MIN);
    const rows = [
      // token, expires, created, last active
      ["live", new Date(NOW + 60 * MIN), at(60), at(5)],
      ["live-near-idle-limit", new Date(NOW + 60 * MIN), at(60), at(29)],
      ["expired", at(1), at(120), at(2)],
      ["idle", new Date(NOW + 60 * MIN), at(90), at(31)],
      ["too-old", new Date(NOW + 60 * MIN), at(8 * 60 + 1), at(1)],
    ] as const;
    await t.db.insert(sessions).values(rows.map(([token, expires, createdAt, lastActiveAt]) => ({ sessionToken: token, userId: "u1", expires, createdAt, lastActiveAt })));

    expect(await sweepDeadSessions(t.db, limits, NOW)).toBe(3);
    const left = rowsOf<{ session_token: string }>(await t.db.execute(sql`select session_token from sessions order by 1`));
    expect(left.map((r) => r.session_token)).toEqual(["live", "live-near-idle-limit"]);
    // Nothing left to sweep.
    expect(await sweepDeadSessions(t.db, limits, NOW)).toBe(0);
  });

  it("as a background job: sweeps with the runner's database and logs how many it deleted", async () => {
    const job = sessionSweeperJob(limits);
    expect(job).toMatchObject({ name: "session-sweeper", kind: "interval", intervalMs: 15 * MIN, initialDelayMs: 30_000 });
    expect(job.singleInstance).toBeFalsy();
    await t.db.delete(sessions);
    const now = Date.now();
    await t.db.insert(sessions).values([
      { sessionToken: "job-expired", userId: "u1", expires: new Date(now - MIN), createdAt: new Date(now - 60 * MIN), lastActiveAt: new Date(now - 2 * MIN) },
      { sessionToken: "job-live", userId: "u1", expires: new Date(now + 60 * MIN), createdAt: new Date(now - MIN), lastActiveAt: new Date(now) },
    ]);
    const log = captureLogger();
    await job.run({ db: t.db, signal: new AbortController().signal, logger: log.logger });
    const left = rowsOf<{ session_token: string }>(await t.db.execute(sql`select session_token from sessions where session_token like 'job-%'`));
    expect(left.map((r) => r.session_token)).toEqual(["job-live"]);
    expect(log.messages().find((m) => m.msg === "expired sessions deleted")).toMatchObject({ deleted: 1 });
  });
});
