import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * Auth.js adapter tables (@auth/drizzle-adapter, Postgres flavour) plus the console's own columns.
 * Written only through lib/auth. The property names the adapter relies on (id, name, email, emailVerified,
 * image; userId, type, provider, providerAccountId, …; sessionToken, userId, expires) must not be renamed;
 * the SQL column names are ours.
 *
 * Sessions live in the database (not JWTs) so an admin can revoke one on the server (DESIGN §4).
 */
export const users = pgTable(
  "users",
  {
    id: text("id")
      .primaryKey()
      .$defaultFn(() => crypto.randomUUID()),
    name: text("name"),
    email: text("email").unique("users_email_key"),
    emailVerified: timestamp("email_verified", { withTimezone: true, mode: "date" }),
    image: text("image"),
    /** Console role derived from the IdP groups at the last sign-in; null = unmapped (no access). */
    role: text("role"),
    /** The raw groups claim at the last sign-in, for the sessions/users views and audit context. */
    groups: jsonb("groups").$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    lastLoginAt: timestamp("last_login_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [check("users_role_check", sql`${t.role} is null or ${t.role} in ('viewer', 'auditor', 'operator', 'officer', 'admin')`)],
);

/**
 * One row per linked IdP identity. lib/auth strips the OAuth tokens before the adapter stores them: the
 * console never calls the IdP on the user's behalf, so keeping bearer tokens at rest would only add risk.
 * The columns stay because the adapter's types require them.
 */
export const accounts = pgTable(
  "accounts",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    type: text("type").$type<"oauth" | "oidc" | "email" | "webauthn">().notNull(),
    provider: text("provider").notNull(),
    providerAccountId: text("provider_account_id").notNull(),
    refresh_token: text("refresh_token"),
    access_token: text("access_token"),
    expires_at: integer("expires_at"),
    token_type: text("token_type"),
    scope: text("scope"),
    id_token: text("id_token"),
    session_state: text("session_state"),
  },
  (t) => [primaryKey({ name: "accounts_pkey", columns: [t.provider, t.providerAccountId] }), index("accounts_user_id_idx").on(t.userId)],
);

/**
 * Database sessions. `sessionToken` is the cookie value (a bearer secret): it never leaves lib/auth.
 * `id` is the public handle admins use to list and revoke sessions.
 * Two lifetimes, both enforced by lib/auth on every read: `expires` is absolute (created + max age, never
 * extended); `lastActiveAt` slides with use and the session dies after the idle timeout without it.
 */
export const sessions = pgTable(
  "sessions",
  {
    sessionToken: text("session_token").primaryKey(),
    id: uuid("id").notNull().defaultRandom().unique("sessions_id_key"),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    expires: timestamp("expires", { withTimezone: true, mode: "date" }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    lastActiveAt: timestamp("last_active_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    /**
     * When the user last proved who they are at the IdP: the id_token's `auth_time` at this session's sign-in,
     * never later than the sign-in itself. Null when the IdP did not say (the session then never counts as a
     * fresh sign-in). Only the server writes it; fresh-sign-in checks read it from here.
     */
    authTime: timestamp("auth_time", { withTimezone: true, mode: "date" }),
    ipAddress: text("ip_address"),
    userAgent: text("user_agent"),
  },
  (t) => [index("sessions_user_id_idx").on(t.userId), index("sessions_expires_idx").on(t.expires)],
);

export type UserRow = typeof users.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
