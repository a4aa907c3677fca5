import { reauthUrl } from "./url";

/**
 * For client components: when a command answered `reauth_required`, send the browser through the IdP's login
 * (/reauth) and back to this page; returns false for any other answer. The server decides freshness from the
 * session's auth_time; nothing here makes a later call succeed by itself.
 */
export function followReauth(result: { ok: boolean; code?: string }): boolean {
  if (result.ok || result.code !== "reauth_required") return false;
  window.location.assign(reauthUrl(`${window.location.pathname}${window.location.search}`));
  return true;
}
