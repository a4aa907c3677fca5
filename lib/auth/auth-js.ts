import "server-only";
import { randomUUID } from "node:crypto";
import { DrizzleAdapter } from "@auth/drizzle-adapter";
import { and, eq } from "drizzle-orm";
import NextAuth, { type NextAuthConfig } from "next-auth";
import type { Adapter, AdapterAccount } from "next-auth/adapters";
import { recordAuditEvent, withAudit } from "@/lib/audit";
import { getConfig } from "@/lib/config/env";
import { getDb, type Db } from "@/lib/db";
import { accounts, sessions, users } from "@/lib/db/schema/auth";
import { logger } from "@/lib/log";
import { sessionCookieName } from "./cookie-names";
import { isRole, type Role } from "./permissions";
import { getRequestContext } from "./request-context";
import { resolveRole } from "./role-mapping";
import { loadValidSession, secureCookiesEnabled } from "./session";

/**
 * Auth.js v5 wiring: the generic OIDC provider, database sessions through @auth/drizzle-adapter on our
 * schema. Nothing outside lib/auth imports next-auth.
 *
 * Sign-in, in order (each step fails closed):
 * 1. the IdP authenticates (code flow, PKCE + state + nonce); the profile comes from the id_token;
 * 2. `signIn` callback maps the groups claim to a role. Unmapped: the user's stored role is cleared, their
 *    sessions are deleted, `auth.login` is audited as denied, and they are sent to /no-access with no session.
 *    Mapped: role and groups are stored on the user row (so an IdP change applies at every login);
 * 3. the adapter's `createSession` writes the session row and the `auth.login` success event in one
 *    transaction: no audit record, no session.
 *
 * Lifetimes: Auth.js `maxAge` is the absolute limit and is never extended (updateAge = maxAge); the idle
 * limit is enforced by lib/auth/session.ts from `sessions.last_active_at`.
 */

export const OIDC_PROVIDER_ID = "oidc";
/** `groups` is a scope at the dev IdP and at most IdPs that can emit the claim. */
const OIDC_SCOPE = "openid profile email groups";

declare module "next-auth" {
  interface User {
    role?: Role | null;
    groups?: string[];
    lastLoginAt?: Date;
  }
}

/** Adapter with the console's rules: no OAuth tokens at rest, audited session creation, shared validity checks. */
function consoleAdapter(db: Db): Adapter {
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
      return withAudit(
        db,
        {
          actor: { type: "user", userId: user.id, email: user.email, role: user.role, ip: ctx.ip, userAgent: ctx.userAgent },
          action: "auth.login",
          target: { type: "session", id },
          requestId: ctx.requestId,
          details: { provider: OIDC_PROVIDER_ID },
        },
        async (tx) => {
          const [row] = await tx
            .insert(sessions)
            .values({ ...data, id, ipAddress: ctx.ip, userAgent: ctx.userAgent })
            .returning({ sessionToken: sessions.sessionToken, userId: sessions.userId, expires: sessions.expires });
          if (!row) throw new Error("session insert returned nothing");
          return row;
        },
        { auditFailure: false },
      );
    },
    async getSessionAndUser(sessionToken) {
      const valid = await loadValidSession(sessionToken);
      if (!valid) return null;
      return base.getSessionAndUser!(sessionToken);
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

async function buildConfig(): Promise<NextAuthConfig> {
  const { auth } = getConfig();
  const db = await getDb();
  const secure = secureCookiesEnabled();

  return {
    adapter: consoleAdapter(db),
    secret: auth.secret,
    trustHost: true,
    useSecureCookies: secure,
    cookies: { sessionToken: { name: sessionCookieName(secure) } },
    session: {
      strategy: "database",
      maxAge: auth.sessionMaxAgeSeconds,
      updateAge: auth.sessionMaxAgeSeconds,
    },
    pages: { signIn: "/login", error: "/login", signOut: "/login" },
    providers: auth.issuer
      ? [
          {
            id: OIDC_PROVIDER_ID,
            name: "SSO",
            type: "oidc",
            issuer: auth.issuer,
            clientId: auth.clientId,
            clientSecret: auth.clientSecret,
            checks: ["pkce", "state", "nonce"],
            authorization: { params: { scope: OIDC_SCOPE } },
            profile(profile) {
              const { role, groups } = resolveRole(profile, auth.groupsClaim, auth.roleMapping);
              const email = typeof profile.email === "string" ? profile.email : null;
              const name =
                (typeof profile.name === "string" && profile.name) ||
                (typeof profile.preferred_username === "string" && profile.preferred_username) ||
                email;
              return { id: String(profile.sub), name: name || null, email, image: null, role, groups, lastLoginAt: new Date() };
            },
          },
        ]
      : [],
    callbacks: {
      async signIn({ account, profile }) {
        if (!account || account.provider !== OIDC_PROVIDER_ID || !profile?.sub) return false;
        const claims = profile as Record<string, unknown>;
        const { role, groups } = resolveRole(claims, auth.groupsClaim, auth.roleMapping);
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
        return true;
      },
      // Auth.js's own /api/auth/session answer: nothing beyond what the page already shows.
      session({ session, user }) {
        return { ...session, user: { ...session.user, name: user.name, email: user.email ?? "" } };
      },
    },
    logger: {
      error(error) {
        // Names and messages only: Auth.js error causes can carry token responses.
        logger.warn({ authError: error.name, message: error.message.slice(0, 300) }, "auth.js error");
      },
      warn(code) {
        logger.warn({ authWarning: code }, "auth.js warning");
      },
      debug() {},
    },
    debug: false,
  };
}

export const { handlers, signIn, signOut } = NextAuth(buildConfig);
