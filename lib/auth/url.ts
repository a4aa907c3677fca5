import { safeCallbackPath } from "./safe-redirect";

/**
 * Links into the sign-in flows; no server-only imports, so client components build the same URLs.
 * `/reauth` sends the signed-in user through the IdP's login again (`prompt=login&max_age=0`) and back to
 * `callbackPath` (a same-origin path, re-checked by the route).
 */
export const REAUTH_PATH = "/reauth";

export function reauthUrl(callbackPath: string): string {
  return `${REAUTH_PATH}?${new URLSearchParams({ callbackUrl: safeCallbackPath(callbackPath) })}`;
}
