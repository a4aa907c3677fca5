import { isRole, ROLE_PRECEDENCE, type Role } from "./permissions";

/**
 * IdP groups → console role. Pure, so it is unit-tested without an IdP.
 *
 * Reading the claim (fail closed on anything unexpected):
 * - an array: its string entries are the groups (other entries are ignored);
 * - a single string: one group (some IdPs emit a lone group that way);
 * - missing, null, a number, an object: no groups, hence no role.
 * `claimName` may be a dotted path (e.g. `realm_access.roles`) when no top-level claim has that exact name.
 *
 * Several mapped roles: the first in ROLE_PRECEDENCE wins. Mapping values that are not roles are ignored.
 */
export interface ResolvedRole {
  role: Role | null;
  groups: string[];
}

function readClaim(claims: Record<string, unknown>, claimName: string): unknown {
  if (Object.hasOwn(claims, claimName)) return claims[claimName];
  let cur: unknown = claims;
  for (const part of claimName.split(".")) {
    if (typeof cur !== "object" || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function readGroups(claims: Record<string, unknown> | null | undefined, claimName: string): string[] {
  if (!claims) return [];
  const raw = readClaim(claims, claimName);
  const list = Array.isArray(raw) ? raw : typeof raw === "string" ? [raw] : [];
  const groups = list.filter((g): g is string => typeof g === "string" && g.length > 0);
  return [...new Set(groups)].slice(0, 200);
}

export function resolveRole(
  claims: Record<string, unknown> | null | undefined,
  claimName: string,
  mapping: Readonly<Record<string, string>>,
): ResolvedRole {
  const groups = readGroups(claims, claimName);
  const mapped = new Set<Role>();
  for (const g of groups) {
    const r = Object.hasOwn(mapping, g) ? mapping[g] : undefined;
    if (isRole(r)) mapped.add(r);
  }
  const role = ROLE_PRECEDENCE.find((r) => mapped.has(r)) ?? null;
  return { role, groups };
}
