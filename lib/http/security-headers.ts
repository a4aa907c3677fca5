import { isLoopbackHost } from "@/lib/config/env";

/**
 * The per-request security headers that proxy.ts sets: the Content-Security-Policy (with a fresh nonce for
 * pages) and Strict-Transport-Security. The headers that never change (X-Content-Type-Options, Referrer-Policy,
 * X-Frame-Options, …) are in next.config.js, which also covers the static files the proxy does not see.
 *
 * Every value is decided per request from the validated configuration, never at build time: one build is
 * used by the embedded launcher and by production alike.
 */

export const HSTS_VALUE = "max-age=63072000; includeSubDomains";

/**
 * Route handlers answer JSON, CSV and redirects: nothing in them may run or be framed. Auth.js's own HTML pages
 * are not used (its pages point at /login), so `default-src 'none'` breaks nothing.
 */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export function pageContentSecurityPolicy(nonce: string, idpOrigin: string | null, dev: boolean): string {
  return [
    "default-src 'self'",
    // `next dev` evaluates its hot-reload modules; a production build never needs eval.
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

/** A nonce from 128 random bits, base64 (the CSP grammar's base64-value). */
export function newNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Buffer.from(bytes).toString("base64");
}

export function originOf(url: string | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/**
 * HSTS when the console's public URL (AUTH_URL, validated at start) is https: then every browser reaches it
 * over TLS, whether TLS ends here or at a proxy in front. The request's own URL is not evidence: Next builds its
 * protocol from X-Forwarded-Proto, which any client can send. Never for a loopback host: HSTS pins a host name
 * for every port, and pinning localhost would break every other local http service in that browser.
 */
export function hstsEnabled(publicUrl: string | undefined): boolean {
  if (!publicUrl) return false;
  try {
    const url = new URL(publicUrl);
    return url.protocol === "https:" && !isLoopbackHost(url.hostname);
  } catch {
    return false;
  }
}

export interface SecurityHeaderOptions {
  kind: "page" | "api";
  /** Pages only: the nonce Next puts on its scripts and styles (it reads it from the request's CSP). */
  nonce?: string;
  idpOrigin?: string | null;
  /** `next dev`: allows eval for hot reload. */
  dev?: boolean;
  hsts: boolean;
}

export function securityHeaders(opts: SecurityHeaderOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (opts.kind === "page") {
    if (!opts.nonce) throw new Error("a page's Content-Security-Policy needs a nonce");
    headers["Content-Security-Policy"] = pageContentSecurityPolicy(opts.nonce, opts.idpOrigin ?? null, opts.dev ?? false);
  } else {
    headers["Content-Security-Policy"] = API_CSP;
  }
  if (opts.hsts) headers["Strict-Transport-Security"] = HSTS_VALUE;
  return headers;
}
