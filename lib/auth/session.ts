import "server-only";
import { cache } from "react";
import { and, desc, eq, gt } from "drizzle-orm";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { z } from "zod";
import { recordAuditEvent, type AuditActor, type AuditScope } from "@/lib/audit";
import { getConfig } from "@/lib/config/env";
import { getDb, sanitizeDbError, type Tx } from "@/lib/db";
import { sessions, users } from "@/lib/db/schema/auth";
import { ForbiddenError, FreshSignInRequiredError, NotFoundError, UnauthorizedError } from "@/lib/errors";
import { logger } from "@/lib/log";
import { sessionCookieName } from "./cookie-names";
import { can, isRole, type Permission, type Role } from "./permissions";
import { getRequestContext, type RequestContext } from "./request-context";
import { evaluateSession, sessionEndsAt, shouldTouch, type SessionLimits } from "./session-policy";
import { hashSessionToken } from "./session-token";

/**
 * The one authentication and authorisation choke point for pages, actions and route handlers (STYLE 2–4).
 *
 * Trust boundary: the session cookie is an opaque bearer token; everything else (user, role, lifetime) is
 * read from the database on every request, so a revoked session, an expired one or a role change stored
 * at the last sign-in takes effect at once. The database holds only the token's hash (./session-token.ts);
 * the clear token exists only in the cookie and in this request's memory. Auth.js is used for the sign-in flow only (lib/auth/auth-js.ts);
 * reading sessions does not go through it.
 */

export interface SessionUser {
  id: string;
  /** Public handle of the current session (never the cookie value). */
  sessionId: string;
  name: string;
  email: string;
  role: Role;
  groups: string[];
}

export interface AppSession {
  user: SessionUser;
  createdAt: Date;
  /** When the session ends if unused from now on (the earlier of the idle and absolute limits). */
  endsAt: Date;
  /** When the user last authenticated at the IdP (sessions.auth_time); null when the IdP did not say. */
  authTime: Date | null;
}

export function sessionLimits(): SessionLimits {
  const { auth } = getConfig();
  return { maxAgeSeconds: auth.sessionMaxAgeSeconds, idleTimeoutSeconds: auth.sessionIdleTimeoutSeconds };
}

/** Secure cookies whenever the app's URL is https, and in production when no URL is configured. */
export function secureCookiesEnabled(): boolean {
  const { auth, devMode } = getConfig();
  return auth.url ? auth.url.startsWith("https:") : !devMode;
}

export function currentSessionCookieName(): string {
  return sessionCookieName(secureCookiesEnabled());
}

