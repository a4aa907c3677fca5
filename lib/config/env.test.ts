import { describe, expect, it } from "vitest";
import { ConfigError, DEMO_ROLE_MAPPING, loadConfig } from "./env";

const PROD_OK = {
  NODE_ENV: "production",
  DATABASE_URL: "postgres://u:p@db:5432/wallets",
  VAULT_ADDR: "https://vault.internal:8200",
  VAULT_TOKEN: "hvs.x",
  AUTH_OIDC_ISSUER: "https://sso.example.com",
  AUTH_OIDC_CLIENT_ID: "console",
  AUTH_OIDC_CLIENT_SECRET: "s3cret",
  AUTH_SECRET: "x".repeat(32),
  AUTH_ROLE_MAPPING: "sec-officers=officer,sec-viewers=viewer",
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
    for (const name of ["DATABASE_URL", "VAULT_ADDR", "VAULT_TOKEN", "AUTH_OIDC_ISSUER", "AUTH_OIDC_CLIENT_ID", "AUTH_OIDC_CLIENT_SECRET", "AUTH_SECRET", "AUTH_ROLE_MAPPING"]) {
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
  });

  it("embedded mode (the launcher's explicit opt-in) runs dev components under next start", () => {
    const c = loadConfig({ NODE_ENV: "production", KEYSHARE_EMBEDDED: "1" });
    expect(c.devMode).toBe(true);
    expect(c.database.kind).toBe("pglite");
    expect(c.auth.roleMapping).toEqual(DEMO_ROLE_MAPPING);
  });

  it("parses JSON role mappings and key environment mappings", () => {
    const c = loadConfig({ ...PROD_OK, AUTH_ROLE_MAPPING: '{"g1":"admin"}', KEY_ENVIRONMENT_MAPPING: "k1=prod, k2=dev" });
    expect(c.auth.roleMapping).toEqual({ g1: "admin" });
    expect(c.keys.environmentMapping).toEqual({ k1: "prod", k2: "dev" });
  });
});
