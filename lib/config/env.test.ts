import { describe, expect, it } from "vitest";
import { ConfigError, DEMO_ROLE_MAPPING, isLoopbackHost, isLoopbackUrl, loadConfig } from "./env";

const PROD_OK = {
  NODE_ENV: "production",
  DATABASE_URL: "postgres://u:p@db:5432/wallets",
  VAULT_ADDR: "https://vault.internal:8200",
  VAULT_TOKEN: "hvs.x",
  AUTH_OIDC_ISSUER: "https://sso.example.com",
  AUTH_OIDC_CLIENT_ID: "console",
  AUTH_OIDC_CLIENT_SECRET: "s3cret",
  AUTH_SECRET: "x".repeat(32),
  AUTH_URL: "https://keyshare.example.com",
  AUTH_ROLE_MAPPING: "sec-officers=officer,sec-viewers=viewer",
};

/** What scripts/start.ts hands the console: every component its own, on this machine. */
const EMBEDDED_OK = {
  NODE_ENV: "production",
  KEYSHARE_EMBEDDED: "1",
  DATA_DIR: "/tmp/ks-demo",
  DATABASE_URL: "",
  VAULT_ADDR: "http://127.0.0.1:41234",
  VAULT_TOKEN: "dev-root-abc",
  VAULT_ROLE_ID: "",
  VAULT_SECRET_ID: "",
  AUTH_OIDC_ISSUER: "http://localhost:3001",
  AUTH_OIDC_CLIENT_ID: "keyshare-console",
  AUTH_OIDC_CLIENT_SECRET: "dev",
  AUTH_SECRET: "y".repeat(43),
  AUTH_URL: "http://localhost:3000",
  AUTH_TRUST_HOST: "true",
  AUTH_ROLE_MAPPING: "",
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("loadConfig", () => {
  it("refuses production while any dev component would be used, naming every missing setting", () => {
    const problems = problemsOf({ NODE_ENV: "production" }).join("\n");
    for (const name of ["DATABASE_URL", "VAULT_ADDR", "VAULT_TOKEN", "AUTH_OIDC_ISSUER", "AUTH_OIDC_CLIENT_ID", "AUTH_OIDC_CLIENT_SECRET", "AUTH_SECRET", "AUTH_URL", "AUTH_ROLE_MAPPING"]) {
      expect(problems).toContain(name);
    }
  });

  it("accepts a complete production configuration and is not in dev mode", () => {
    const c = loadConfig(PROD_OK);
    expect(c.devMode).toBe(false);
    expect(c.database).toEqual({ kind: "postgres", url: PROD_OK.DATABASE_URL });
    expect(c.auth.roleMapping).toEqual({ "sec-officers": "officer", "sec-viewers": "viewer" });
    expect(c.auth.sessionMaxAgeSeconds).toBe(8 * 3600);
    expect(c.auth.sessionIdleTimeoutSeconds).toBe(30 * 60);
    expect(c.auth.freshSignInMaxAgeSeconds).toBe(300);
  });

  it("takes the owner role's URL for migrations and the audit checkpoint settings", () => {
    const c = loadConfig({
      NODE_ENV: "test",
      DATABASE_URL: "postgres://keyshare_app@db.internal:5432/keyshare",
      DATABASE_MIGRATION_URL: "postgres://keyshare_owner@db.internal:5432/keyshare",
      AUDIT_CHECKPOINT_EVERY_EVENTS: "250",
      AUDIT_CHECKPOINT_INTERVAL_MINUTES: "5",
    });
    expect(c.migrationDatabaseUrl).toBe("postgres://keyshare_owner@db.internal:5432/keyshare");
    expect(c.audit).toEqual({ checkpointEveryEvents: 250, checkpointIntervalMs: 300_000, checkpointKey: "keyshare-audit-checkpoints" });
    expect(() => loadConfig({ NODE_ENV: "test", DATABASE_MIGRATION_URL: "postgres://o@db/k" })).toThrow(/DATABASE_MIGRATION_URL needs DATABASE_URL/);
    expect(() => loadConfig({ NODE_ENV: "test", AUDIT_CHECKPOINT_INTERVAL_MINUTES: "0" })).toThrow(/AUDIT_CHECKPOINT_INTERVAL_MINUTES/);
  });

  it("accepts AppRole instead of a token, but only both halves together", () => {
    const { VAULT_TOKEN: _t, ...noToken } = PROD_OK;
    expect(loadConfig({ ...noToken, VAULT_ROLE_ID: "r", VAULT_SECRET_ID: "s" }).vault.appRole).toEqual({ roleId: "r", secretId: "s", mount: "approle" });
    expect(problemsOf({ ...noToken, VAULT_ROLE_ID: "r" }).join("\n")).toContain("VAULT_ROLE_ID and VAULT_SECRET_ID must be set together");
  });

  it("rejects malformed values with the variable's name", () => {
    expect(problemsOf({ ...PROD_OK, DATABASE_URL: "mysql://x" }).join("\n")).toContain("DATABASE_URL");
    expect(problemsOf({ ...PROD_OK, AUTH_ROLE_MAPPING: "a=superuser" }).join("\n")).toMatch(/AUTH_ROLE_MAPPING.*superuser/);
    expect(problemsOf({ ...PROD_OK, SESSION_IDLE_TIMEOUT_SECONDS: "-5" }).join("\n")).toContain("SESSION_IDLE_TIMEOUT_SECONDS");
    expect(problemsOf({ ...PROD_OK, AUTH_SECRET: "short" }).join("\n")).toContain("AUTH_SECRET");
    expect(problemsOf({ ...PROD_OK, FRESH_SIGN_IN_MAX_AGE_SECONDS: "0" }).join("\n")).toContain("FRESH_SIGN_IN_MAX_AGE_SECONDS");
    expect(problemsOf({ ...PROD_OK, FRESH_SIGN_IN_MAX_AGE_SECONDS: "86400" }).join("\n")).toContain("FRESH_SIGN_IN_MAX_AGE_SECONDS");
    expect(loadConfig({ ...PROD_OK, FRESH_SIGN_IN_MAX_AGE_SECONDS: "5" }).auth.freshSignInMaxAgeSeconds).toBe(5);
  });

  it("embedded mode (the launcher's explicit opt-in) runs dev components under next start", () => {
    for (const env of [EMBEDDED_OK, { NODE_ENV: "production", KEYSHARE_EMBEDDED: "1" }, { ...EMBEDDED_OK, NODE_ENV: "development" }]) {
      const c = loadConfig(env);
      expect(c.devMode).toBe(true);
      expect(c.database.kind).toBe("pglite");
      expect(c.auth.roleMapping).toEqual(DEMO_ROLE_MAPPING);
    }
    expect(loadConfig({ ...EMBEDDED_OK, VAULT_ADDR: "http://[::1]:8200", AUTH_OIDC_ISSUER: "http://127.0.0.2:3001/" }).devMode).toBe(true);
  });

  it("embedded mode refuses every component that is not the launcher's own loopback one, naming the variable", () => {
    const refused: [Record<string, string>, RegExp][] = [
      [{ DATABASE_URL: "postgres://u:p@db.internal:5432/wallets" }, /DATABASE_URL must be unset in embedded mode/],
      [{ DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres" }, /DATABASE_URL must be unset in embedded mode/],
      [{ DATABASE_MIGRATION_URL: "postgres://owner@127.0.0.1:5432/postgres" }, /DATABASE_MIGRATION_URL must be unset in embedded mode/],
      [{ VAULT_ADDR: "https://vault.internal:8200" }, /VAULT_ADDR must be the dev Transit server/],
      [{ VAULT_ADDR: "http://10.0.0.5:8200" }, /VAULT_ADDR must be the dev Transit server/],
      [{ VAULT_ADDR: "https://127.0.0.1:8200" }, /VAULT_ADDR must be the dev Transit server at an http:\/\/ loopback/],
      [{ VAULT_ROLE_ID: "role", VAULT_SECRET_ID: "secret" }, /VAULT_ROLE_ID and VAULT_SECRET_ID \(AppRole\) must be unset in embedded mode/],
      [{ AUTH_OIDC_ISSUER: "https://sso.example.com/realms/security" }, /AUTH_OIDC_ISSUER must be the demo IdP/],
      [{ AUTH_OIDC_ISSUER: "http://localhost.evil.example:3001" }, /AUTH_OIDC_ISSUER must be the demo IdP/],
      [{ AUTH_URL: "https://keyshare.example.com" }, /AUTH_URL must be an http:\/\/ loopback address in embedded mode/],
      [{ REDIS_URL: "redis://cache.internal:6379" }, /REDIS_URL must be a loopback address/],
    ];
    for (const [override, message] of refused) {
      for (const NODE_ENV of ["production", "development"]) {
        expect(problemsOf({ ...EMBEDDED_OK, NODE_ENV, ...override }).join("\n"), JSON.stringify(override)).toMatch(message);
      }
    }
    // A real deployment with KEYSHARE_EMBEDDED=1 left over: refused, not silently run in dev mode.
    const leftover = problemsOf({ ...PROD_OK, KEYSHARE_EMBEDDED: "1" }).join("\n");
    for (const name of ["DATABASE_URL", "VAULT_ADDR", "AUTH_OIDC_ISSUER", "AUTH_URL"]) expect(leftover).toContain(`${name} must`);
    expect(loadConfig({ ...EMBEDDED_OK, REDIS_URL: "redis://127.0.0.1:6379" }).redisUrl).toBe("redis://127.0.0.1:6379");
  });

  it("the demo role mapping never applies to an issuer off this machine, in any mode", () => {
    for (const NODE_ENV of ["development", "test"]) {
      // No mapping configured and a real IdP: refused at start, naming the setting.
      expect(problemsOf({ NODE_ENV, AUTH_OIDC_ISSUER: "https://sso.example.com" }).join("\n")).toMatch(/AUTH_ROLE_MAPPING is required/);
      // With the operator's mapping, only that mapping: the demo groups map to nothing.
      const c = loadConfig({ NODE_ENV, AUTH_OIDC_ISSUER: "https://sso.example.com", AUTH_ROLE_MAPPING: "sec-admins=admin" });
      expect(c.auth.roleMapping).toEqual({ "sec-admins": "admin" });
      // The demo IdP (loopback) or no IdP at all: the demo mapping.
      expect(loadConfig({ NODE_ENV, AUTH_OIDC_ISSUER: "http://localhost:3001" }).auth.roleMapping).toEqual(DEMO_ROLE_MAPPING);
      expect(loadConfig({ NODE_ENV }).auth.roleMapping).toEqual(DEMO_ROLE_MAPPING);
    }
    expect(loadConfig({ ...PROD_OK, AUTH_OIDC_ISSUER: "http://127.0.0.1:3001" }).auth.roleMapping).toEqual({ "sec-officers": "officer", "sec-viewers": "viewer" });
  });

  it("production requires TLS for Vault, the IdP and the console's own URL, except on loopback addresses", () => {
    expect(problemsOf({ ...PROD_OK, VAULT_ADDR: "http://vault.internal:8200" }).join("\n")).toMatch(/VAULT_ADDR must be https:\/\/ in production/);
    expect(problemsOf({ ...PROD_OK, AUTH_OIDC_ISSUER: "http://sso.example.com" }).join("\n")).toMatch(/AUTH_OIDC_ISSUER must be https:\/\/ in production/);
    expect(problemsOf({ ...PROD_OK, AUTH_URL: "http://keyshare.example.com" }).join("\n")).toMatch(/AUTH_URL must be https:\/\/ in production/);
    const { AUTH_URL: _u, ...noUrl } = PROD_OK;
    expect(problemsOf(noUrl).join("\n")).toMatch(/AUTH_URL is required in production/);
    expect(problemsOf({ ...PROD_OK, AUTH_URL: "ftp://keyshare.example.com" }).join("\n")).toContain("AUTH_URL");
    expect(problemsOf({ ...PROD_OK, AUTH_OIDC_ISSUER: "javascript:alert(1)" }).join("\n")).toContain("AUTH_OIDC_ISSUER");
    // Loopback (a Vault agent or an IdP sidecar on the same host) may use http.
    for (const addr of ["http://127.0.0.1:8200", "http://127.8.9.10:8200", "http://[::1]:8200", "http://localhost:8200"]) {
      expect(problemsOf({ ...PROD_OK, VAULT_ADDR: addr, AUTH_OIDC_ISSUER: addr.replace("8200", "3001"), AUTH_URL: addr.replace("8200", "3000") })).toEqual([]);
    }
    // Outside production, plain http stays possible (tests, a dev Vault on another host).
    expect(loadConfig({ NODE_ENV: "development", VAULT_ADDR: "http://vault.dev:8200" }).vault.addr).toBe("http://vault.dev:8200");
  });

  it("parses JSON role mappings and key environment mappings", () => {
    const c = loadConfig({ ...PROD_OK, AUTH_ROLE_MAPPING: '{"g1":"admin"}', KEY_ENVIRONMENT_MAPPING: "k1=prod, k2=dev" });
    expect(c.auth.roleMapping).toEqual({ g1: "admin" });
    expect(c.keys.environmentMapping).toEqual({ k1: "prod", k2: "dev" });
  });
});

describe("isLoopbackHost / isLoopbackUrl", () => {
  it("accepts 127.0.0.0/8, ::1 and localhost in the forms the URL parser gives", () => {
    for (const u of ["http://127.0.0.1:1", "http://127.1", "http://0x7f.0.0.1", "http://2130706433", "http://127.255.255.254", "http://[::1]:8200", "http://[0:0:0:0:0:0:0:1]", "http://LOCALHOST:3000"]) {
      expect(isLoopbackUrl(u), u).toBe(true);
    }
  });

  it("refuses every other address, including names that merely look local", () => {
    for (const u of ["http://128.0.0.1", "http://10.0.0.1", "http://0.0.0.0", "http://[::]", "http://[::ffff:10.0.0.1]", "http://localhost.evil.example", "http://app.localhost", "http://127.0.0.1.nip.io", "not a url"]) {
      expect(isLoopbackUrl(u), u).toBe(false);
    }
    expect(isLoopbackHost("sso.example.com")).toBe(false);
  });
});
