import { describe, expect, it } from "vitest";
import { API_CSP, HSTS_VALUE, hstsEnabled, newNonce, pageContentSecurityPolicy, securityHeaders } from "./security-headers";

/** The directives of a policy, by name. */
function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name!.toLowerCase(), values]),
  );
}

describe("page Content-Security-Policy", () => {
  it("allows scripts by this response's nonce only: no 'unsafe-inline', no eval outside next dev", () => {
    const nonce = newNonce();
    const d = directives(pageContentSecurityPolicy(nonce, "https://sso.example.com", false));
    const scripts = d.get("script-src")!;
    expect(scripts).toContain(`'nonce-${nonce}'`);
    expect(scripts).toContain("'strict-dynamic'");
    expect(scripts).not.toContain("'unsafe-inline'");
    expect(scripts).not.toContain("'unsafe-eval'");
    expect(d.get("script-src-attr") ?? ["'none'"]).not.toContain("'unsafe-inline'");
    expect(d.get("script-src-elem") ?? ["'none'"]).not.toContain("'unsafe-inline'");
    expect(d.get("style-src")).toContain(`'nonce-${nonce}'`);
    expect(d.get("style-src")).not.toContain("'unsafe-inline'");
    expect(d.get("frame-ancestors")).toEqual(["'none'"]);
    expect(d.get("object-src")).toEqual(["'none'"]);
    expect(d.get("base-uri")).toEqual(["'self'"]);
    expect(d.get("form-action")).toEqual(["'self'", "https://sso.example.com"]);
    expect(d.get("default-src")).toEqual(["'self'"]);
  });

  it("only next dev gets 'unsafe-eval' (hot reload), never 'unsafe-inline'", () => {
    const scripts = directives(pageContentSecurityPolicy("n", null, true)).get("script-src")!;
    expect(scripts).toContain("'unsafe-eval'");
    expect(scripts).not.toContain("'unsafe-inline'");
    expect(directives(pageContentSecurityPolicy("n", null, false)).get("form-action")).toEqual(["'self'"]);
  });

  it("a fresh nonce each time, 128 bits in the CSP's base64 grammar", () => {
    const seen = new Set(Array.from({ length: 200 }, () => newNonce()));
    expect(seen.size).toBe(200);
    for (const n of seen) {
      expect(n).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(Buffer.from(n, "base64")).toHaveLength(16);
    }
  });
});

describe("securityHeaders", () => {
  it("pages: the nonce policy; route handlers: nothing may run or frame them", () => {
    const page = securityHeaders({ kind: "page", nonce: "abc", idpOrigin: null, hsts: false });
    expect(page["Content-Security-Policy"]).toContain("'nonce-abc'");
    const api = securityHeaders({ kind: "api", hsts: false });
    expect(api["Content-Security-Policy"]).toBe(API_CSP);
    expect(directives(API_CSP).get("default-src")).toEqual(["'none'"]);
    expect(directives(API_CSP).get("frame-ancestors")).toEqual(["'none'"]);
    expect(() => securityHeaders({ kind: "page", hsts: false })).toThrow(/nonce/);
  });

  it("HSTS exactly when asked", () => {
    expect(securityHeaders({ kind: "api", hsts: true })["Strict-Transport-Security"]).toBe(HSTS_VALUE);
    expect(securityHeaders({ kind: "page", nonce: "n", hsts: true })["Strict-Transport-Security"]).toBe(HSTS_VALUE);
    expect(securityHeaders({ kind: "page", nonce: "n", hsts: false })).not.toHaveProperty("Strict-Transport-Security");
    expect(HSTS_VALUE).toMatch(/max-age=(\d+)/);
    expect(Number(/max-age=(\d+)/.exec(HSTS_VALUE)![1])).toBeGreaterThanOrEqual(31_536_000);
  });
});

describe("hstsEnabled", () => {
  it("on when the console's public URL is https", () => {
    expect(hstsEnabled("https://keyshare.example.com")).toBe(true);
    expect(hstsEnabled("https://keyshare.example.com:8443/console")).toBe(true);
  });

  it("off on plain http, on loopback hosts (even https) and without a public URL", () => {
    for (const url of [undefined, "", "http://keyshare.example.com", "http://localhost:3000", "https://localhost:3000", "https://127.0.0.1", "https://[::1]:8443", "garbage"]) {
      expect(hstsEnabled(url), String(url)).toBe(false);
    }
  });
});
