import type { RoleName } from "@/lib/config/env";

/**
 * Permissions as data (DESIGN §4, STYLE 3). Pure and free of `server-only` on purpose: client components
 * import `can()` to hide buttons a role cannot use. That is a convenience only — every action, route handler
 * and page authorises on the server with `requirePermission()` against this same map.
 *
 * Fail closed: an unknown role, an unknown permission, or a missing role denies.
 */

export const ROLES = ["viewer", "auditor", "operator", "officer", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  // reads (every role)
  "inventory:read",
  "keys:read",
  "rotation:read",
  // audit trail
  "audit:read",
  "audit:export",
  "audit:verify",
  "inventory:export",
  // re-wrap campaigns
  "campaign:propose",
  "campaign:run",
  "campaign:pause",
  // key lifecycle (proposals, four eyes)
  "rotation:propose",
  "retirement:propose",
  "policy:change",
  "proposal:approve",
  // administration
  "settings:read",
  "settings:write",
  "roles:manage",
  "sessions:manage",
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const VIEWER = ["inventory:read", "keys:read", "rotation:read"] as const satisfies readonly Permission[];
const AUDITOR = [...VIEWER, "audit:read", "audit:export", "audit:verify", "inventory:export"] as const satisfies readonly Permission[];
const OPERATOR = [...VIEWER, "campaign:propose", "campaign:run", "campaign:pause"] as const satisfies readonly Permission[];
const OFFICER = [
  ...OPERATOR,
  "rotation:propose",
  "retirement:propose",
  "policy:change",
  "proposal:approve",
] as const satisfies readonly Permission[];
/** Administration plus the viewer reads; deliberately no key, campaign or approval permission. */
const ADMIN = [...VIEWER, "settings:read", "settings:write", "roles:manage", "sessions:manage"] as const satisfies readonly Permission[];

export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = Object.freeze({
  viewer: new Set<Permission>(VIEWER),
  auditor: new Set<Permission>(AUDITOR),
  operator: new Set<Permission>(OPERATOR),
  officer: new Set<Permission>(OFFICER),
  admin: new Set<Permission>(ADMIN),
});

/**
 * When IdP groups map to several roles the user gets exactly one: the first of this list. Admin first, so
 * someone in the admin group is treated as an administrator (who has no key operations); a person who must
 * both administer and operate keys needs two identities, which keeps the duties separate.
 */
export const ROLE_PRECEDENCE: readonly Role[] = ["admin", "officer", "operator", "auditor", "viewer"];

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

export function isPermission(value: unknown): value is Permission {
  return typeof value === "string" && (PERMISSIONS as readonly string[]).includes(value);
}

/** True only for a known role holding a known permission. */
export function can(role: string | null | undefined, permission: string): boolean {
  if (!isRole(role) || !isPermission(permission)) return false;
  return Object.hasOwn(ROLE_PERMISSIONS, role) && ROLE_PERMISSIONS[role].has(permission);
}

export function permissionsOf(role: string | null | undefined): Permission[] {
  return isRole(role) ? [...ROLE_PERMISSIONS[role]] : [];
}

// The config's role names and ours must be the same set; a drift fails type-checking here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const rolesMatchConfig: Same<Role, RoleName> = true;
void rolesMatchConfig;
