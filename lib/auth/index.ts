import "server-only";

/**
 * lib/auth: the only module that knows how users sign in (STYLE 2). Pages, actions and route handlers use:
 * - `getSession()` / `requireUser()` / `requirePermission(perm)` to authenticate and authorise;
 * - `authedAction(perm, schema, fn)` to write server actions that fail closed;
 * - `signInAction` / `signOutAction` / `revokeSessionAction` from the UI;
 * - `can(role, perm)` (also from "@/lib/auth/permissions" in client components) to hide what a role cannot use.
 */
export { getSession, requireUser, requirePermission, listActiveSessions, revokeSession, auditActorFor } from "./session";
export type { SessionUser, AppSession, ActiveSessionDto } from "./session";
export { authedAction, toActionError } from "./action";
export type { ActionResult, ActionContext } from "./action";
export { signInAction, signOutAction, revokeSessionAction } from "./actions";
export { getRequestContext } from "./request-context";
export type { RequestContext } from "./request-context";
export { can, permissionsOf, isRole, isPermission, PERMISSIONS, ROLES, ROLE_PERMISSIONS, ROLE_PRECEDENCE } from "./permissions";
export type { Permission, Role } from "./permissions";
