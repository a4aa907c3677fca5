import { createHash, randomBytes } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { NextRequest } from "next/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { auditEvents } from "@/lib/db/schema/audit";
import { sessions } from "@/lib/db/schema/auth";
import { createTestPglite, type TestDb } from "@/lib/db/testing";
import { DEMO_PASSWORD, startDevIdp, type DevIdp } from "@/lib/devstack/idp/server";

/**
 * The real sign-in flow in-process: Auth.js's route handlers (lib/auth/route-handlers.ts, as
 * app/api/auth/[...nextauth] serves them) against the dev OIDC provider and PGlite — CSRF, sign-in
 * redirect, the IdP's login form, the callback that creates the session, /api/auth/session and sign-out.
 * Next's request-scoped `headers()` is replaced by the headers of the request being handled.
 */

const APP = "http://localhost:3210";
const CLIENT_ID = "keyshare-console";
const CLIENT_SECRET = `flow-${randomBytes(12).toString("hex")}`;
const COOKIE = "authjs.session-token";

const state = vi.hoisted(() => {
  // Auth.js logs a warning per failed callback; the flood below would print thousands.
  process.env.LOG_LEVEL = "error";
  return { db: undefined as unknown, headers: new Headers(), cookieJar: undefined as undefined | Map<string, string> };
});

vi.mock("next/headers", () => ({
  headers: async () => state.headers,
  // Only the /reauth handler (Auth.js's server-side signIn) uses the request's cookie store; it gets the jar.
  cookies: async () => {
    const jar = state.cookieJar;
    if (!jar) throw new Error("not in a request scope");
    return {
      get: (name: string) => (jar.has(name) ? { name, value: jar.get(name)! } : undefined),
      set: (name: string, value: string) => void (value ? jar.set(name, value) : jar.delete(name)),
    };
  },
}));
vi.mock("@/lib/db", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@/lib/db")>()),
  getDb: async () => state.db,
}));

let t: TestDb;
let idp: DevIdp;
let handlers: typeof import("./route-handlers");
let loadValidSession: typeof import("./session").loadValidSession;

class Jar {
  readonly cookies = new Map<string, string>();
  store(res: Response) {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(";");
      const i = pair!.indexOf("=");
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (value === "" || attrs.some((a) => /expires=Thu, 01 Jan 1970/i.test(a) || /max-age=0\b/i.test(a.trim()))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

/** Calls the app's /api/auth handler the way Next would, from `ip` behind a trusted proxy. */
async function app(method: "GET" | "POST", path: string, jar: Jar, opts: { form?: Record<string, string>; ip?: string } = {}) {
  const headers = new Headers({
    cookie: jar.header(),
    "user-agent": "flow-test-browser",
    "x-request-id": crypto.randomUUID(),
    "x-forwarded-for": `${opts.ip ?? "198.51.100.9"}, 10.9.8.7`,
  });
  if (opts.form) headers.set("content-type", "application/x-www-form-urlencoded");
  state.headers = headers;
  const req = new NextRequest(`${APP}${path}`, { method, headers, body: opts.form ? new URLSearchParams(opts.form).toString() : undefined });
  const res = await (method === "GET" ? handlers.GET(req) : handlers.POST(req));
  jar.store(res);
  return res;
}

async function idpFetch(url: string, jar: Jar, form?: Record<string, string>): Promise<Response> {
  const res = await fetch(url, {
    method: form ? "POST" : "GET",
    redirect: "manual",
    headers: { cookie: jar.header(), ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}) },
    body: form ? new URLSearchParams(form) : undefined,
  });
  jar.store(res);
  return res;
}

/** Follows redirects while they stay on the IdP; returns the first that leaves it. */
async function followIdp(res: Response, jar: Jar): Promise<Response> {
  let r = res;
  for (let i = 0; i < 10 && r.status >= 300 && r.status < 400; i++) {
    const loc = new URL(r.headers.get("location")!, idp.issuer).toString();
    if (!loc.startsWith(idp.issuer)) return r;
    r = await idpFetch(loc, jar);
  }
  return r;
}

/** The browser's whole sign-in; returns the app's cookie jar (holding the session cookie). */
async function signIn(username: string, idpJar = new Jar()): Promise<Jar> {
  const jar = new Jar();
  const csrf = (await (await app("GET", "/api/auth/csrf", jar)).json()) as { csrfToken: string };
  const start = await app("POST", "/api/auth/signin/oidc", jar, { form: { csrfToken: csrf.csrfToken, callbackUrl: "/" } });
  expect(start.status).toBe(302);
  const authorize = start.headers.get("location")!;
  expect(authorize.startsWith(idp.issuer)).toBe(true);
  const interaction = await followIdp(await idpFetch(authorize, idpJar), idpJar);
  const interactionUrl = new URL(interaction.headers.get("location") ?? interaction.url, idp.issuer).toString();
  const form = await idpFetch(interactionUrl, idpJar);
  expect(form.status).toBe(200);
  const back = await followIdp(await idpFetch(`${interactionUrl}/login`, idpJar, { username, password: DEMO_PASSWORD }), idpJar);
  const callback = new URL(back.headers.get("location")!);
  expect(`${callback.origin}${callback.pathname}`).toBe(`${APP}/api/auth/callback/oidc`);
  const done = await app("GET", `${callback.pathname}${callback.search}`, jar);
  expect(done.status).toBe(302);
  expect(new URL(done.headers.get("location")!, APP).pathname).toBe("/");
  return jar;
}

beforeAll(async () => {
  idp = await startDevIdp({
    port: 0,
    quiet: true,
    env: { NODE_ENV: "test" },
    clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [`${APP}/api/auth/callback/oidc`] }],
  });
  Object.assign(process.env, {
    AUTH_OIDC_ISSUER: idp.issuer,
    AUTH_OIDC_CLIENT_ID: CLIENT_ID,
    AUTH_OIDC_CLIENT_SECRET: CLIENT_SECRET,
    AUTH_SECRET: randomBytes(33).toString("base64"),
    AUTH_URL: APP,
    TRUSTED_PROXIES: "10.0.0.0/8",
  });
  t = await createTestPglite();
  state.db = t.db;
  handlers = await import("./route-handlers");
  ({ loadValidSession } = await import("./session"));
}, 60_000);

