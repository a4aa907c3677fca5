/**
 * The session cookie's name. Shared by lib/auth (which sets and reads it) and proxy.ts (which only checks
 * that one is present). No `server-only`: it is a name, not a secret, and the proxy bundle imports it.
 * `__Secure-` when the app's URL is https: the browser then refuses the cookie over plain http.
 */
export const SESSION_COOKIE = "authjs.session-token";
export const SECURE_SESSION_COOKIE = `__Secure-${SESSION_COOKIE}`;

export function sessionCookieName(secure: boolean): string {
  return secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
}
