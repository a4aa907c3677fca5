import { isLoopbackHost } from "@/lib/config/env";

/**
 * Cross-origin refusal for server actions, applied in proxy.ts before Next sees the request.
 *
 * Next runs a server action for any POST to a page path: with a `Next-Action` header (the client's fetch), or as
 * a multipart or urlencoded form post carrying the action id in the body (progressive enhancement). Its own
 * check answers a foreign or `null` Origin with a bare 500 and lets a request without Origin run. Browsers send
 * Origin on every POST, same-origin included, so a POST without one is not from the console's own pages.
 *
 * Allowed: an Origin equal to the console's public origin (AUTH_URL). In dev mode, also an Origin whose host is
 * the request's own Host when that is a loopback address (the embedded console reached as localhost or
 * 127.0.0.1); a DNS-rebound name is not loopback, so it gains nothing from this.
 */

export interface ActionOriginPolicy {
  /** Origin of AUTH_URL (required in production). */
  publicOrigin: string | null;
  /** Dev mode: accept a loopback request Host as the console's own origin. */
  trustLoopbackHost: boolean;
}

export interface ActionRequest {
  method: string;
  pathname: string;
  headers: Headers;
}

export function isServerActionRequest(req: ActionRequest): boolean {
  if (req.method.toUpperCase() !== "POST") return false;
  // Route handlers under /api never run server actions; any POST to a page path may (form posts carry no header).
  return req.headers.has("next-action") || !req.pathname.startsWith("/api/");
}

/** Why the request is refused, or null when it is not a server action or comes from the console itself. */
export function serverActionRefusal(req: ActionRequest, policy: ActionOriginPolicy): string | null {
  if (!isServerActionRequest(req)) return null;
  if (req.headers.get("sec-fetch-site")?.trim().toLowerCase() === "cross-site") return "cross-site request";
  const origin = req.headers.get("origin")?.trim();
  if (!origin) return "no Origin header";
  if (origin === "null") return "opaque Origin";
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return "malformed Origin";
  }
  if (policy.publicOrigin && parsed.origin === policy.publicOrigin) return null;
  if (policy.trustLoopbackHost && isLoopbackHost(parsed.hostname)) {
    const host = req.headers.get("host")?.trim().toLowerCase();
    if (host && parsed.host === host) return null;
  }
  return "foreign Origin";
}