afterAll(async () => {
  handlers?.anonymousFailures().stop();
  await t?.close();
  await idp?.close();
});

describe("sign-in through Auth.js and the dev IdP", () => {
  it("the cookie holds the token, the database only its SHA-256; the session works until sign-out", async () => {
    const jar = await signIn("officer");
    const token = jar.cookies.get(COOKIE);
    expect(token).toBeTruthy();
    expect(Buffer.from(token!, "base64url").length).toBeGreaterThanOrEqual(32);

    // Nothing in the sessions table, in any column, is the cookie value.
    const dump = JSON.stringify(await t.db.execute(sql`select * from sessions`));
    expect(dump).not.toContain(token!);
    const [row] = await t.db.select().from(sessions).where(eq(sessions.sessionToken, createHash("sha256").update(token!).digest("hex")));
    expect(row).toMatchObject({ ipAddress: "198.51.100.9", userAgent: "flow-test-browser" });

    const session = await loadValidSession(token!);
    expect(session?.user).toMatchObject({ role: "officer", sessionId: row!.id });
    const [login] = await t.db.select().from(auditEvents).where(eq(auditEvents.targetId, row!.id));
    expect(login).toMatchObject({ action: "auth.login", outcome: "success", actorIp: "198.51.100.9" });

    // Auth.js's own session endpoint (readable by page script) finds it, and never echoes the token.
    const res = await app("GET", "/api/auth/session", jar);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ user: { email: expect.stringContaining("officer") } });
    expect(text).not.toContain(token!);
    expect(text).not.toContain(row!.sessionToken);

    const csrf = (await (await app("GET", "/api/auth/csrf", jar)).json()) as { csrfToken: string };
    await app("POST", "/api/auth/signout", jar, { form: { csrfToken: csrf.csrfToken } });
    expect(await t.db.select().from(sessions).where(eq(sessions.id, row!.id))).toEqual([]);
    expect(await loadValidSession(token!)).toBeNull();
  });
});

