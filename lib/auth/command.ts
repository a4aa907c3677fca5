import "server-only";
import { headers } from "next/headers";
import { unstable_rethrow } from "next/navigation";
import type { z } from "zod";
import { withAudit, type AuditActor, type AuditEventInput, type AuditScope } from "@/lib/audit";
import { getDb, type Tx } from "@/lib/db";
import { FreshSignInRequiredError } from "@/lib/errors";
import { toActionError, type ActionResult } from "./action";
import type { Permission } from "./permissions";
import { getRequestContext } from "./request-context";
import { auditActorFor, requireFreshSignIn, requirePermission, type SessionUser } from "./session";
import { reauthUrl } from "./url";

/**
 * The one way to write a mutation (STYLE "Shapes to grow into"). Every server action is a public POST
 * endpoint, so the returned function, in this order:
 * 1. authorises (`requirePermission`; a refusal is audited as `access.denied`, outcome `denied`) — before
 *    the input is even parsed;
 * 2. validates the input with zod; invalid input changes nothing and writes nothing;
 * 3. if `freshSignIn`, checks the session's IdP auth_time as the database holds it (`requireFreshSignIn`);
 *    a stale one answers `reauth_required` with the URL that signs the user in again;
 * 4. opens ONE transaction, runs the domain service in it and appends the command's audit event in the same
 *    transaction: if the event cannot be written the service's writes roll back. When the service throws,
 *    its writes roll back and a `failure` (`denied` for ForbiddenError) event is recorded on its own;
 * 5. maps errors to `{ ok: false, error, code }` (toActionError). Next's redirect/notFound pass through.
 *
 *   export const revokeSessionAction = command({
 *     permission: "sessions:manage", input: revokeSessionSchema, freshSignIn: true,
 *     audit: (i) => ({ action: "session.revoke", target: { type: "session", id: i.sessionId } }),
 *     run: (i, { tx, actor, audit }) => revokeSession(tx, i, actor, audit),
 *   });
 *
 * Domain services take `(tx, input, actor)` and never read the session, so the worker and the CLI call the
 * same functions with a service actor. lib/auth/wrappers.test.ts fails on a server action that is not built
 * with this function.
 */

/** Who a service call acts for: the audit actor plus what ties it to the request. */
export type CommandActor = AuditActor & { requestId: string | null; sessionId?: string | null };

export interface CommandContext {
  tx: Tx;
  actor: CommandActor;
  user: SessionUser;
  /** Adds what the service learns while running (a Vault request id, counts) to the command's event. */
  audit: AuditScope;
}

export interface CommandSpec<S extends z.ZodType, T> {
  permission: Permission;
  input: S;
  /** Demand an IdP sign-in within FRESH_SIGN_IN_MAX_AGE_SECONDS (default 5 minutes). */
  freshSignIn?: boolean;
  /** The event appended with the service's writes: action name, target and optional reason/details. */
  audit: (input: z.output<S>) => Pick<AuditEventInput, "action" | "target" | "reason" | "details">;
  run: (input: z.output<S>, ctx: CommandContext) => Promise<T>;
}

/** Marks functions built by command(), for the wrapper test and for callers that want to assert it. */
export const COMMAND = Symbol.for("keyshare-console.command");

export type CommandAction<S extends z.ZodType, T> = ((input: z.input<S>) => Promise<ActionResult<T>>) & {
  readonly [COMMAND]: { permission: Permission; freshSignIn: boolean };
};

function fieldErrorsOf(error: z.ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.join(".") || "_";
    (out[key] ??= []).push(issue.message);
  }
  return out;
}

/**
 * The page the request came from, when the Referer says (the console's own `Referrer-Policy: no-referrer` means
 * browsers usually do not): only a fallback, client components use `followReauth`, which returns to the page
 * they are on. /reauth re-checks the path either way.
 */
async function refererPath(): Promise<string> {
  try {
    const referer = (await headers()).get("referer");
    if (!referer) return "/";
    const u = new URL(referer);
    return `${u.pathname}${u.search}`;
  } catch {
    return "/";
  }
}

export function command<S extends z.ZodType, T>(spec: CommandSpec<S, T>): CommandAction<S, T> {
  const action = async (raw: z.input<S>): Promise<ActionResult<T>> => {
    try {
      const user = await requirePermission(spec.permission);
      const parsed = spec.input.safeParse(raw);
      if (!parsed.success) {
        // Field messages come from our own schemas, never from the submitted values.
        return { ok: false, error: "Some of the input is not valid.", code: "invalid", fieldErrors: fieldErrorsOf(parsed.error) };
      }
      const input = parsed.data;
      if (spec.freshSignIn) await requireFreshSignIn();
      const reqCtx = await getRequestContext();
      const actor: CommandActor = { ...auditActorFor(user, reqCtx), requestId: reqCtx.requestId, sessionId: user.sessionId };
      const event = spec.audit(input);
      const data = await withAudit(
        await getDb(),
        { ...event, actor: auditActorFor(user, reqCtx), requestId: reqCtx.requestId },
        (tx, audit) => spec.run(input, { tx, actor, user, audit }),
      );
      return { ok: true, data };
    } catch (err) {
      unstable_rethrow(err);
      if (err instanceof FreshSignInRequiredError) {
        return { ok: false, error: err.message, code: "reauth_required", reauthUrl: reauthUrl(await refererPath()) };
      }
      return toActionError(err);
    }
  };
  return Object.assign(action, { [COMMAND]: { permission: spec.permission, freshSignIn: spec.freshSignIn ?? false } });
}
