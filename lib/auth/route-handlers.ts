import "server-only";
import type { NextRequest } from "next/server";
import { recordAuditEvent } from "@/lib/audit";
import { getDb } from "@/lib/db";
import { logger } from "@/lib/log";
import { handlers, OIDC_PROVIDER_ID } from "./auth-js";
import { requestContextFrom } from "./request-context";

/**
 * /api/auth/* handlers. A failed OIDC callback (IdP error such as a cancelled login, bad state or PKCE,
 * token or id_token validation failure) ends in a redirect to /login?error=…; that is audited here as a
 * failed `auth.login`. Denials for unmapped groups are audited where they are decided (signIn callback).
 */
async function auditCallbackFailure(req: NextRequest, res: Response): Promise<void> {
  if (!req.nextUrl.pathname.endsWith(`/callback/${OIDC_PROVIDER_ID}`)) return;
  const location = res.headers.get("location");
  if (!location) return;
  const target = new URL(location, req.nextUrl.origin);
  const error = target.searchParams.get("error");
  if (target.pathname !== "/login" || !error) return;
  const ctx = requestContextFrom(req.headers);
  const idpError = req.nextUrl.searchParams.get("error");
  try {
    await recordAuditEvent(await getDb(), {
      actor: { type: "anonymous", ip: ctx.ip, userAgent: ctx.userAgent },
      action: "auth.login",
      target: { type: "provider", id: OIDC_PROVIDER_ID },
      outcome: "failure",
      reason: idpError ? `identity provider returned ${idpError.slice(0, 64)}` : `sign-in callback failed (${error.slice(0, 64)})`,
      requestId: ctx.requestId,
      details: { error: error.slice(0, 64), ...(idpError ? { idpError: idpError.slice(0, 64) } : {}) },
    });
  } catch (err) {
    logger.error({ err: err instanceof Error ? err.message : String(err) }, "could not audit a failed sign-in");
  }
}

export async function GET(req: NextRequest): Promise<Response> {
  const res = await handlers.GET(req);
  await auditCallbackFailure(req, res);
  return res;
}

export async function POST(req: NextRequest): Promise<Response> {
  const res = await handlers.POST(req);
  await auditCallbackFailure(req, res);
  return res;
}
