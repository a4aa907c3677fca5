import { describe, expect, it } from "vitest";
import { DEMO_ROLE_MAPPING } from "@/lib/config/env";
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
