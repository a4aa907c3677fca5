import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/lib/db/client";
import { auditEvents } from "@/lib/db/schema/audit";
import { testBackends, type TestDb } from "@/lib/db/testing";
import { ValidationError } from "@/lib/errors";
import { exportAuditTrail } from "./export";
import { iterateAuditEvents, listAuditEvents } from "./queries";
import { auditCursorView, encodeAuditCursor } from "./search-cursor";
import { auditViewText, parseAuditSearchParams, type AuditSearchFilters } from "./search-params";
import { loadAuditEventView, loadAuditSearchView } from "./search-view";
import type { AuditEventRowDto } from "./types";
import { recordAuditEvent } from "./writer";

/**
 * The Audit page's queries on PGlite and PostgreSQL: filters, keyset pages that cover a search exactly once in
 * either direction, refused cursors, and the trail's own reads being audited once per request.
 */

const actor = { type: "user", userId: "u-auditor", email: "auditor@example.test", role: "auditor", ip: "127.0.0.1", userAgent: "vitest" } as const;
const as = (requestId: string) => ({ actor, requestId });

/** Every row of a search, page by page (newest first), following next cursors. */
async function allPages(db: Db, filters: AuditSearchFilters, limit: number): Promise<AuditEventRowDto[][]> {
  const pages: AuditEventRowDto[][] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const page = await listAuditEvents(db, filters, { cursor, limit });
    pages.push(page.rows);
    if (!page.nextCursor) return pages;
    cursor = page.nextCursor;
  }
  throw new Error("pagination did not end");
}

const search = (p: Record<string, string>) => parseAuditSearchParams(p).filters;

async function countAction(db: Db, action: string, requestId?: string): Promise<number> {
  const rows = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(auditEvents)
    .where(requestId ? and(eq(auditEvents.action, action), eq(auditEvents.requestId, requestId)) : eq(auditEvents.action, action));
  return rows[0]!.n;
}

