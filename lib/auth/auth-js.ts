import "server-only";
import NextAuth, { type NextAuthConfig } from "next-auth";
import { getConfig } from "@/lib/config/env";
import { getDb } from "@/lib/db";
import { logger, scrubText } from "@/lib/log";
import { sessionCookieName } from "./cookie-names";
import type { Role } from "./permissions";
import { resolveRole } from "./role-mapping";
import { secureCookiesEnabled } from "./session";
import { generateSessionToken } from "./session-token";
import { authorizeSignIn, consoleAdapter, OIDC_PROVIDER_ID } from "./sign-in";

export { OIDC_PROVIDER_ID };

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

/** `groups` is a scope at the dev IdP and at most IdPs that can emit the claim. */
const OIDC_SCOPE = "openid profile email groups";

declare module "next-auth" {
  interface User {
    role?: Role | null;
    groups?: string[];
    lastLoginAt?: Date;
  }
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
      generateSessionToken,
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
      signIn: ({ account, profile }) => authorizeSignIn(db, auth, account, profile),
      // Auth.js's own /api/auth/session answer (readable by page script): name, email and expiry only. Auth.js
      // passes the adapter's session object in, whose sessionToken is the httpOnly cookie's value: never echo it.
      session({ session, user }) {
        return { user: { name: user.name, email: user.email ?? "" }, expires: new Date(session.expires).toISOString() };
      },
    },
    logger: {
      error(error) {
        // Type and message only: Auth.js error causes can carry token responses. `type` survives minification.
        const type = (error as { type?: unknown }).type;
        logger.warn({ authError: typeof type === "string" ? type : error.name, message: scrubText(error.message).slice(0, 300) }, "auth.js error");
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