describe("re-authentication (/reauth)", () => {
  it("asks the IdP for a new password login inside its live session, then replaces the session with one whose auth_time is fresh", async () => {
    const { startReauthentication } = await import("./reauth");
    const idpJar = new Jar();
    const jar = await signIn("admin", idpJar);
    const oldToken = jar.cookies.get(COOKIE)!;
    const [old] = await t.db.select().from(sessions).where(eq(sessions.sessionToken, createHash("sha256").update(oldToken).digest("hex")));
    expect(old!.authTime).toBeInstanceOf(Date);
    expect(Math.abs(old!.authTime!.getTime() - Date.now())).toBeLessThan(10_000);
    await new Promise((r) => setTimeout(r, 1100));

    // GET /reauth?callbackUrl=… as the browser sends it; the state, PKCE and nonce cookies land in its jar.
    state.headers = new Headers({ cookie: jar.header(), "user-agent": "flow-test-browser", "x-forwarded-for": "198.51.100.9, 10.9.8.7" });
    state.cookieJar = jar.cookies;
    let start: Response;
    try {
      start = await startReauthentication(new NextRequest(`${APP}/reauth?callbackUrl=${encodeURIComponent("/settings?x=1")}`, { headers: state.headers }));
    } finally {
      state.cookieJar = undefined;
    }
    expect(start.status).toBe(303);
    const authorize = new URL(start.headers.get("location")!);
    expect(authorize.href.startsWith(idp.issuer)).toBe(true);
    expect(authorize.searchParams.get("prompt")).toBe("login");
    expect(authorize.searchParams.get("max_age")).toBe("0");

    // The IdP still has a session for admin, yet shows the password form.
    const interaction = await followIdp(await idpFetch(authorize.href, idpJar), idpJar);
    const interactionUrl = new URL(interaction.headers.get("location") ?? interaction.url, idp.issuer).toString();
    const form = await idpFetch(interactionUrl, idpJar);
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('data-testid="idp-password"');
    const back = await followIdp(await idpFetch(`${interactionUrl}/login`, idpJar, { username: "admin", password: DEMO_PASSWORD }), idpJar);
    const callback = new URL(back.headers.get("location")!);
    const done = await app("GET", `${callback.pathname}${callback.search}`, jar);
    expect(done.status).toBe(302);
    expect(new URL(done.headers.get("location")!, APP).pathname + new URL(done.headers.get("location")!, APP).search).toBe("/settings?x=1");

    // A new cookie and row; the old one is gone; the new auth_time is the new login's.
    const newToken = jar.cookies.get(COOKIE)!;
    expect(newToken).toBeTruthy();
    expect(newToken).not.toBe(oldToken);
    expect(await loadValidSession(oldToken)).toBeNull();
    expect(await t.db.select().from(sessions).where(eq(sessions.id, old!.id))).toEqual([]);
    const fresh = await loadValidSession(newToken);
    expect(fresh?.user.role).toBe("admin");
    expect(fresh!.authTime!.getTime()).toBeGreaterThan(old!.authTime!.getTime());
    const [login] = await t.db.select().from(auditEvents).where(eq(auditEvents.targetId, fresh!.user.sessionId));
    expect(login).toMatchObject({ action: "auth.login", outcome: "success" });
    expect(login!.details).toMatchObject({ replacesSession: old!.id });
  });

  it("without a session it is an ordinary sign-in, and an outside callbackUrl is dropped", async () => {
    const { startReauthentication } = await import("./reauth");
    state.headers = new Headers();
    state.cookieJar = new Map();
    try {
      const res = await startReauthentication(new NextRequest(`${APP}/reauth?callbackUrl=${encodeURIComponent("https://evil.example/x")}`));
      expect(res.status).toBe(303);
      const to = new URL(res.headers.get("location")!);
      expect(to.pathname).toBe("/login");
      expect(to.searchParams.get("callbackUrl")).toBe("/");
    } finally {
      state.cookieJar = undefined;
    }
  });
});

describe("anonymous callback failures", () => {
  it("a flood of callbacks without state adds one event per source and kind, then one count per minute", async () => {
    const count = async () => Number((await t.db.select({ n: sql<number>`count(*)` }).from(auditEvents))[0]!.n);
    const before = await count();
    const N = 2000;
    const sources = ["203.0.113.10", "2001:db8::10"];
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < N) {
          const i = next++;
          const res = await app("GET", "/api/auth/callback/oidc?code=x", new Jar(), { ip: sources[i % 2] });
          expect(new URL(res.headers.get("location")!, APP).pathname).toBe("/login");
        }
      }),
    );
    const after = await count();
    expect(after - before).toBe(2);
    const first = await t.db.select().from(auditEvents).where(sql`${auditEvents.seq} > ${before}`);
    expect(first.map((e) => e.actorIp).sort()).toEqual(["2001:db8::10", "203.0.113.10"]);
    expect(first.every((e) => e.action === "auth.login" && e.outcome === "failure" && e.actorType === "anonymous")).toBe(true);

    // The timer's flush, a minute on: one summary per source carrying the suppressed count.
    await handlers.anonymousFailures().flush(Date.now() + 61_000);
    const summaries = await t.db.select().from(auditEvents).where(sql`${auditEvents.seq} > ${after}`);
    expect(summaries).toHaveLength(2);
    expect(summaries.reduce((n, e) => n + Number(e.details.suppressed), 0)).toBe(N - 2);
  }, 120_000);
});
