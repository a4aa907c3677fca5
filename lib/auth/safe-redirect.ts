/**
 * A post-login destination taken from the query string is attacker-controlled: only same-origin absolute
 * paths are kept ("/wallets?x=1"), never "//host", "/\host", schemes or auth pages (which would loop).
 */
export function safeCallbackPath(value: unknown, fallback = "/"): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 2000) return fallback;
  if (!value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return fallback;
  if (/[\u0000-\u001f\\]/.test(value)) return fallback;
  let url: URL;
  try {
    url = new URL(value, "http://placeholder.invalid");
  } catch {
    return fallback;
  }
  if (url.origin !== "http://placeholder.invalid") return fallback;
  if (/^\/(login|no-access|signed-out|reauth|api\/auth)(\/|$)/.test(url.pathname)) return fallback;
  return `${url.pathname}${url.search}`;
}
