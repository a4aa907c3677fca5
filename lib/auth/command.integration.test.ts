import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { auditEvents } from "@/lib/db/schema/audit";
import { sessions } from "@/lib/db/schema/auth";
import { rowsOf } from "@/lib/db/client";
import { createTestPglite, type TestDb } from "@/lib/db/testing";
import { DEMO_ROLE_MAPPING } from "@/lib/config/env";
import { ConflictError, ForbiddenError } from "@/lib/errors";

/**
 * command() against a real (PGlite) database: the order of its checks (authorise, validate, fresh sign-in),
 * the service's writes and the audit event in one transaction, failure and denial events, error mapping, and
 * the fresh-sign-in gate reading the session's auth_time from the database. Next's request APIs are replaced
 * by a cookie jar and fixed headers.
 */

const state = vi.hoisted(() => {
  process.env.TRUSTED_PROXIES = "10.0.0.0/8";
  return { db: undefined as unknown, cookie: undefined as string | undefined };
});

vi.mock("next/headers", () => ({
  cookies: async () => ({
    get: (name: string) => (name === "authjs.session-token" && state.cookie ? { name, value: state.cookie } : undefined),
    set: () => {},
  }),
  headers: async () =>
    new Headers({
      "x-forwarded-for": "203.0.113.7, 10.0.0.1",
      "user-agent": "vitest-browser",
      "x-request-id": "req-cmd",
      referer: "http://localhost:3000/settings?tab=sessions",
    }),
}));
vi.mock("@/lib/db", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@/lib/db")>()),
  getDb: async () => state.db,
}));

const { authorizeSignIn, consoleAdapter, OIDC_PROVIDER_ID } = await import("./sign-in");
const { runInSignInScope } = await import("./sign-in-scope");
const { hashSessionToken } = await import("./session-token");
const { command } = await import("./command");
const { revokeSessionAction } = await import("@/app/(console)/settings/actions");

let t: TestDb;

/** Signs `sub` in the way the OIDC callback does; the id_token says it authenticated `authAgoSeconds` ago. */
async function login(sub: string, group: string, authAgoSeconds = 0): Promise<string> {
  const token = `tok-${sub}-${Math.random()}`;
  await runInSignInScope(null, async () => {
    const adapter = consoleAdapter(t.db);
    const profile = { sub, email: `${sub}@keyshare.example`, groups: [group], auth_time: Math.floor(Date.now() / 1000) - authAgoSeconds };
    const ok = await authorizeSignIn(t.db, { groupsClaim: "groups", roleMapping: DEMO_ROLE_MAPPING }, { provider: OIDC_PROVIDER_ID, providerAccountId: sub }, profile as never);
    expect(ok).toBe(true);
    let user = await adapter.getUserByAccount!({ provider: OIDC_PROVIDER_ID, providerAccountId: sub });
    if (!user) {
      const role = DEMO_ROLE_MAPPING[group];
      user = await adapter.createUser!({ id: crypto.randomUUID(), email: `${sub}@keyshare.example`, emailVerified: null, name: sub, role, groups: [group] } as never);
      await adapter.linkAccount!({ userId: user.id, type: "oidc", provider: OIDC_PROVIDER_ID, providerAccountId: sub });
    }
    await adapter.createSession!({ sessionToken: token, userId: user.id, expires: new Date(Date.now() + 3600_000) });
  });
  return token;
}

async function widgetIds(): Promise<string[]> {
  return rowsOf<{ id: string }>(await t.db.execute(sql`select id from ks_test_widgets order by id`)).map((x) => x.id);
}
async function auditCount(): Promise<number> {
  return (await t.db.select({ seq: auditEvents.seq }).from(auditEvents)).length;
}
async function events(action: string) {
  return t.db.select().from(auditEvents).where(eq(auditEvents.action, action)).orderBy(auditEvents.seq);
}

/** A domain service of the required shape: writes through the transaction it is given, never reads a session. */
async function createWidget(tx: Parameters<Parameters<typeof command>[0]["run"]>[1]["tx"], input: { id: string }, actor: { email?: string | null }) {
  await tx.execute(sql`insert into ks_test_widgets (id, made_by) values (${input.id}, ${actor.email ?? null})`);
  if (input.id === "conflict") throw new ConflictError("That widget is taken.");
  if (input.id === "forbidden") throw new ForbiddenError("Not this widget.");
  if (input.id === "boom") throw new Error("password=hunter2 connection refused");
  return { created: input.id };
}

