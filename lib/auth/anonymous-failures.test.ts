import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAuditEvent, verifyAuditChain, type AuditEventInput } from "@/lib/audit";
import { auditEvents } from "@/lib/db/schema/audit";
import { testBackends, type TestDb } from "@/lib/db/testing";
import { AnonymousFailureAggregator, type AnonymousFailure } from "./anonymous-failures";

/**
 * The rate limit on audited anonymous sign-in failures: its rules with a fake clock, and a flood against
 * the real audit writer showing a bounded trail and an unblocked chain for signed-in users' actions.
 */

const failure = (ip: string | null, kind = "Configuration"): AnonymousFailure => ({
  kind,
  ip,
  userAgent: "flood/1.0",
  requestId: crypto.randomUUID(),
  reason: `sign-in callback failed (${kind})`,
  details: { error: kind },
});

function recorder() {
  const events: AuditEventInput[] = [];
  let now = 1_000_000;
  const agg = new AnonymousFailureAggregator(async (e) => void events.push(e), { now: () => now, maxSources: 3 });
  return { events, agg, advance: (ms: number) => (now += ms), now: () => now };
}

describe("rules", () => {
  it("writes the first failure of a source at once, counts the rest, and writes the count a window later", async () => {
    const { events, agg, advance, now } = recorder();
    await agg.record(failure("192.0.2.1"));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: { type: "anonymous", ip: "192.0.2.1" }, action: "auth.login", outcome: "failure" });
    for (let i = 0; i < 99; i++) await agg.record(failure("192.0.2.1"));
    expect(events).toHaveLength(1);
    await agg.flush(now() + 59_000);
    expect(events).toHaveLength(1);
    advance(60_000);
    await agg.flush();
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ actor: { ip: "192.0.2.1" }, details: { suppressed: 99, error: "Configuration" } });
    // A failure right after the summary is counted again (one event per source per minute), not written.
    await agg.record(failure("192.0.2.1"));
    expect(events).toHaveLength(2);
    advance(60_000);
    await agg.flush();
    expect(events[2]).toMatchObject({ details: { suppressed: 1 } });
    // Quiet for a window: forgotten; the next failure is written at once again.
    advance(60_000);
    await agg.flush();
    expect(agg.pending()).toBe(0);
    await agg.record(failure("192.0.2.1"));
    expect(events).toHaveLength(4);
    agg.stop();
  });

  it("keys on source and kind; sources beyond the limit share one overflow key per kind", async () => {
    const { events, agg, advance } = recorder();
    await agg.record(failure("192.0.2.1"));
    await agg.record(failure("192.0.2.1", "AccessDenied"));
    await agg.record(failure("192.0.2.2"));
    expect(events).toHaveLength(3);
    // maxSources is 3: every further address lands on the overflow key, written once, without an address.
    for (let i = 10; i < 200; i++) await agg.record(failure(`198.51.100.${i % 250}`));
    expect(events).toHaveLength(4);
    expect(events[3]).toMatchObject({ actor: { ip: null }, details: { overflow: true } });
    advance(60_000);
    await agg.flush();
    expect(events).toHaveLength(5);
    expect(events[4]).toMatchObject({ actor: { ip: null }, details: { overflow: true, suppressed: 189 } });
    agg.stop();
  });

  it("an unexpected kind is counted as other; a failing write is logged, never thrown", async () => {
    const events: AuditEventInput[] = [];
    const agg = new AnonymousFailureAggregator(async (e) => {
      events.push(e);
      throw new Error("database down");
    });
    await expect(agg.record(failure("192.0.2.1", "<script>"))).resolves.toBeUndefined();
    expect(events[0]?.details).toMatchObject({ error: "<script>" });
    await agg.record(failure("192.0.2.1", "also bad!"));
    expect(events).toHaveLength(1);
    agg.stop();
  });
});

describe.each(testBackends())("a flood against the audit trail on $name", (backend) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await backend.create();
  });
  afterAll(() => t?.close());

  it("5,000 anonymous failures add a bounded number of events and do not hold up a user's audited action", async () => {
    const count = async () => Number((await t.db.select({ n: sql<number>`count(*)` }).from(auditEvents))[0]!.n);
    const agg = new AnonymousFailureAggregator((e) => recordAuditEvent(t.db, e));
    const before = await count();
    const N = 5000;
    const sources = ["203.0.113.1", "203.0.113.2", "2001:db8::1"];

    // All at once, as a flood arrives; a signed-in user's audited action starts in the middle of it.
    const flood: Promise<void>[] = [];
    for (let i = 0; i < N / 2; i++) flood.push(agg.record(failure(sources[i % 3]!)));
    const started = performance.now();
    const userAction = recordAuditEvent(t.db, {
      actor: { type: "user", userId: "u-officer", email: "officer@keyshare.example", role: "officer" },
      action: "key.rotate",
      target: { type: "transit-key", id: "wallet-shares" },
    }).then(() => performance.now() - started);
    for (let i = N / 2; i < N; i++) flood.push(agg.record(failure(sources[i % 3]!)));
    await Promise.all(flood);
    const userMs = await userAction;

    expect(await count()).toBe(before + sources.length + 1);
    expect(userMs).toBeLessThan(1_000);

    await agg.flush(Date.now() + 61_000);
    const rows = await t.db.select().from(auditEvents).where(sql`${auditEvents.details} ? 'suppressed'`);
    expect(rows).toHaveLength(sources.length);
    expect(rows.reduce((n, r) => n + Number(r.details.suppressed), 0)).toBe(N - sources.length);
    expect((await verifyAuditChain(t.db)).ok).toBe(true);
    agg.stop();
  }, 120_000);
});
