import { createHash } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createTestPglite, type TestDb } from "@/lib/db/testing";
import { accounts, sessions, users } from "@/lib/db/schema/auth";
import { auditEvents } from "@/lib/db/schema/audit";
import { DEMO_ROLE_MAPPING } from "@/lib/config/env";
import { ForbiddenError, UnauthorizedError } from "@/lib/errors";

/**
 * lib/auth against a real (PGlite) database: the audited login path Auth.js drives (signIn callback →
 * createUser/linkAccount → createSession), session validity rules, denials, revocation and the action
 * revocation action. Next's request APIs are replaced by a cookie jar and fixed headers.
 */

const state = vi.hoisted(() => {
  // The XFF below is "client, proxy": with the proxy trusted, the client is recorded.
  process.env.TRUSTED_PROXIES = "10.0.0.0/8";
  return { db: undefined as unknown, cookie: undefined as string | undefined };
});

vi.mock("next/headers", () => ({
  cookies: async () => ({
    get: (name: string) => (name === "authjs.session-token" && state.cookie ? { name, value: state.cookie } : undefined),
    set: (name: string, value: string) => {
      if (name === "authjs.session-token") state.cookie = value || undefined;
    },
  }),
  headers: async () =>
    new Headers({ "x-forwarded-for": "203.0.113.7, 10.0.0.1", "user-agent": "vitest-browser", "x-request-id": "req-1" }),
}));

vi.mock("@/lib/db", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@/lib/db")>()),
  getDb: async () => state.db,
}));

const { authorizeSignIn, consoleAdapter, OIDC_PROVIDER_ID } = await import("./sign-in");
const { getSession, requirePermission, listActiveSessions, loadValidSession } = await import("./session");
const { runInSignInScope } = await import("./sign-in-scope");
const { revokeSessionAction } = await import("@/app/(console)/settings/actions");
const { hashSessionToken } = await import("./session-token");
/** The row of a cookie value: the table holds only its hash. */
const byToken = (token: string) => eq(sessions.sessionToken, hashSessionToken(token));

let t: TestDb;
const AUTH = { groupsClaim: "groups", roleMapping: DEMO_ROLE_MAPPING };
const HOUR = 3600_000;

async function auditRows(action: string) {
  return t.db.select().from(auditEvents).where(eq(auditEvents.action, action));
}

/**
 * What Auth.js does for an OIDC login, in its order, inside the callback's sign-in scope (the id_token says the
 * user authenticated now). Returns the session token or the redirect.
 */
function login(sub: string, groups: unknown, token = `tok-${sub}-${Math.random()}`): Promise<{ token?: string; redirect?: string }> {
  return runInSignInScope(null, () => loginSteps(sub, groups, token));
}

async function loginSteps(sub: string, groups: unknown, token: string): Promise<{ token?: string; redirect?: string }> {
  const adapter = consoleAdapter(t.db);
  const profile = { sub, email: `${sub}@keyshare.example`, name: sub.toUpperCase(), groups, auth_time: Math.floor(Date.now() / 1000) } as never;
  const account = { provider: OIDC_PROVIDER_ID, providerAccountId: sub };
  const allowed = await authorizeSignIn(t.db, AUTH, account, profile);
  if (allowed !== true) return { redirect: allowed === false ? "denied" : allowed };
  let user = await adapter.getUserByAccount!({ provider: OIDC_PROVIDER_ID, providerAccountId: sub });
  if (!user) {
    const { resolveRole } = await import("./role-mapping");
    const r = resolveRole({ groups }, "groups", DEMO_ROLE_MAPPING);
    user = await adapter.createUser!({ id: crypto.randomUUID(), email: `${sub}@keyshare.example`, emailVerified: null, name: sub, role: r.role, groups: r.groups } as never);
    await adapter.linkAccount!({
      userId: user.id,
      type: "oidc",
      provider: OIDC_PROVIDER_ID,
      providerAccountId: sub,
      access_token: "SECRET-ACCESS-TOKEN",
      id_token: "SECRET-ID-TOKEN",
      refresh_token: "SECRET-REFRESH",
    });
  }
  await adapter.createSession!({ sessionToken: token, userId: user.id, expires: new Date(Date.now() + 8 * HOUR) });
  return { token };
}

beforeAll(async () => {
  t = await createTestPglite();
  state.db = t.db;
});
afterAll(() => t?.close());
beforeEach(() => {
  state.cookie = undefined;
});