const run = vi.fn(createWidget);
const widgetSchema = z.object({ id: z.string().min(1).max(20).regex(/^[a-z0-9-]+$/) });
const createWidgetAction = command({
  permission: "campaign:pause",
  input: widgetSchema,
  audit: (i) => ({ action: "widget.create", target: { type: "widget", id: i.id } }),
  run: async (i, { tx, actor, audit }) => {
    audit.addDetails({ note: "from the service" });
    return run(tx, i, actor);
  },
});
const freshWidgetAction = command({
  permission: "campaign:pause",
  input: widgetSchema,
  freshSignIn: true,
  audit: (i) => ({ action: "widget.fresh", target: { type: "widget", id: i.id } }),
  run: (i, { tx, actor }) => run(tx, i, actor),
});

let operator: string;
let viewer: string;

beforeAll(async () => {
  t = await createTestPglite();
  state.db = t.db;
  await t.db.execute(sql`create table ks_test_widgets (id text primary key, made_by text)`);
  operator = await login("operator", "keyshare-operators");
  viewer = await login("viewer", "keyshare-viewers");
});
afterAll(() => t?.close());
beforeEach(() => {
  state.cookie = undefined;
  run.mockClear();
});

describe("command: checks before any write", () => {
  it("refuses anonymous and unauthorised callers before parsing; the denial is audited as denied", async () => {
    const before = await auditCount();
    expect(await createWidgetAction({ id: "w-anon" })).toMatchObject({ ok: false, code: "unauthorized" });
    state.cookie = viewer;
    // Invalid input from a role without the permission is refused as forbidden, not as invalid: authorisation comes first.
    expect(await createWidgetAction({ id: "NOT VALID" })).toMatchObject({ ok: false, code: "forbidden" });
    expect(run).not.toHaveBeenCalled();
    expect(await widgetIds()).toEqual([]);
    const denied = (await events("access.denied")).at(-1);
    expect(denied).toMatchObject({ outcome: "denied", actorRole: "viewer", targetId: "campaign:pause" });
    expect(await auditCount()).toBe(before + 1);
  });

  it("invalid input: a field error, the service never runs, nothing is written, not even an audit event", async () => {
    state.cookie = operator;
    const before = await auditCount();
    const res = await createWidgetAction({ id: "NOT VALID" });
    expect(res).toMatchObject({ ok: false, code: "invalid", fieldErrors: { id: expect.any(Array) } });
    expect(JSON.stringify(res)).not.toContain("NOT VALID");
    expect(await createWidgetAction({} as never)).toMatchObject({ ok: false, code: "invalid" });
    expect(run).not.toHaveBeenCalled();
    expect(await widgetIds()).toEqual([]);
    expect(await auditCount()).toBe(before);
  });
});

describe("command: one transaction for the service and its audit event", () => {
  it("success: the write and the event (actor, request, target, details from the service) land together", async () => {
    state.cookie = operator;
    expect(await createWidgetAction({ id: "w-1" })).toEqual({ ok: true, data: { created: "w-1" } });
    expect(await widgetIds()).toContain("w-1");
    expect(run.mock.lastCall?.[2]).toMatchObject({ type: "user", role: "operator", email: "operator@keyshare.example", ip: "203.0.113.7", requestId: "req-cmd" });
    const ev = (await events("widget.create")).at(-1);
    expect(ev).toMatchObject({
      outcome: "success",
      actorRole: "operator",
      actorIp: "203.0.113.7",
      requestId: "req-cmd",
      targetType: "widget",
      targetId: "w-1",
      details: { note: "from the service" },
    });
  });

  it("an audit event that cannot be written rolls the service's write back", async () => {
    state.cookie = operator;
    await t.db.execute(
      sql.raw(`create or replace function ks_test_refuse_widget() returns trigger language plpgsql as $$
        begin if new.action = 'widget.create' then raise exception 'audit store refuses'; end if; return new; end $$`),
    );
    await t.db.execute(sql.raw(`create trigger ks_test_refuse_widget before insert on audit_events for each row execute function ks_test_refuse_widget()`));
    try {
      const res = await createWidgetAction({ id: "w-unaudited" });
      expect(res).toMatchObject({ ok: false, code: "error", errorId: expect.any(String) });
      expect(run).toHaveBeenCalledTimes(1);
    } finally {
      await t.db.execute(sql.raw(`drop trigger ks_test_refuse_widget on audit_events`));
    }
    expect(await widgetIds()).not.toContain("w-unaudited");
    expect((await events("widget.create")).map((e) => e.targetId)).not.toContain("w-unaudited");
  });

  it("a service error rolls its write back and records a failure (denied for ForbiddenError); messages stay safe", async () => {
    state.cookie = operator;
    expect(await createWidgetAction({ id: "conflict" })).toEqual({ ok: false, code: "conflict", error: "That widget is taken." });
    expect(await createWidgetAction({ id: "forbidden" })).toEqual({ ok: false, code: "forbidden", error: "Not this widget." });
    const boom = await createWidgetAction({ id: "boom" });
    expect(boom).toMatchObject({ ok: false, code: "error", errorId: expect.any(String) });
    expect(JSON.stringify(boom)).not.toContain("hunter2");
    expect(await widgetIds()).not.toContain("conflict");
    expect(await widgetIds()).not.toContain("forbidden");
    expect(await widgetIds()).not.toContain("boom");
    const byTarget = Object.fromEntries((await events("widget.create")).map((e) => [e.targetId, e]));
    expect(byTarget.conflict).toMatchObject({ outcome: "failure", reason: "That widget is taken." });
    expect(byTarget.forbidden).toMatchObject({ outcome: "denied", reason: "Not this widget." });
    expect(byTarget.boom).toMatchObject({ outcome: "failure", reason: "unexpected error" });
    expect(JSON.stringify(byTarget.boom)).not.toContain("hunter2");
  });
});

