import "server-only";
import { randomUUID } from "node:crypto";
import { NextResponse } from "next/server";
import { auditActorFor, getRequestContext, reauthUrl, requireFreshSignIn, requirePermission, type Permission, type RequestContext, type SessionUser } from "@/lib/auth";
import type { AuditActor } from "@/lib/audit";
import { FreshSignInRequiredError, toPublicError } from "@/lib/errors";
import { logger } from "@/lib/log";

/**
 * The one way to write a route handler (the GET side of `command()` in lib/auth/command.ts). Authorisation
 * happens here, first, for every request; the proxy and the page that links here decide nothing. Then, if
 * asked, the fresh-sign-in check on the session's auth_time. Expected errors map to their status with a safe
 * message (`reauth_required` with the URL that signs the user in again); anything else is logged under an id
 * and answered with a generic 500 (STYLE §5). lib/auth/wrappers.test.ts fails on a handler built otherwise.
 */

export interface RouteOptions {
  permission: Permission;
  /** What an `access.denied` event names when the role lacks the permission (default: the permission). */
  deniedTarget?: { type: string; id?: string | null };
  /** Demand an IdP sign-in within FRESH_SIGN_IN_MAX_AGE_SECONDS (exports, …). */
  freshSignIn?: boolean;
}

export interface RouteContext {
  user: SessionUser;
  actor: AuditActor;
  request: RequestContext;
}

const NO_STORE = { "Cache-Control": "no-store" };

function errorResponse(req: Request, err: unknown): Response {
  if (err instanceof FreshSignInRequiredError) {
    // Back to the page that linked here, not to this endpoint (a download or JSON would be a dead end).
    let back = "/";
    try {
      const referer = req.headers.get("referer");
      if (referer) back = new URL(referer).pathname + new URL(referer).search;
    } catch {
      // Malformed Referer: back to the start page.
    }
    return NextResponse.json({ error: err.message, code: "reauth_required", reauthUrl: reauthUrl(back) }, { status: 401, headers: NO_STORE });
  }
  const errorId = randomUUID();
  const pub = toPublicError(err);
  if (pub.status >= 500) logger.error({ errorId, err }, "route failed");
  return NextResponse.json({ error: pub.message, ...(pub.status >= 500 ? { errorId } : {}) }, { status: pub.status, headers: NO_STORE });
}

/** A handler that builds its own Response (CSV, streams) once the caller is authorised. */
export function route<Ctx>(
  options: Permission | RouteOptions,
  handler: (req: Request, auth: RouteContext, ctx: Ctx) => Promise<Response>,
) {
  const opts: RouteOptions = typeof options === "string" ? { permission: options } : options;
  return async (req: Request, ctx: Ctx): Promise<Response> => {
    try {
      const user = await requirePermission(opts.permission, opts.deniedTarget);
      if (opts.freshSignIn) await requireFreshSignIn();
      const request = await getRequestContext();
      return await handler(req, { user, actor: auditActorFor(user, request), request }, ctx);
    } catch (err) {
      return errorResponse(req, err);
    }
  };
}

/** GET route handlers that return DTOs as JSON. */
export function jsonRoute<Ctx>(
  options: Permission | RouteOptions,
  handler: (req: Request, user: SessionUser, ctx: Ctx) => Promise<unknown>,
) {
  return route<Ctx>(options, async (req, auth, ctx) => NextResponse.json(await handler(req, auth.user, ctx), { headers: NO_STORE }));
}
