/**
 * Action groups of the Audit page's filter: each group is a set of dotted action-name prefixes. Pure and free
 * of `server-only` so the filter controls can list the groups. An action belongs to at most one group; one
 * that matches none (e.g. a future feature's) is still found by the exact-action filter and by no filter.
 */
export const AUDIT_ACTION_GROUPS = ["auth", "inventory", "keys", "campaigns", "proposals", "settings", "audit"] as const;
export type AuditActionGroup = (typeof AUDIT_ACTION_GROUPS)[number];

export const AUDIT_ACTION_GROUP_PREFIXES: Readonly<Record<AuditActionGroup, readonly string[]>> = {
  // Sign-in and sign-out, refusals (access.denied), session revocation.
  auth: ["auth.", "access.", "session."],
  // Exports, cache syncs, demo seeding: everything about the inventory's records.
  inventory: ["inventory.", "wallet.", "sync.", "demo."],
  keys: ["key.", "policy.", "retirement."],
  campaigns: ["campaign."],
  proposals: ["proposal.", "rotation."],
  settings: ["settings.", "role.", "roles."],
  // The trail's own reads and checks: audit.search, audit.view, audit.export, audit.verify, checkpoints.
  audit: ["audit."],
};

export const AUDIT_ACTION_GROUP_LABELS: Readonly<Record<AuditActionGroup, string>> = {
  auth: "Sign-in, access, sessions",
  inventory: "Inventory",
  keys: "Keys",
  campaigns: "Campaigns",
  proposals: "Proposals",
  settings: "Settings",
  audit: "Audit trail",
};

export function actionInGroup(action: string, group: AuditActionGroup): boolean {
  return AUDIT_ACTION_GROUP_PREFIXES[group].some((p) => action.startsWith(p));
}
