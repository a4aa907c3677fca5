import "server-only";

/**
 * lib/auth: the only module that knows how users sign in (STYLE 2). Pages, actions and route handlers use:
 * - `getSession()` / `requireUser()` / `requirePermission(perm)` to authenticate and authorise;
 * - `command({ permission, input, freshSignIn?, audit, run })` to write every server action (./command.ts);
 *   GET route handlers use `route` / `jsonRoute` from lib/http/route.ts, which authorise the same way;
 * - `requireFreshSignIn()` where a recent IdP sign-in is required outside a command;
 * - `signInAction` / `signOutAction` from the UI;
 * - `can(role, perm)` (also from "@/lib/auth/permissions" in client components) to hide what a role cannot use.
 */
export {
  getSession,
  requireUser,
  requirePermission,
  requireFreshSignIn,
  isFreshSignIn,
  listActiveSessions,
  revokeSession,
  revokeSessionSchema,
  auditActorFor,
} from "./session";
export type { SessionUser, AppSession, ActiveSessionDto, RevokeSessionInput } from "./session";
export { command, COMMAND } from "./command";
export type { CommandActor, CommandContext, CommandSpec, CommandAction } from "./command";
export { toActionError } from "./action";
export type { ActionResult, ActionError } from "./action";
export { signInAction, signOutAction } from "./actions";
export { reauthUrl, REAUTH_PATH } from "./url";
export { getRequestContext } from "./request-context";
export type { RequestContext } from "./request-context";
export { can, permissionsOf, isRole, isPermission, PERMISSIONS, ROLES, ROLE_PERMISSIONS, ROLE_PRECEDENCE } from "./permissions";
export type { Permission, Role } from "./permissions";
