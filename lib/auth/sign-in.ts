import "server-only";
import { randomUUID } from "node:crypto";
import { DrizzleAdapter } from "@auth/drizzle-adapter";
import { and, eq } from "drizzle-orm";
import type { Adapter, AdapterAccount } from "next-auth/adapters";
import type { Profile } from "next-auth";
import { recordAuditEvent, withAudit } from "@/lib/audit";
import type { Config } from "@/lib/config/env";
import type { Db } from "@/lib/db";
import { accounts, sessions, users } from "@/lib/db/schema/auth";
import { isRole } from "./permissions";
import { getRequestContext } from "./request-context";
import { resolveRole } from "./role-mapping";
import { loadValidSession } from "./session";
import { hashSessionToken } from "./session-token";
import { authTimeFromClaims, currentSignInScope } from "./sign-in-scope";

/**
 * The console's side of Auth.js sign-in: the adapter (on our Drizzle schema) and the signIn decision.
 * Kept apart from lib/auth/auth-js.ts (the NextAuth instance) so it can be tested without Next's runtime.
 */

export const OIDC_PROVIDER_ID = "oidc";
/**
 * Adapter with the console's rules: no OAuth tokens at rest, audited session creation, shared validity checks,
 * and session tokens stored only as their hash. Auth.js hands every session method the clear token (the
 * cookie value) and expects it back on the session objects it is given; only the database side is hashed.
 *
 * Inside an OIDC callback (./sign-in-scope.ts) a sign-in always makes a new session: the browser's current
 * session is not looked up (Auth.js would otherwise keep it and skip createSession), and createSession deletes
 * it in the transaction that inserts its successor with the id_token's auth_time.
 */
export function consoleAdapter(db: Db): Adapter {
  const base = DrizzleAdapter(db, { usersTable: users, accountsTable: accounts, sessionsTable: sessions });
  return {
    ...base,
    // The console never calls the IdP on a user's behalf: keep only the link, never bearer tokens.
    async linkAccount(account: AdapterAccount) {
      await db.insert(accounts).values({
        userId: account.userId,
        type: account.type,
        provider: account.provider,
        providerAccountId: account.providerAccountId,
      });
    },
    async createSession(data) {
      const ctx = await getRequestContext();
      const [user] = await db
        .select({ id: users.id, email: users.email, role: users.role })
        .from(users)
        .where(eq(users.id, data.userId))
        .limit(1);
      if (!user || !isRole(user.role)) throw new Error("refusing to create a session for a user without a role");
      const id = randomUUID();
      const scope = currentSignInScope();
      const authTime = scope?.authTime ?? null;
      return withAudit(
        db,
        {
          actor: { type: "user", userId: user.id, email: user.email, role: user.role, ip: ctx.ip, userAgent: ctx.userAgent },
          action: "auth.login",
          target: { type: "session", id },
          requestId: ctx.requestId,
          details: { provider: OIDC_PROVIDER_ID, authTime: authTime?.toISOString() ?? null },
        },
        async (tx, audit) => {
          if (scope?.replacesSessionToken) {
            const [replaced] = await tx
              .delete(sessions)
              .where(eq(sessions.sessionToken, hashSessionToken(scope.replacesSessionToken)))
              .returning({ id: sessions.id });
            if (replaced) audit.addDetails({ replacesSession: replaced.id });
          }
          const [row] = await tx
            .insert(sessions)
            .values({
              sessionToken: hashSessionToken(data.sessionToken),
              userId: data.userId,
              expires: data.expires,
              id,
              authTime,
              ipAddress: ctx.ip,
              userAgent: ctx.userAgent,
            })
            .returning({ userId: sessions.userId, expires: sessions.expires });
          if (!row) throw new Error("session insert returned nothing");
          // Auth.js sets the cookie from this value: the clear token, which the database never saw.
          return { sessionToken: data.sessionToken, ...row };
        },
        { auditFailure: false },
      );
    },
    async getSessionAndUser(sessionToken) {
      if (currentSignInScope()) return null;
      const valid = await loadValidSession(sessionToken);
      if (!valid) return null;
      const found = await base.getSessionAndUser!(hashSessionToken(sessionToken));
      return found && { user: found.user, session: { sessionToken, userId: found.session.userId, expires: found.session.expires } };
    },
    async updateSession(data) {
      const updated = await base.updateSession!({ ...data, sessionToken: hashSessionToken(data.sessionToken) });
      return updated && { sessionToken: data.sessionToken, userId: updated.userId, expires: updated.expires };
    },
    async deleteSession(sessionToken) {
      await db.delete(sessions).where(eq(sessions.sessionToken, hashSessionToken(sessionToken)));
    },
  };
}

async function recordDeniedLogin(db: Db, sub: string, email: string | null, groups: string[], reason: string) {
  const ctx = await getRequestContext();
  await db.transaction(async (tx) => {
    const [existing] = await tx
      .select({ id: users.id })
      .from(accounts)
      .innerJoin(users, eq(users.id, accounts.userId))
      .where(and(eq(accounts.provider, OIDC_PROVIDER_ID), eq(accounts.providerAccountId, sub)))
      .limit(1);
    if (existing) {
      // The IdP no longer puts this person in a mapped group: their existing sessions end now too.
      await tx.update(users).set({ role: null, groups }).where(eq(users.id, existing.id));
      await tx.delete(sessions).where(eq(sessions.userId, existing.id));
    }
    await recordAuditEvent(tx, {
      actor: { type: "anonymous", userId: existing?.id ?? null, email, ip: ctx.ip, userAgent: ctx.userAgent },
      action: "auth.login",
      target: { type: "idp-subject", id: sub },
      outcome: "denied",
      reason,
      requestId: ctx.requestId,
      details: { groups },
    });
  });
}

/**
 * The `signIn` callback: true to continue to session creation, "/no-access" (no session) for a user whose
 * groups map to no role. Throwing (e.g. the denial could not be audited) makes Auth.js refuse the login.
 */
export async function authorizeSignIn(
  db: Db,
  auth: Pick<Config["auth"], "groupsClaim" | "roleMapping">,
  account: { provider: string; providerAccountId: string } | null | undefined,
  profile: Profile | undefined,
): Promise<boolean | string> {
  if (!account || account.provider !== OIDC_PROVIDER_ID || typeof profile?.sub !== "string" || !profile.sub) return false;
  const { role, groups } = resolveRole(profile as Record<string, unknown>, auth.groupsClaim, auth.roleMapping);
  const email = typeof profile.email === "string" ? profile.email.toLowerCase() : null;
  if (!role) {
    await recordDeniedLogin(db, profile.sub, email, groups, groups.length === 0 ? "no groups claim" : "no mapped group");
    return "/no-access";
  }
  const name = typeof profile.name === "string" ? profile.name : undefined;
  // Existing users: refresh role and groups now. New users get them from profile() via createUser.
  const [existing] = await db
    .select({ id: users.id })
    .from(accounts)
    .innerJoin(users, eq(users.id, accounts.userId))
    .where(and(eq(accounts.provider, OIDC_PROVIDER_ID), eq(accounts.providerAccountId, account.providerAccountId)))
    .limit(1);
  if (existing) {
    await db
      .update(users)
      .set({ role, groups, lastLoginAt: new Date(), ...(name ? { name } : {}) })
      .where(eq(users.id, existing.id));
  }
  const scope = currentSignInScope();
  if (scope) scope.authTime = authTimeFromClaims(profile as Record<string, unknown>);
  return true;
}

