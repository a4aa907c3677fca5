"use server";

import { command, revokeSession, revokeSessionSchema } from "@/lib/auth";

/**
 * Admin: end someone's session now. Demands a fresh sign-in: a stolen admin cookie alone must not be able to
 * sign the security team out during an incident.
 */
export const revokeSessionAction = command({
  permission: "sessions:manage",
  input: revokeSessionSchema,
  freshSignIn: true,
  audit: (i) => ({ action: "session.revoke", target: { type: "session", id: i.sessionId } }),
  run: (i, { tx, actor, audit }) => revokeSession(tx, i, actor, audit),
});