describe("login", () => {
  it("a mapped user gets a session, an audited auth.login, and no OAuth tokens at rest", async () => {
    const { token } = await login("viewer", ["keyshare-viewers"]);
    expect(token).toBeDefined();
    state.cookie = token;
    const s = await getSession();
    expect(s?.user).toMatchObject({ email: "viewer@keyshare.example", role: "viewer", groups: ["keyshare-viewers"] });

    const [acct] = await t.db.select().from(accounts).where(eq(accounts.providerAccountId, "viewer"));
    expect(acct).toMatchObject({ access_token: null, id_token: null, refresh_token: null });

    const events = await auditRows("auth.login");
    const mine = events.find((e) => e.targetId === s!.user.sessionId);
    expect(mine).toMatchObject({ outcome: "success", actorType: "user", actorRole: "viewer", actorIp: "203.0.113.7", actorUserAgent: "vitest-browser", requestId: "req-1" });
    const [row] = await t.db.select({ ip: sessions.ipAddress }).from(sessions).where(byToken(token!));
    expect(row?.ip).toBe("203.0.113.7");
  });

  it("stores only a hash of the session token; every adapter call and getSession still find the session", async () => {
    const { token } = await login("hashed", ["keyshare-viewers"]);
    const stored = (await t.db.select({ v: sessions.sessionToken }).from(sessions)).map((r) => r.v);
    expect(stored).not.toContain(token);
    expect(stored).toContain(createHash("sha256").update(token!).digest("hex"));
    expect(JSON.stringify(await t.db.execute(sql`select * from sessions`))).not.toContain(token!);

    state.cookie = token;
    expect((await getSession())?.user.email).toBe("hashed@keyshare.example");
    const adapter = consoleAdapter(t.db);
    const found = await adapter.getSessionAndUser!(token!);
    expect(found?.session.sessionToken).toBe(token);
    expect(found?.user.email).toBe("hashed@keyshare.example");
    const later = new Date(Date.now() + HOUR);
    expect(await adapter.updateSession!({ sessionToken: token!, expires: later })).toMatchObject({ sessionToken: token, expires: later });
    // The stored hash is not a token: presented as a cookie it finds nothing.
    expect(await loadValidSession(hashSessionToken(token!))).toBeNull();
    expect(await adapter.getSessionAndUser!(hashSessionToken(token!))).toBeNull();
    await adapter.deleteSession!(token!);
    expect(await t.db.select().from(sessions).where(byToken(token!))).toEqual([]);
    expect(await getSession()).toBeNull();
  });

  it("a clear-text row from before hashing no longer matches (its user signs in again)", async () => {
    await login("legacy", ["keyshare-viewers"]);
    const [u] = await t.db.select({ id: users.id }).from(users).where(eq(users.email, "legacy@keyshare.example"));
    const legacy = crypto.randomUUID();
    await t.db.insert(sessions).values({ sessionToken: legacy, userId: u!.id, expires: new Date(Date.now() + HOUR) });
    state.cookie = legacy;
    expect(await getSession()).toBeNull();
  });

  it("stores the role from the groups at every sign-in (role changes apply at next login)", async () => {
    await login("shifter", ["keyshare-viewers"]);
    const { token } = await login("shifter", ["keyshare-officers", "keyshare-viewers"]);
    state.cookie = token;
    expect((await getSession())?.user.role).toBe("officer");
  });

  it("an unmapped user gets no session, goes to /no-access, and the denial is audited", async () => {
    const before = (await t.db.select().from(sessions)).length;
    expect(await login("nobody", ["contractors"])).toEqual({ redirect: "/no-access" });
    expect(await login("noclaim", undefined)).toEqual({ redirect: "/no-access" });
    expect((await t.db.select().from(sessions)).length).toBe(before);
    const denied = (await auditRows("auth.login")).filter((e) => e.outcome === "denied");
    expect(denied.map((e) => e.targetId)).toEqual(expect.arrayContaining(["nobody", "noclaim"]));
    expect(denied.find((e) => e.targetId === "nobody")?.reason).toBe("no mapped group");
    expect(denied.find((e) => e.targetId === "noclaim")?.reason).toBe("no groups claim");
  });

  it("a user removed from every mapped group loses role and existing sessions at the next login", async () => {
    const { token } = await login("leaver", ["keyshare-operators"]);
    state.cookie = token;
    expect((await getSession())?.user.role).toBe("operator");
    expect(await login("leaver", ["contractors"])).toEqual({ redirect: "/no-access" });
    expect(await loadValidSession(token!)).toBeNull();
    const [u] = await t.db.select({ role: users.role }).from(users).where(eq(users.email, "leaver@keyshare.example"));
    expect(u?.role).toBeNull();
  });

  it("fails closed: no audit record, no session", async () => {
    const adapter = consoleAdapter(t.db);
    await login("auditfail", ["keyshare-viewers"]);
    const user = await adapter.getUserByAccount!({ provider: OIDC_PROVIDER_ID, providerAccountId: "auditfail" });
    await t.db.execute(sql`alter table audit_chain_head rename to audit_chain_head_off`);
    try {
      await expect(
        adapter.createSession!({ sessionToken: "tok-no-audit", userId: user!.id, expires: new Date(Date.now() + HOUR) }),
      ).rejects.toThrow();
    } finally {
      await t.db.execute(sql`alter table audit_chain_head_off rename to audit_chain_head`);
    }
    expect(await t.db.select().from(sessions).where(byToken("tok-no-audit"))).toEqual([]);
  });
});

