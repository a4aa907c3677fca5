import { NextResponse, type NextRequest } from "next/server";
import { getConfig } from "@/lib/config/env";
import { SECURE_SESSION_COOKIE, SESSION_COOKIE } from "@/lib/auth/cookie-names";
import { hstsEnabled, newNonce, originOf, securityHeaders } from "@/lib/http/security-headers";
import { serverActionRefusal } from "@/lib/http/server-action-origin";

/**
 * Runs before every page and API request. Four jobs, none of them authorisation:
 * 1. a per-request CSP nonce (`x-nonce` for the root layout), the Content-Security-Policy header, and HSTS
 *    when the console's public URL is https (lib/http/security-headers.ts);
 * 2. a request id (`x-request-id`) that audit events and logs carry;
 * 3. an optimistic redirect of anonymous page requests (no session cookie at all) to /login;
 * 4. a 403 for server-action POSTs from another origin, a `null` Origin or none (lib/http/server-action-origin.ts).
 *
 * Trust boundary: (3) is an optimisation for a nicer redirect, NEVER the check. The cookie is not validated
 * here; a forged, expired or revoked cookie passes this point and is refused by lib/auth (getSession /
 * requirePermission), which every page, server action and route handler calls itself. API routes are never
 * redirected: they answer 401 on their own.
 */

const PUBLIC_PAGES = /^\/(login|no-access|signed-out)(\/|$)/;

function withHeaders(res: NextResponse, headers: Record<string, string>): NextResponse {
  for (const [name, value] of Object.entries(headers)) res.headers.set(name, value);
  return res;
}

export function proxy(request: NextRequest) {
  const { pathname, search } = request.nextUrl;
  const isApi = pathname.startsWith("/api/");
  const hasSessionCookie = request.cookies.has(SESSION_COOKIE) || request.cookies.has(SECURE_SESSION_COOKIE);
  const cfg = getConfig();
  const hsts = hstsEnabled(cfg.auth.url);

  const refusal = serverActionRefusal(
    { method: request.method, pathname, headers: request.headers },
    { publicOrigin: originOf(cfg.auth.url), trustLoopbackHost: cfg.devMode },
  );
  if (refusal) {
    const res = new NextResponse(`Forbidden: server action refused (${refusal}).\n`, {
      status: 403,
      headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
    });
    return withHeaders(res, securityHeaders({ kind: "api", hsts }));
  }

  if (!isApi && !hasSessionCookie && !PUBLIC_PAGES.test(pathname)) {
    const login = new URL("/login", request.url);
    if (pathname !== "/") login.searchParams.set("callbackUrl", `${pathname}${search}`);
    return withHeaders(NextResponse.redirect(login), securityHeaders({ kind: "api", hsts }));
  }

  const requestHeaders = new Headers(request.headers);
  const requestId = crypto.randomUUID();
  // Never trust a client-supplied request id: it ends up in the audit trail.
  requestHeaders.set("x-request-id", requestId);

  if (isApi) {
    const res = NextResponse.next({ request: { headers: requestHeaders } });
    res.headers.set("x-request-id", requestId);
    return withHeaders(res, securityHeaders({ kind: "api", hsts }));
  }

  const nonce = newNonce();
  const headers = securityHeaders({
    kind: "page",
    nonce,
    idpOrigin: originOf(cfg.auth.issuer),
    dev: cfg.nodeEnv === "development",
    hsts,
  });
  requestHeaders.set("x-nonce", nonce);
  // Next reads the nonce for its own scripts from the request's Content-Security-Policy.
  requestHeaders.set("Content-Security-Policy", headers["Content-Security-Policy"]!);
  const res = NextResponse.next({ request: { headers: requestHeaders } });
  res.headers.set("x-request-id", requestId);
  return withHeaders(res, headers);
}

export const config = {
  matcher: ["/((?!_next/static|_next/image|favicon.ico|robots.txt).*)"],
};