async function readSessionToken(): Promise<string | undefined> {
  try {
    return (await cookies()).get(currentSessionCookieName())?.value || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Looks a session token up and applies every rule: it exists, it is within both lifetimes, its user has a
 * role. A dead session row is deleted. Used by getSession() and by the Auth.js adapter, so both agree.
 * Database errors leave here sanitised (message and SQLSTATE only): whoever logs them — Next.js included —
 * never sees the bound parameters.
 */
export async function loadValidSession(token: string, now = Date.now()): Promise<AppSession | null> {
  try {
    return await loadByHash(hashSessionToken(token), now);
  } catch (err) {
    throw sanitizeDbError(err);
  }
}

async function loadByHash(tokenHash: string, now: number): Promise<AppSession | null> {
  const db = await getDb();
  const [row] = await db
    .select({
      sessionId: sessions.id,
      createdAt: sessions.createdAt,
      expires: sessions.expires,
      lastActiveAt: sessions.lastActiveAt,
      authTime: sessions.authTime,
      userId: users.id,
      name: users.name,
      email: users.email,
      role: users.role,
      groups: users.groups,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.sessionToken, tokenHash))
    .limit(1);
  if (!row) return null;
  const limits = sessionLimits();
  const state = evaluateSession(row, now, limits);
  if (state !== "live") {
    await db.delete(sessions).where(eq(sessions.id, row.sessionId));
    return null;
  }
  if (!isRole(row.role)) return null;
  let lastActiveAt = row.lastActiveAt;
  if (shouldTouch(row, now, limits)) {
    lastActiveAt = new Date(now);
    await db.update(sessions).set({ lastActiveAt }).where(eq(sessions.id, row.sessionId));
  }
  return {
    user: {
      id: row.userId,
      sessionId: row.sessionId,
      name: row.name ?? row.email ?? "Unknown user",
      email: row.email ?? "",
      role: row.role,
      groups: Array.isArray(row.groups) ? row.groups : [],
    },
    createdAt: row.createdAt,
    endsAt: sessionEndsAt({ ...row, lastActiveAt }, limits),
    authTime: row.authTime,
  };
}

/** The current session, or null when there is none or it has expired, idled out or been revoked. */
export const getSession = cache(async (): Promise<AppSession | null> => {
  const token = await readSessionToken();
  if (!token) return null;
  return loadValidSession(token);
});

/** For pages and layouts: the signed-in user, or a redirect to the sign-in page. */
export async function requireUser(): Promise<SessionUser> {
  const session = await getSession();
  if (!session) redirect("/login");
  return session.user;
}

export function auditActorFor(user: SessionUser | null, ctx: RequestContext): AuditActor {
  return user
    ? { type: "user", userId: user.id, email: user.email, role: user.role, ip: ctx.ip, userAgent: ctx.userAgent }
    : { type: "anonymous", ip: ctx.ip, userAgent: ctx.userAgent };
}

/**
 * For actions and route handlers (and pages, through the shell's guard): the signed-in user holding
 * `permission`. Throws UnauthorizedError without a session and ForbiddenError without the permission; a
 * refusal is audited as `access.denied` (if that write fails the request is still refused).
 */
export async function requirePermission(permission: Permission, target?: { type: string; id?: string | null }): Promise<SessionUser> {
  const session = await getSession();
  if (!session) throw new UnauthorizedError();
  const { user } = session;
  if (can(user.role, permission)) return user;

  const ctx = await getRequestContext();
  try {
    await recordAuditEvent(await getDb(), {
      actor: auditActorFor(user, ctx),
      action: "access.denied",
      target: target ?? { type: "permission", id: permission },
      outcome: "denied",
      reason: `role ${user.role} lacks ${permission}`,
      requestId: ctx.requestId,
      details: { permission },
    });
  } catch (err) {
    logger.error({ err, permission }, "could not audit an access denial");
  }
  throw new ForbiddenError();
}

/** True when the IdP sign-in at `authTime` is at most `maxAgeSeconds` old at `now`. Unknown is never fresh. */
export function isFreshSignIn(authTime: Date | null, maxAgeSeconds: number, now = Date.now()): boolean {
  return authTime !== null && now - authTime.getTime() <= maxAgeSeconds * 1000;
}

/**
 * For commands that demand a recent sign-in (approvals, retirement, exports, …): the current session's
 * auth_time, as the database holds it, must be at most `maxAgeSeconds` old (FRESH_SIGN_IN_MAX_AGE_SECONDS by
 * default). Nothing the browser sends counts. Throws FreshSignInRequiredError otherwise; the caller sends the
 * user through the IdP again (/reauth, which asks for `prompt=login&max_age=0`).
 */
export async function requireFreshSignIn(maxAgeSeconds = getConfig().auth.freshSignInMaxAgeSeconds): Promise<SessionUser> {
  const session = await getSession();
  if (!session) throw new UnauthorizedError();
  if (!isFreshSignIn(session.authTime, maxAgeSeconds)) throw new FreshSignInRequiredError();
  return session.user;
}

export interface ActiveSessionDto {
  id: string;
  userId: string;
  userName: string;
  userEmail: string;
  role: string | null;
  createdAt: string;
  lastActiveAt: string;
  endsAt: string;
  ipAddress: string | null;
  userAgent: string | null;
  /** The session making this request. */
  current: boolean;
}

const MAX_LISTED_SESSIONS = 500;

/** Live sessions, most recently used first (admins: `sessions:manage`). Never exposes a session token. */
export async function listActiveSessions(): Promise<ActiveSessionDto[]> {
  const me = await requirePermission("sessions:manage");
  const limits = sessionLimits();
  const now = Date.now();
  const db = await getDb();
  const rows = await db
    .select({
      id: sessions.id,
      userId: users.id,
      name: users.name,
      email: users.email,
      role: users.role,
      createdAt: sessions.createdAt,
      expires: sessions.expires,
      lastActiveAt: sessions.lastActiveAt,
      ipAddress: sessions.ipAddress,
      userAgent: sessions.userAgent,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(
        gt(sessions.expires, new Date(now)),
        gt(sessions.lastActiveAt, new Date(now - limits.idleTimeoutSeconds * 1000)),
        gt(sessions.createdAt, new Date(now - limits.maxAgeSeconds * 1000)),
      ),
    )
    .orderBy(desc(sessions.lastActiveAt))
    .limit(MAX_LISTED_SESSIONS);
  return rows.map((r) => ({
    id: r.id,
    userId: r.userId,
    userName: r.name ?? r.email ?? "Unknown user",
    userEmail: r.email ?? "",
    role: r.role,
    createdAt: r.createdAt.toISOString(),
    lastActiveAt: r.lastActiveAt.toISOString(),
    endsAt: sessionEndsAt(r, limits).toISOString(),
    ipAddress: r.ipAddress,
    userAgent: r.userAgent,
    current: r.id === me.sessionId,
  }));
}

export const revokeSessionSchema = z.object({ sessionId: z.uuid("must be a session id") });
export type RevokeSessionInput = z.output<typeof revokeSessionSchema>;

/**
 * Ends a session on the server at once. A domain service: the caller authorises (`sessions:manage`) and owns
 * the transaction and its `session.revoke` audit event, to which the outcome is added.
 */
export async function revokeSession(
  tx: Tx,
  input: RevokeSessionInput,
  actor: { sessionId?: string | null },
  audit?: AuditScope,
): Promise<{ revoked: true }> {
  const [gone] = await tx.delete(sessions).where(eq(sessions.id, input.sessionId)).returning({ userId: sessions.userId });
  if (!gone) throw new NotFoundError("That session no longer exists.");
  audit?.addDetails({ sessionUserId: gone.userId, own: input.sessionId === actor.sessionId });
  return { revoked: true as const };
}

/** Deletes the current session row (sign-out). Returns the session that was ended, if any. */
export async function endCurrentSession(): Promise<AppSession | null> {
  const token = await readSessionToken();
  if (!token) return null;
  const session = await loadValidSession(token).catch(() => null);
  const db = await getDb();
  try {
    await db.delete(sessions).where(eq(sessions.sessionToken, hashSessionToken(token)));
  } catch (err) {
    throw sanitizeDbError(err);
  }
  try {
    (await cookies()).set(currentSessionCookieName(), "", {
      path: "/",
      maxAge: 0,
      httpOnly: true,
      sameSite: "lax",
      secure: secureCookiesEnabled(),
    });
  } catch {
    // Not in an action or route handler (cookies are read-only in pages): the row is gone, which is what counts.
  }
  return session;
}

