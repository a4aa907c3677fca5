import "server-only";
import { NextResponse, type NextRequest } from "next/server";
import { OIDC_PROVIDER_ID, signIn } from "./auth-js";
import { safeCallbackPath } from "./safe-redirect";
import { getSession } from "./session";

/**
 * GET /reauth?callbackUrl=/path — sends the signed-in user through the IdP's login again and back to the page.
 * `prompt=login` and `max_age=0` make the IdP ask for credentials even inside a live IdP session and put
 * `auth_time` in the id_token; the callback then replaces the current session with a new one carrying that
 * auth_time (./sign-in-scope.ts). It grants nothing by itself: whatever asked for a fresh sign-in re-checks
 * the new session's auth_time on the server. Without a session it is an ordinary sign-in.
 */
export async function startReauthentication(req: NextRequest): Promise<Response> {
  const callbackUrl = safeCallbackPath(req.nextUrl.searchParams.get("callbackUrl"));
  if (!(await getSession())) {
    const login = new URL("/login", req.nextUrl.origin);
    login.searchParams.set("callbackUrl", callbackUrl);
    return NextResponse.redirect(login, 303);
  }
  const authorize = await signIn(OIDC_PROVIDER_ID, { redirectTo: callbackUrl, redirect: false }, { prompt: "login", max_age: "0" });
  return NextResponse.redirect(String(authorize), { status: 303, headers: { "Cache-Control": "no-store" } });
}
