"use server";

import { redirect } from "next/navigation";
import { recordAuditEvent } from "@/lib/audit";
import { getDb } from "@/lib/db";
import { logger } from "@/lib/log";
import { OIDC_PROVIDER_ID, signIn } from "./auth-js";
import { postSignOutUrl } from "./idp-logout";
import { getRequestContext } from "./request-context";
import { safeCallbackPath } from "./safe-redirect";
import { auditActorFor, endCurrentSession } from "./session";

/**
 * Server actions for the auth UI. Sign-in and sign-out need no permission: anyone may start a login, and
 * ending one's own session is always allowed. They are the only actions not built with `command()` and are
 * listed as such in lib/auth/wrappers.test.ts.
 */

/** Starts the OIDC flow; the form may carry `callbackUrl` (a same-origin path). */
export async function signInAction(formData?: FormData): Promise<void> {
  const redirectTo = safeCallbackPath(formData?.get("callbackUrl"));
  await signIn(OIDC_PROVIDER_ID, { redirectTo });
}

/**
 * Ends the console session (row deleted, cookie cleared), audits `auth.logout`, then sends the browser to
 * the IdP's logout so the next sign-in asks for credentials. Logout is never blocked by a failed audit write:
 * refusing to end a session would be the less safe outcome.
 */
export async function signOutAction(): Promise<void> {
  const ctx = await getRequestContext();
  const ended = await endCurrentSession();
  if (ended) {
    try {
      await recordAuditEvent(await getDb(), {
        actor: auditActorFor(ended.user, ctx),
        action: "auth.logout",
        target: { type: "session", id: ended.user.sessionId },
        requestId: ctx.requestId,
      });
    } catch (err) {
      logger.error({ err }, "could not audit a logout");
    }
  }
  redirect(await postSignOutUrl());
}
