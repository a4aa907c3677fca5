import { NextResponse, type NextRequest } from "next/server";
import { getConfig } from "@/lib/config/env";
import { SECURE_SESSION_COOKIE, SESSION_COOKIE } from "@/lib/auth/cookie-names";

/**
 * Runs before every page and API request. Three jobs, none of them authorisation:
 * 1. a per-request CSP nonce (`x-nonce` for the root layout) and the Content-Security-Policy header;
 * 2. a request id (`x-request-id`) that audit events and logs carry;
 * 3. an optimistic redirect of anonymous page requests (no session cookie at all) to /login.
 *
 * Trust boundary: (3) is an optimisation for a nicer redirect, NEVER the check. The cookie is not validated
 * here; a forged, expired or revoked cookie passes this point and is refused by lib/auth (getSession /
 * requirePermission), which every page, server action and route handler calls itself. API routes are never
 * redirected: they answer 401 on their own.
 */

const PUBLIC_PAGES = /^\/(login|no-access|signed-out)(\/|$)/;

function contentSecurityPolicy(nonce: string, idpOrigin: string | null, dev: boolean): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    `style-src 'self' 'nonce-${nonce}'`,
    // Mantine sets CSS variables through style attributes; attributes cannot run script.
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    // Sign-in/out forms redirect to the IdP; form-action also governs where a form POST may redirect.
    `form-action 'self'${idpOrigin ? ` ${idpOrigin}` : ""}`,
    "frame-ancestors 'none'",
  ].join("; ");
}

function idpOrigin(issuer: string | undefined): string | null {
  try {
    return issuer ? new URL(issuer).origin : null;
  } catch {
    return null;
  }
}

export function proxy(request: NextRequest) {
  const { pathname, search } = request.nextUrl;
  const isApi = pathname.startsWith("/api/");
  const hasSessionCookie = request.cookies.has(SESSION_COOKIE) || request.cookies.has(SECURE_SESSION_COOKIE);

  if (!isApi && !hasSessionCookie && !PUBLIC_PAGES.test(pathname)) {
    const login = new URL("/login", request.url);
    if (pathname !== "/") login.searchParams.set("callbackUrl", `${pathname}${search}`);
    return NextResponse.redirect(login);
  }

  const requestHeaders = new Headers(request.headers);
  const requestId = crypto.randomUUID();
  // Never trust a client-supplied request id: it ends up in the audit trail.
  requestHeaders.set("x-request-id", requestId);

  if (isApi) {
    const res = NextResponse.next({ request: { headers: requestHeaders } });
    res.headers.set("x-request-id", requestId);
    return res;
  }

  const nonce = Buffer.from(crypto.randomUUID()).toString("base64");
  const cfg = getConfig();
  const csp = contentSecurityPolicy(nonce, idpOrigin(cfg.auth.issuer), cfg.nodeEnv === "development");
  requestHeaders.set("x-nonce", nonce);
  requestHeaders.set("Content-Security-Policy", csp);
  const res = NextResponse.next({ request: { headers: requestHeaders } });
  res.headers.set("Content-Security-Policy", csp);
  res.headers.set("x-request-id", requestId);
  return res;
}

export const config = {
  matcher: ["/((?!_next/static|_next/image|favicon.ico|robots.txt).*)"],
};
