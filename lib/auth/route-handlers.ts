import "server-only";
import type { NextRequest } from "next/server";
import { recordAuditEvent } from "@/lib/audit";
import { getDb } from "@/lib/db";
import { AnonymousFailureAggregator } from "./anonymous-failures";
import { handlers, OIDC_PROVIDER_ID } from "./auth-js";
import { requestContextFrom } from "./request-context";
import { currentSessionCookieName } from "./session";
import { runInSignInScope } from "./sign-in-scope";

/**
 * /api/auth/* handlers. A failed OIDC callback (IdP error such as a cancelled login, bad state or PKCE,
 * token or id_token validation failure) ends in a redirect to /login?error=…; that is audited here as a
 * failed `auth.login`, through the rate limit of ./anonymous-failures.ts (anyone can produce these).
 * Denials for unmapped groups are audited where they are decided (signIn callback): they need a valid IdP
 * login, so they are not rate limited.
 */
const SLOT = Symbol.for("keyshare-console.anonymous-auth-failures");
const holder = globalThis as unknown as { [SLOT]?: AnonymousFailureAggregator };

export function anonymousFailures(): AnonymousFailureAggregator {
  return (holder[SLOT] ??= new AnonymousFailureAggregator(async (event) => recordAuditEvent(await getDb(), event)));
}

async function auditCallbackFailure(req: NextRequest, res: Response): Promise<void> {
  if (!req.nextUrl.pathname.endsWith(`/callback/${OIDC_PROVIDER_ID}`)) return;
  const location = res.headers.get("location");
  if (!location) return;
  const target = new URL(location, req.nextUrl.origin);
  const error = target.searchParams.get("error");
  if (target.pathname !== "/login" || !error) return;
  const ctx = requestContextFrom(req.headers);
  const idpError = req.nextUrl.searchParams.get("error");
  await anonymousFailures().record({
    kind: error,
    ip: ctx.ip,
    userAgent: ctx.userAgent,
    requestId: ctx.requestId,
    reason: idpError ? `identity provider returned ${idpError.slice(0, 64)}` : `sign-in callback failed (${error.slice(0, 64)})`,
    details: { error: error.slice(0, 64), ...(idpError ? { idpError: idpError.slice(0, 64) } : {}) },
  });
}

/** The OIDC callback runs in a sign-in scope: the session it creates replaces the one the browser holds. */
async function handle(req: NextRequest, handler: (req: NextRequest) => Promise<Response>): Promise<Response> {
  const res = req.nextUrl.pathname.endsWith(`/callback/${OIDC_PROVIDER_ID}`)
    ? await runInSignInScope(req.cookies.get(currentSessionCookieName())?.value, () => handler(req))
    : await handler(req);
  await auditCallbackFailure(req, res);
  return res;
}

export async function GET(req: NextRequest): Promise<Response> {
  return handle(req, handlers.GET);
}

export async function POST(req: NextRequest): Promise<Response> {
  return handle(req, handlers.POST);
}
