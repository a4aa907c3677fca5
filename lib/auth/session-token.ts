import "server-only";
import { createHash, randomBytes } from "node:crypto";

/**
 * Session tokens at rest. The browser's cookie holds the random token; `sessions.session_token` holds only
 * its SHA-256 (hex), so a read of the database or of a backup yields nothing that can be presented as a
 * cookie. Every lookup hashes the presented cookie first. A plain (unsalted, fast) hash is enough because
 * the token is 256 random bits: there is nothing to guess.
 *
 * Rows written before hashing hold the clear token; a presented cookie's hash never equals one, so those
 * sessions simply end (their users sign in again) and the sweeper deletes the rows.
 */
export function hashSessionToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Auth.js `session.generateSessionToken`: 32 random bytes, base64url (Auth.js's default is a UUID). */
export function generateSessionToken(): string {
  return randomBytes(32).toString("base64url");
}
