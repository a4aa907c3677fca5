import { describe, expect, it } from "vitest";
import { ConfigError, DEMO_ROLE_MAPPING, loadConfig } from "@/lib/config/env";
import { readGroups, resolveRole } from "./role-mapping";

const M = DEMO_ROLE_MAPPING;

describe("resolveRole", () => {
  it("maps a single group", () => {
    expect(resolveRole({ groups: ["keyshare-viewers"] }, "groups", M)).toEqual({ role: "viewer", groups: ["keyshare-viewers"] });
    expect(resolveRole({ groups: ["keyshare-officers"] }, "groups", M).role).toBe("officer");
  });

  it("several mapped groups: the first role in precedence (admin, officer, operator, auditor, viewer) wins", () => {
    expect(resolveRole({ groups: ["keyshare-viewers", "keyshare-officers"] }, "groups", M).role).toBe("officer");
    expect(resolveRole({ groups: ["keyshare-auditors", "keyshare-operators"] }, "groups", M).role).toBe("operator");
    expect(resolveRole({ groups: ["keyshare-officers", "keyshare-admins"] }, "groups", M).role).toBe("admin");
    expect(resolveRole({ groups: ["contractors", "keyshare-auditors"] }, "groups", M).role).toBe("auditor");
  });

  it("unmapped groups give no role but are kept for the audit record", () => {
    expect(resolveRole({ groups: ["contractors"] }, "groups", M)).toEqual({ role: null, groups: ["contractors"] });
  });

  it("a missing or malformed claim gives no role", () => {
    expect(resolveRole({}, "groups", M).role).toBeNull();
    expect(resolveRole(null, "groups", M).role).toBeNull();
    expect(resolveRole(undefined, "groups", M).role).toBeNull();
    expect(resolveRole({ groups: null }, "groups", M).role).toBeNull();
    expect(resolveRole({ groups: 42 }, "groups", M).role).toBeNull();
    expect(resolveRole({ groups: { "keyshare-admins": true } }, "groups", M).role).toBeNull();
    expect(resolveRole({ groups: [] }, "groups", M).role).toBeNull();
    expect(resolveRole({ groups: [1, null, { g: "keyshare-admins" }] }, "groups", M)).toEqual({ role: null, groups: [] });
  });

  it("reads only the configured claim", () => {
    expect(resolveRole({ roles: ["keyshare-admins"] }, "groups", M).role).toBeNull();
    expect(resolveRole({ roles: ["keyshare-admins"] }, "roles", M).role).toBe("admin");
  });

  it("accepts a single string and a dotted claim path", () => {
    expect(resolveRole({ groups: "keyshare-auditors" }, "groups", M).role).toBe("auditor");
    expect(resolveRole({ realm_access: { roles: ["keyshare-operators"] } }, "realm_access.roles", M).role).toBe("operator");
    expect(resolveRole({ "realm_access.roles": ["keyshare-viewers"] }, "realm_access.roles", M).role).toBe("viewer");
  });

  it("ignores mapping values that are not roles and inherited keys", () => {
    expect(resolveRole({ groups: ["g"] }, "groups", { g: "root" }).role).toBeNull();
    expect(resolveRole({ groups: ["constructor", "__proto__", "toString"] }, "groups", M).role).toBeNull();
  });

  it("is case-sensitive, as group names are", () => {
    expect(resolveRole({ groups: ["KEYSHARE-ADMINS"] }, "groups", M).role).toBeNull();
  });

  it("de-duplicates groups", () => {
    expect(readGroups({ groups: ["a", "a", "b", ""] }, "groups")).toEqual(["a", "b"]);
  });
});

describe("the demo mapping and the issuer", () => {
  /** The role a token with every demo group gets under the mapping the configuration yields (or "refused"). */
  function demoGroupsRole(env: Record<string, string>): string | null {
    let cfg;
    try {
      cfg = loadConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) return "refused";
      throw err;
    }
    return resolveRole({ groups: Object.keys(DEMO_ROLE_MAPPING) }, cfg.auth.groupsClaim, cfg.auth.roleMapping).role;
  }

  it("a demo group is worth nothing at an IdP off this machine, whatever the mode", () => {
    for (const NODE_ENV of ["development", "test", "production"]) {
      for (const extra of [{}, { KEYSHARE_EMBEDDED: "1" }] as Record<string, string>[]) {
        const role = demoGroupsRole({ NODE_ENV, ...extra, AUTH_OIDC_ISSUER: "https://sso.example.com/realms/corp" });
        expect(role, `${NODE_ENV} ${JSON.stringify(extra)}`).not.toBe("admin");
        expect(role === null || role === "refused").toBe(true);
      }
    }
    expect(demoGroupsRole({ NODE_ENV: "development", AUTH_OIDC_ISSUER: "https://sso.example.com", AUTH_ROLE_MAPPING: "corp-viewers=viewer" })).toBeNull();
  });

  it("the demo IdP on a loopback address keeps the demo mapping", () => {
    expect(demoGroupsRole({ NODE_ENV: "development", AUTH_OIDC_ISSUER: "http://localhost:3001" })).toBe("admin");
    expect(demoGroupsRole({ NODE_ENV: "production", KEYSHARE_EMBEDDED: "1", AUTH_OIDC_ISSUER: "http://127.0.0.1:3001" })).toBe("admin");
  });
});
