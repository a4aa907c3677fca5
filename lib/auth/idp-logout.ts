import "server-only";
import { getConfig } from "@/lib/config/env";
import { logger } from "@/lib/log";

/**
 * RP-initiated logout: after the console session is gone, the browser is sent to the IdP's
 * end_session_endpoint so the IdP session ends as well and the next sign-in asks for credentials again.
 * Uses client_id (OIDC RP-Initiated Logout 1.0) rather than id_token_hint: the console does not keep
 * id_tokens. An IdP without the endpoint, or one that cannot be reached, leaves the IdP session alone.
 */
let cached: { issuer: string; endpoint: string | null; at: number } | undefined;
const CACHE_MS = 10 * 60_000;

async function endSessionEndpoint(issuer: string): Promise<string | null> {
  if (cached && cached.issuer === issuer && Date.now() - cached.at < CACHE_MS) return cached.endpoint;
  try {
    const res = await fetch(new URL(".well-known/openid-configuration", issuer.endsWith("/") ? issuer : `${issuer}/`), {
      signal: AbortSignal.timeout(3_000),
    });
    if (!res.ok) throw new Error(`discovery answered ${res.status}`);
    const doc = (await res.json()) as { end_session_endpoint?: unknown };
    const endpoint = typeof doc.end_session_endpoint === "string" ? doc.end_session_endpoint : null;
    cached = { issuer, endpoint, at: Date.now() };
    return endpoint;
  } catch (err) {
    logger.warn({ err }, "IdP discovery failed; skipping IdP logout");
    return null;
  }
}

/** Where to send the browser after sign-out: the IdP's logout, coming back to /signed-out. */
export async function postSignOutUrl(): Promise<string> {
  const { auth } = getConfig();
  if (!auth.issuer || !auth.clientId || !auth.url) return "/signed-out";
  const endpoint = await endSessionEndpoint(auth.issuer);
  if (!endpoint) return "/signed-out";
  const u = new URL(endpoint);
  u.searchParams.set("client_id", auth.clientId);
  u.searchParams.set("post_logout_redirect_uri", new URL("/signed-out", auth.url).toString());
  return u.toString();
}