describe.each(testBackends())("audit search on $name", (backend) => {
  let t: TestDb;
  let db: Db;
  /** Seeded events by id, in insertion order. */
  const seeded: { id: string; action: string }[] = [];
  let splitAt = "";

  beforeAll(async () => {
    t = await backend.create();
    db = t.db;
    const actions = ["auth.login", "access.denied", "inventory.export", "campaign.start", "key.rotate", "settings.change", "session.revoke"];
    for (let i = 0; i < 35; i++) {
      const action = actions[i % actions.length]!;
      await recordAuditEvent(db, {
        actor: i % 5 === 0 ? { type: "service", userId: "svc-sync" } : { type: "user", userId: `u-${i % 3}`, email: `user${i % 3}@example.test` },
        action,
        target: i % 4 === 0 ? { type: "wallet", id: `w-${i % 8}` } : { type: "campaign", id: `c-${i % 2}` },
        outcome: action === "access.denied" ? "denied" : "success",
        requestId: `req-${i}`,
        vaultRequestId: i % 6 === 0 ? `vault-${i}` : null,
        details: { n: i, token: "hvs.should-never-show", nested: { ciphertext: "vault:v1:abc" } },
      });
      if (i === 19) {
        await new Promise((r) => setTimeout(r, 20));
        splitAt = new Date(Date.now()).toISOString();
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const rows = await db.select({ id: auditEvents.id, action: auditEvents.action }).from(auditEvents).orderBy(auditEvents.seq);
    seeded.push(...rows.map((r) => ({ id: String(r.id), action: r.action })));
  });

  afterAll(async () => {
    await t?.close();
  });

  it("pages cover a search exactly once, newest first, with no OFFSET", async () => {
    for (const limit of [1, 4, 7, 50]) {
      const pages = await allPages(db, {}, limit);
      const ids = pages.flat().map((r) => r.id);
      expect(ids, `limit ${limit}`).toEqual(seeded.map((s) => s.id).reverse());
      expect(pages.slice(0, -1).every((p) => p.length === limit)).toBe(true);
    }
  });

  it("walks back with previous cursors to exactly the pages it came from", async () => {
    const forward: { rows: string[]; prev: string | null; next: string | null }[] = [];
    let cursor: string | undefined;
    for (;;) {
      const p = await listAuditEvents(db, { group: "auth" }, { cursor, limit: 3 });
      forward.push({ rows: p.rows.map((r) => r.id), prev: p.prevCursor, next: p.nextCursor });
      if (!p.nextCursor) break;
      cursor = p.nextCursor;
    }
    expect(forward.length).toBeGreaterThan(2);
    expect(forward[0]!.prev).toBeNull();
    // From the last page, follow "previous" to the first: the same pages in reverse.
    let prev = forward[forward.length - 1]!.prev;
    for (let i = forward.length - 2; i >= 0; i--) {
      const p = await listAuditEvents(db, { group: "auth" }, { cursor: prev!, limit: 3 });
      expect(p.rows.map((r) => r.id), `page ${i}`).toEqual(forward[i]!.rows);
      expect(p.nextCursor).not.toBeNull();
      prev = p.prevCursor;
    }
    expect(prev).toBeNull();
  });

  it("filters by actor, group, action, target, outcome, request ids and time", async () => {
    const all = async (f: AuditSearchFilters) => (await allPages(db, f, 5)).flat();
    const byActor = await all(search({ actor: "user1@example.test" }));
    expect(byActor.length).toBeGreaterThan(0);
    expect(byActor.every((r) => r.actorEmail === "user1@example.test")).toBe(true);
    expect((await all(search({ actor: "svc-sync" }))).every((r) => r.actorUserId === "svc-sync" && r.actorType === "service")).toBe(true);
    expect((await all(search({ actor: "svc-sync" }))).length).toBe(7);

    const auth = await all(search({ group: "auth" }));
    expect(new Set(auth.map((r) => r.action))).toEqual(new Set(["auth.login", "access.denied", "session.revoke"]));
    expect(auth.length).toBe(seeded.filter((s) => /^(auth|access|session)\./.test(s.action)).length);
    expect(new Set((await all(search({ group: "keys" }))).map((r) => r.action))).toEqual(new Set(["key.rotate"]));
    expect(new Set((await all(search({ group: "settings" }))).map((r) => r.action))).toEqual(new Set(["settings.change"]));
    expect(await all(search({ group: "proposals" }))).toEqual([]);

    expect((await all(search({ action: "campaign.start" }))).length).toBe(5);
    const wallet = await all(search({ targetType: "wallet", targetId: "w-0" }));
    expect(wallet.length).toBeGreaterThan(0);
    expect(wallet.every((r) => r.targetType === "wallet" && r.targetId === "w-0")).toBe(true);
    expect((await all(search({ targetType: "campaign" }))).every((r) => r.targetType === "campaign")).toBe(true);
    expect((await all(search({ outcome: "denied" }))).every((r) => r.action === "access.denied")).toBe(true);
    expect((await all(search({ outcome: "denied" }))).length).toBe(5);

    expect((await all(search({ requestId: "req-7" }))).map((r) => r.requestId)).toEqual(["req-7"]);
    expect((await all(search({ vaultRequestId: "vault-12" }))).map((r) => r.requestId)).toEqual(["req-12"]);

    const after = await all(search({ from: splitAt }));
    expect(after.map((r) => r.requestId).sort()).toEqual(Array.from({ length: 15 }, (_, i) => `req-${i + 20}`).sort());
    const before = await all(search({ to: splitAt }));
    expect(before.length).toBe(20);
    // Combined: an actor within a time range, paged in ones.
    const combo = (await allPages(db, search({ actor: "user1@example.test", from: splitAt, group: "auth" }), 1)).flat();
    expect(combo.every((r) => r.actorEmail === "user1@example.test" && r.occurredAt >= splitAt)).toBe(true);
  });

  it("refuses malformed filters and absurd time ranges with clear messages", () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ from: "2026-03-01", to: "2026-02-01" }, /ends before it starts/],
      [{ from: "2020-01-01", to: "2026-01-01" }, /wider than 366 days/],
      [{ from: "0001-01-01" }, /between the years/],
      [{ from: "yesterday" }, /From must be a date/],
      [{ to: "2026-02-31" }, /not a valid date/],
      [{ group: "everything" }, /Action group must be one of/],
      [{ outcome: "maybe" }, /Outcome must be one of/],
      [{ action: "DROP TABLE" }, /dotted lower-case/],
      [{ targetId: "w-1" }, /needs a target type/],
      [{ group: "auth", action: "key.rotate" }, /not in the group auth/],
      [{ requestId: "x'; select 1" }, /Request id/],
      [{ actor: "a b" }, /Actor must be/],
    ];
    for (const [params, message] of bad) {
      expect(() => parseAuditSearchParams(params), JSON.stringify(params)).toThrow(ValidationError);
      expect(() => parseAuditSearchParams(params), JSON.stringify(params)).toThrow(message);
    }
    // A date alone as the upper bound includes that day; 366 days is allowed.
    expect(parseAuditSearchParams({ from: "2025-01-01", to: "2025-12-31" }).filters).toEqual({ from: "2025-01-01T00:00:00.000Z", to: "2026-01-01T00:00:00.000Z" });
    expect(parseAuditSearchParams({ from: "2026-01-01T10:00+02:00" }).filters.from).toBe("2026-01-01T08:00:00.000Z");
    expect(parseAuditSearchParams({ limit: "100000" }).limit).toBe(200);
  });

  it("refuses forged, edited and foreign cursors", async () => {
    const page = await listAuditEvents(db, {}, { limit: 5 });
    const good = page.nextCursor!;
    await expect(listAuditEvents(db, {}, { cursor: good, limit: 5 })).resolves.toBeTruthy();
    // Another search's cursor.
    await expect(listAuditEvents(db, { outcome: "denied" }, { cursor: good, limit: 5 })).rejects.toThrow(/invalid or belongs to another search/);
    // Body edited (the MAC no longer matches).
    const [body, mac] = good.split(".") as [string, string];
    const payload = JSON.parse(Buffer.from(body, "base64url").toString()) as { i: string };
    payload.i = "1";
    const edited = `${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${mac}`;
    await expect(listAuditEvents(db, {}, { cursor: edited, limit: 5 })).rejects.toThrow(ValidationError);
    for (const forged of ["forged.AAAAAAAAAAAAAAAAAAAAAA", "x", "", "a.b.c", `${body}.${"A".repeat(16)}`]) {
      await expect(listAuditEvents(db, {}, { cursor: forged, limit: 5 }), forged).rejects.toThrow(ValidationError);
    }
    // A correctly signed cursor whose content is malformed is refused too (schema, not SQL).
    const view = auditCursorView(auditViewText({}));
    const weird = encodeAuditCursor({ occurredAt: "2026-01-01T00:00:00.000000Z'--", id: "1", direction: "next" }, view);
    await expect(listAuditEvents(db, {}, { cursor: weird, limit: 5 })).rejects.toThrow(ValidationError);
  });

  it("exports the filtered trail as CSV and JSONL, audited before the first byte, redacted", async () => {
    const before = await countAction(db, "audit.export");
    const filters = search({ group: "campaigns" });
    const csvStream = await exportAuditTrail(db, filters, "csv", as("req-export-csv"));
    // Written before anything is read from the stream.
    expect(await countAction(db, "audit.export")).toBe(before + 1);
    const [exportEvent] = await db
      .select({ details: auditEvents.details, actorEmail: auditEvents.actorEmail })
      .from(auditEvents)
      .where(eq(auditEvents.requestId, "req-export-csv"));
    expect(exportEvent).toMatchObject({ actorEmail: "auditor@example.test", details: { format: "csv", filters: { group: "campaigns" } } });
    const csv = await new Response(csvStream).text();
    const lines = csv.trimEnd().split("\r\n");
    expect(lines[0]).toMatch(/^id,seq,occurred_at,actor_type,/);
    expect(lines.length - 1).toBe(seeded.filter((s) => s.action.startsWith("campaign.")).length);
    expect(csv).not.toContain("hvs.should-never-show");
    expect(csv).not.toContain("vault:v1:abc");
    expect(csv).toContain("[redacted]");

    const jsonl = await new Response(await exportAuditTrail(db, {}, "jsonl", as("req-export-other"))).text();
    const objects = jsonl.trimEnd().split("\n").map((l) => JSON.parse(l) as { id: string; seq: number; action: string; details: Record<string, unknown>; hash: string });
    // Every seeded event once (plus the trail's own reads written by now), newest first.
    const ids = objects.map((o) => o.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const s of seeded) expect(ids).toContain(s.id);
    expect(objects.map((o) => o.seq)).toEqual([...objects.map((o) => o.seq)].sort((a, b) => b - a));
    const one = objects.find((o) => o.action === "auth.login")!;
    expect(one.details).toMatchObject({ token: "[redacted]", nested: { ciphertext: "[redacted]" } });
    expect(one.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("keeps CSV cells from being read as formulas", async () => {
    await recordAuditEvent(db, { actor: { type: "user", userId: "=HYPERLINK(1)" }, action: "settings.change", reason: "+cmd|' /C calc'!A0", target: { type: "x", id: "@SUM(1)" } });
    const csv = await new Response(await exportAuditTrail(db, { actor: "=HYPERLINK(1)" }, "csv", as("req-export-other"))).text();
    const row = csv.split("\r\n")[1]!;
    expect(row).toContain("'=HYPERLINK(1)");
    expect(row).toContain("'@SUM(1)");
    expect(row).toContain("'+cmd|");
  });

  it("audits a result page once per request (not per row), and an event page view", async () => {
    const requestId = "req-search-once";
    const v = await loadAuditSearchView(db, { group: "auth", limit: "3" }, as(requestId));
    expect(v.error).toBeNull();
    expect(v.page!.rows).toHaveLength(3);
    expect(await countAction(db, "audit.search", requestId)).toBe(1);
    const [ev] = await db.select({ details: auditEvents.details, outcome: auditEvents.outcome }).from(auditEvents).where(eq(auditEvents.requestId, requestId));
    expect(ev).toMatchObject({ outcome: "success", details: { filters: { group: "auth" }, continued: false, rows: 3 } });
    // The result page does not list its own search; the next one does.
    expect(v.page!.rows.some((r) => r.action === "audit.search")).toBe(false);
    const next = await loadAuditSearchView(db, { group: "audit" }, as("req-search-2"));
    expect(next.page!.rows.some((r) => r.requestId === requestId)).toBe(true);
    // Links carry the filters; a second page is marked continued.
    expect(v.nextQs).toMatch(/^group=auth&limit=3&cursor=/);
    expect(v.exportQs).toBe("group=auth");
    await loadAuditSearchView(db, Object.fromEntries(new URLSearchParams(v.nextQs!)), as("req-search-3"));
    const [cont] = await db.select({ details: auditEvents.details }).from(auditEvents).where(eq(auditEvents.requestId, "req-search-3"));
    expect(cont!.details).toMatchObject({ continued: true });

    // Bad input: a message, no search recorded.
    const bad = await loadAuditSearchView(db, { from: "2026-03-01", to: "2026-01-01" }, as("req-search-bad"));
    expect(bad.error).toMatch(/ends before it starts/);
    expect(bad.page).toBeNull();
    const forged = await loadAuditSearchView(db, { cursor: "forged.AAAAAAAAAAAAAAAAAAAAAA" }, as("req-search-bad"));
    expect(forged.error).toMatch(/page link is invalid/);
    expect(await countAction(db, "audit.search", "req-search-bad")).toBe(0);

    // Event page: the event with its chain position, one audit.view.
    const target = seeded[4]!;
    const view = await loadAuditEventView(db, target.id, as("req-view-1"));
    expect(view.error).toBeNull();
    const d = view.detail!;
    expect(d.event.id).toBe(target.id);
    expect(d.event.seq).toBe(5);
    expect(d.event.prevHash).toMatch(/^[0-9a-f]{64}$/);
    expect(d.previousId).toBe(seeded[3]!.id);
    expect(d.nextId).toBe(seeded[5]!.id);
    expect(d.verification).toEqual({ state: "not_verified" });
    expect(JSON.stringify(d)).not.toContain("hvs.should-never-show");
    expect(await countAction(db, "audit.view", "req-view-1")).toBe(1);
    const [viewEvent] = await db.select({ targetType: auditEvents.targetType, targetId: auditEvents.targetId }).from(auditEvents).where(eq(auditEvents.requestId, "req-view-1"));
    expect(viewEvent).toEqual({ targetType: "audit_event", targetId: target.id });
    for (const badId of ["0", "-1", "abc", "99999999999", "1e3"]) {
      const r = await loadAuditEventView(db, badId, as("req-view-bad"));
      expect(r.detail, badId).toBeNull();
      expect(r.error, badId).toMatch(/not an audit event id|No audit event/);
    }
    expect(await countAction(db, "audit.view", "req-view-bad")).toBe(0);
  });

  it("iterates an export in batches that cover the search exactly once", async () => {
    const ids: string[] = [];
    for await (const batch of iterateAuditEvents(db, search({ targetType: "campaign" }), 4)) {
      expect(batch.length).toBeLessThanOrEqual(4);
      ids.push(...batch.map((r) => r.id));
    }
    const expected = (await allPages(db, search({ targetType: "campaign" }), 200)).flat().map((r) => r.id);
    expect(ids).toEqual(expected);
  });
});