describe("sign-in time (auth_time)", () => {
  it("the session row keeps the id_token's auth_time; without one (outside a callback) it stays null", async () => {
    const before = Date.now();
    const { token } = await login("authtime", ["keyshare-viewers"]);
    const [row] = await t.db.select({ authTime: sessions.authTime }).from(sessions).where(byToken(token!));
    expect(row!.authTime!.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(row!.authTime!.getTime()).toBeLessThanOrEqual(Date.now());

    const other = await loginSteps("authtime", ["keyshare-viewers"], `tok-${Math.random()}`);
    const [bare] = await t.db.select({ authTime: sessions.authTime }).from(sessions).where(byToken(other.token!));
    expect(bare!.authTime).toBeNull();
  });

  it("a sign-in inside a callback replaces the browser's current session, in the audited transaction", async () => {
    const first = await login("replaced", ["keyshare-viewers"]);
    const [old] = await t.db.select({ id: sessions.id }).from(sessions).where(byToken(first.token!));
    const second = await runInSignInScope(first.token, () => loginSteps("replaced", ["keyshare-viewers"], `tok-${Math.random()}`));
    expect(await t.db.select().from(sessions).where(byToken(first.token!))).toEqual([]);
    const [now] = await t.db.select({ id: sessions.id }).from(sessions).where(byToken(second.token!));
    const ev = (await auditRows("auth.login")).find((e) => e.targetId === now!.id);
    expect(ev?.details).toMatchObject({ replacesSession: old!.id });
  });
});

describe("session lifetime", () => {
  it("idles out after 30 minutes without use and the row is deleted", async () => {
    const { token } = await login("idler", ["keyshare-viewers"]);
    await t.db.update(sessions).set({ lastActiveAt: new Date(Date.now() - 31 * 60_000) }).where(byToken(token!));
    state.cookie = token;
    expect(await getSession()).toBeNull();
    expect(await t.db.select().from(sessions).where(byToken(token!))).toEqual([]);
  });

  it("ends 8 hours after creation even when active", async () => {
    const { token } = await login("marathon", ["keyshare-viewers"]);
    await t.db.update(sessions).set({ createdAt: new Date(Date.now() - 8 * HOUR - 1000) }).where(byToken(token!));
    expect(await loadValidSession(token!)).toBeNull();
  });

  it("use slides the idle limit", async () => {
    const { token } = await login("busy", ["keyshare-viewers"]);
    await t.db.update(sessions).set({ lastActiveAt: new Date(Date.now() - 20 * 60_000) }).where(byToken(token!));
    expect(await loadValidSession(token!)).not.toBeNull();
    const [row] = await t.db.select({ at: sessions.lastActiveAt }).from(sessions).where(byToken(token!));
    expect(Date.now() - row!.at.getTime()).toBeLessThan(5_000);
  });

  it("an unknown token is no session", async () => {
    state.cookie = "forged";
    expect(await getSession()).toBeNull();
  });
});

describe("authorisation", () => {
  it("requirePermission: no session → Unauthorized; missing permission → Forbidden, audited", async () => {
    await expect(requirePermission("inventory:read")).rejects.toBeInstanceOf(UnauthorizedError);
    const { token } = await login("viewer2", ["keyshare-viewers"]);
    state.cookie = token;
    await expect(requirePermission("inventory:read")).resolves.toMatchObject({ role: "viewer" });
    await expect(requirePermission("settings:read")).rejects.toBeInstanceOf(ForbiddenError);
    const denied = await auditRows("access.denied");
    expect(denied.at(-1)).toMatchObject({ outcome: "denied", actorRole: "viewer", targetId: "settings:read" });
  });

  it("admins list sessions (no tokens) and revoke one; the revoked session is dead at once", async () => {
    const victim = await login("victim", ["keyshare-auditors"]);
    const { token: adminToken } = await login("admin", ["keyshare-admins"]);
    state.cookie = adminToken;
    const list = await listActiveSessions();
    const target = list.find((s) => s.userEmail === "victim@keyshare.example");
    expect(target).toBeDefined();
    expect(JSON.stringify(list)).not.toContain(victim.token!);
    expect(JSON.stringify(list)).not.toContain(hashSessionToken(victim.token!));
    expect(list.find((s) => s.current)?.userEmail).toBe("admin@keyshare.example");

    expect(await revokeSessionAction({ sessionId: target!.id })).toEqual({ ok: true, data: { revoked: true } });
    expect(await loadValidSession(victim.token!)).toBeNull();
    const ev = (await auditRows("session.revoke")).at(-1);
    expect(ev).toMatchObject({ outcome: "success", actorRole: "admin", targetId: target!.id });
    expect(ev?.details).toMatchObject({ own: false });

    expect(await revokeSessionAction({ sessionId: target!.id })).toMatchObject({ ok: false, code: "not_found" });
    expect((await auditRows("session.revoke")).at(-1)?.outcome).toBe("failure");
  });

  it("non-admins can neither list nor revoke sessions", async () => {
    const { token } = await login("officer", ["keyshare-officers"]);
    state.cookie = token;
    await expect(listActiveSessions()).rejects.toBeInstanceOf(ForbiddenError);
    expect(await revokeSessionAction({ sessionId: crypto.randomUUID() })).toMatchObject({ ok: false, code: "forbidden" });
  });
});
