import { describe, expect, it } from "vitest";
import { can, PERMISSIONS, permissionsOf, ROLE_PERMISSIONS, ROLES, type Permission, type Role } from "./permissions";

const KEY_OPERATIONS: Permission[] = [
  "campaign:propose",
  "campaign:run",
  "campaign:pause",
  "rotation:propose",
  "retirement:propose",
  "policy:change",
  "proposal:approve",
];
const VIEWER_READS: Permission[] = ["inventory:read", "keys:read", "rotation:read"];
const AUDIT: Permission[] = ["audit:read", "audit:export", "audit:verify", "inventory:export"];
const ADMINISTRATION: Permission[] = ["settings:read", "settings:write", "roles:manage", "sessions:manage"];

const expected: Record<Role, Permission[]> = {
  viewer: VIEWER_READS,
  auditor: [...VIEWER_READS, ...AUDIT],
  operator: [...VIEWER_READS, "campaign:propose", "campaign:run", "campaign:pause"],
  officer: [...VIEWER_READS, ...KEY_OPERATIONS],
  admin: [...VIEWER_READS, ...ADMINISTRATION],
};

describe("permission map (DESIGN §4)", () => {
  it.each(ROLES)("%s holds exactly its permissions", (role) => {
    expect(permissionsOf(role).sort()).toEqual([...expected[role]].sort());
    for (const p of PERMISSIONS) expect(can(role, p), `${role} ${p}`).toBe(expected[role].includes(p));
  });

  it("admin has no key operation and no audit export", () => {
    for (const p of [...KEY_OPERATIONS, ...AUDIT]) expect(can("admin", p), p).toBe(false);
  });

  it("only the officer may approve, rotate, retire or change policy", () => {
    for (const p of ["proposal:approve", "rotation:propose", "retirement:propose", "policy:change"] as const) {
      expect(ROLES.filter((r) => can(r, p))).toEqual(["officer"]);
    }
  });

  it("auditor has no key operations; operator has no audit", () => {
    for (const p of KEY_OPERATIONS) expect(can("auditor", p)).toBe(false);
    for (const p of AUDIT) expect(can("operator", p)).toBe(false);
  });

  it("every permission is granted to some role, and every granted permission is declared", () => {
    const granted = new Set(ROLES.flatMap((r) => [...ROLE_PERMISSIONS[r]]));
    expect([...granted].sort()).toEqual([...PERMISSIONS].sort());
  });

  it("denies unknown roles, unknown permissions and missing roles", () => {
    expect(can("superuser", "inventory:read")).toBe(false);
    expect(can("Admin", "settings:read")).toBe(false);
    expect(can("__proto__", "inventory:read")).toBe(false);
    expect(can("toString", "inventory:read")).toBe(false);
    expect(can(null, "inventory:read")).toBe(false);
    expect(can(undefined, "inventory:read")).toBe(false);
    expect(can("", "inventory:read")).toBe(false);
    expect(can("admin", "everything")).toBe(false);
    expect(can("officer", "keys:delete")).toBe(false);
    expect(permissionsOf("root")).toEqual([]);
  });

  it("the map cannot be changed at runtime", () => {
    expect(Object.isFrozen(ROLE_PERMISSIONS)).toBe(true);
  });
});