describe("command: fresh sign-in", () => {
  const backdate = (token: string, seconds: number | null) =>
    t.db
      .update(sessions)
      .set({ authTime: seconds === null ? null : new Date(Date.now() - seconds * 1000) })
      .where(eq(sessions.sessionToken, hashSessionToken(token)));

  it("runs when the session's auth_time is recent", async () => {
    state.cookie = await login("operator", "keyshare-operators", 10);
    expect(await freshWidgetAction({ id: "fresh-1" })).toEqual({ ok: true, data: { created: "fresh-1" } });
  });

  it("answers reauth_required, back to the calling page, when the database says the sign-in is older than 5 minutes or unknown", async () => {
    const token = await login("operator", "keyshare-operators");
    state.cookie = token;
    const before = await auditCount();
    for (const age of [301, 3600, null]) {
      await backdate(token, age);
      const res = await freshWidgetAction({ id: "stale" });
      expect(res).toEqual({
        ok: false,
        code: "reauth_required",
        error: expect.any(String),
        reauthUrl: `/reauth?callbackUrl=${encodeURIComponent("/settings?tab=sessions")}`,
      });
    }
    expect(run).not.toHaveBeenCalled();
    expect(await widgetIds()).not.toContain("stale");
    expect(await auditCount()).toBe(before);

    // The same session, its auth_time moved back into the window on the server: accepted.
    await backdate(token, 299);
    expect(await freshWidgetAction({ id: "stale" })).toMatchObject({ ok: true });
  });

  it("checks authorisation and input before freshness", async () => {
    const token = await login("viewer", "keyshare-viewers");
    state.cookie = token;
    await backdate(token, 3600);
    expect(await freshWidgetAction({ id: "x" })).toMatchObject({ code: "forbidden" });
    const op = await login("operator", "keyshare-operators");
    state.cookie = op;
    await backdate(op, 3600);
    expect(await freshWidgetAction({ id: "NOT VALID" })).toMatchObject({ code: "invalid" });
  });
});

describe("revokeSessionAction (Settings)", () => {
  it("needs sessions:manage and a fresh sign-in; then ends the session in the audited transaction", async () => {
    const victim = await login("victim", "keyshare-auditors");
    const [victimRow] = await t.db.select({ id: sessions.id }).from(sessions).where(eq(sessions.sessionToken, hashSessionToken(victim)));
    state.cookie = await login("operator", "keyshare-operators");
    expect(await revokeSessionAction({ sessionId: victimRow!.id })).toMatchObject({ ok: false, code: "forbidden" });

    const admin = await login("admin", "keyshare-admins", 600);
    state.cookie = admin;
    expect(await revokeSessionAction({ sessionId: "nope" })).toMatchObject({ ok: false, code: "invalid" });
    expect(await revokeSessionAction({ sessionId: victimRow!.id })).toMatchObject({ ok: false, code: "reauth_required" });
    expect(await t.db.select().from(sessions).where(eq(sessions.id, victimRow!.id))).toHaveLength(1);

    state.cookie = await login("admin", "keyshare-admins");
    expect(await revokeSessionAction({ sessionId: victimRow!.id })).toEqual({ ok: true, data: { revoked: true } });
    expect(await t.db.select().from(sessions).where(eq(sessions.id, victimRow!.id))).toEqual([]);
    const ev = (await events("session.revoke")).at(-1);
    expect(ev).toMatchObject({ outcome: "success", actorRole: "admin", targetId: victimRow!.id, details: { own: false } });
  });
});
