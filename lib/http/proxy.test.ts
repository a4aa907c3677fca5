import { afterEach, describe, expect, it, vi } from "vitest";
import { NextRequest } from "next/server";

/**
 * proxy.ts as Next runs it, under a given configuration: each case loads a fresh copy (getConfig caches).
 * The browser-level checks of the same headers on every page and route are in e2e/security-headers.spec.ts.
 */

const PRODUCTION = {
  NODE_ENV: "production",
  KEYSHARE_EMBEDDED: "",
  DATABASE_URL: "postgres://u:p@db.internal:5432/wallets",
  VAULT_ADDR: "https://vault.internal:8200",
  VAULT_TOKEN: "hvs.x",
  AUTH_OIDC_ISSUER: "https://sso.example.com",
  AUTH_OIDC_CLIENT_ID: "console",
  AUTH_OIDC_CLIENT_SECRET: "s3cret",
  AUTH_SECRET: "x".repeat(32),
  AUTH_URL: "https://keyshare.example.com",
  AUTH_ROLE_MAPPING: "sec-admins=admin",
};

const EMBEDDED = {
  NODE_ENV: "production",
  KEYSHARE_EMBEDDED: "1",
  DATABASE_URL: "",
  VAULT_ADDR: "http://127.0.0.1:8200",
  VAULT_TOKEN: "dev",
  AUTH_OIDC_ISSUER: "http://localhost:3001",
  AUTH_OIDC_CLIENT_ID: "keyshare-console",
  AUTH_OIDC_CLIENT_SECRET: "dev",
  AUTH_SECRET: "y".repeat(43),
  AUTH_URL: "http://localhost:3000",
  AUTH_ROLE_MAPPING: "",
};

async function proxyWith(env: Record<string, string>) {
  vi.resetModules();
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  return (await import("@/proxy")).proxy;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

const cookie = { cookie: "authjs.session-token=t; __Secure-authjs.session-token=t" };

describe("proxy: HSTS from the validated configuration, per request", () => {
  it("production with an https AUTH_URL: HSTS on pages, route handlers and redirects", async () => {
    const proxy = await proxyWith(PRODUCTION);
    for (const req of [
      new NextRequest("http://10.0.0.7:3000/wallets", { headers: cookie }),
      new NextRequest("http://10.0.0.7:3000/api/health"),
      new NextRequest("http://10.0.0.7:3000/wallets"),
    ]) {
      const res = proxy(req);
      expect(res.headers.get("strict-transport-security"), req.url).toMatch(/^max-age=\d+; includeSubDomains$/);
    }
  });

  it("embedded launcher (plain http on loopback): no HSTS, even when a client claims https", async () => {
    const proxy = await proxyWith(EMBEDDED);
    for (const req of [
      new NextRequest("http://localhost:3000/", { headers: cookie }),
      new NextRequest("https://localhost:3000/", { headers: { ...cookie, "x-forwarded-proto": "https" } }),
      new NextRequest("http://localhost:3000/api/health"),
    ]) {
      expect(proxy(req).headers.get("strict-transport-security"), req.url).toBeNull();
    }
  });
});

describe("proxy: pages get a fresh nonce policy, route handlers a policy of their own", () => {
  it("a different nonce on every response, handed to Next on the request", async () => {
    const proxy = await proxyWith(PRODUCTION);
    const nonces = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const res = proxy(new NextRequest("http://10.0.0.7:3000/", { headers: cookie }));
      const csp = res.headers.get("content-security-policy")!;
      const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
      expect(/script-src ([^;]*)/.exec(csp)![1]).not.toContain("'unsafe-inline'");
      expect(csp).toContain("frame-ancestors 'none'");
      // NextResponse.next forwards request header overrides as x-middleware-request-* headers.
      expect(res.headers.get("x-middleware-request-x-nonce")).toBe(nonce);
      expect(res.headers.get("x-middleware-request-content-security-policy")).toBe(csp);
      nonces.add(nonce);
    }
    expect(nonces.size).toBe(5);
    const api = proxy(new NextRequest("http://10.0.0.7:3000/api/health")).headers.get("content-security-policy");
    expect(api).toContain("default-src 'none'");
    expect(api).toContain("frame-ancestors 'none'");
  });
});

describe("proxy: server actions from anywhere but the console are refused with 403", () => {
  const action = { ...cookie, "next-action": "40c0ffee", "content-type": "text/plain;charset=UTF-8" };

  it("production: null, foreign and missing Origin, and cross-site fetches", async () => {
    const proxy = await proxyWith(PRODUCTION);
    const refused: Record<string, string>[] = [
      { origin: "null" },
      { origin: "https://evil.example" },
      {},
      { origin: "https://keyshare.example.com", "sec-fetch-site": "cross-site" },
      // Host is the client's to choose: it does not widen what production accepts.
      { origin: "http://10.0.0.7:3000" },
    ];
    for (const extra of refused) {
      const res = proxy(new NextRequest("http://10.0.0.7:3000/settings", { method: "POST", headers: { ...action, ...extra }, body: "[]" }));
      expect(res.status, JSON.stringify(extra)).toBe(403);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(await res.text()).toMatch(/^Forbidden: server action refused/);
      expect(res.headers.get("x-middleware-next")).toBeNull();
    }
    // A form post (no header) is a server action too.
    const form = proxy(new NextRequest("http://10.0.0.7:3000/login", { method: "POST", headers: { "content-type": "multipart/form-data; boundary=b", origin: "https://evil.example" }, body: "--b--" }));
    expect(form.status).toBe(403);
    const ok = proxy(new NextRequest("http://10.0.0.7:3000/settings", { method: "POST", headers: { ...action, origin: "https://keyshare.example.com", "sec-fetch-site": "same-origin" }, body: "[]" }));
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-middleware-next")).toBe("1");
  });

  it("embedded: the launcher's own origin passes, others are refused", async () => {
    const proxy = await proxyWith(EMBEDDED);
    const req = (origin?: string) =>
      new NextRequest("http://localhost:3000/settings", { method: "POST", headers: { ...action, ...(origin ? { origin } : {}) }, body: "[]" });
    expect(proxy(req("http://localhost:3000")).status).toBe(200);
    expect(proxy(req()).status).toBe(403);
    expect(proxy(req("null")).status).toBe(403);
    expect(proxy(req("http://localhost:4000")).status).toBe(403);
  });
});
