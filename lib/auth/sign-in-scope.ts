import "server-only";
import { AsyncLocalStorage } from "node:async_hooks";

/**
 * State of one OIDC callback request, shared between the `signIn` callback (which sees the validated id_token)
 * and the adapter's `createSession` (which writes the row). Auth.js passes neither to the other, and both run
 * inside the callback route handler, so the handler opens this scope around Auth.js (./route-handlers.ts).
 *
 * Every successful callback creates a NEW session and deletes the one the browser arrived with: the cookie
 * changes whenever the user proves who they are (no fixation across a re-authentication) and the fresh
 * `auth_time` lands on the new row only.
 */
export interface SignInScope {
  /** The session cookie value the browser arrived with (the session this sign-in replaces), if any. */
  readonly replacesSessionToken: string | null;
  /** When the user authenticated at the IdP, from the id_token's `auth_time`; set by the signIn callback. */
  authTime: Date | null;
}

const storage = new AsyncLocalStorage<SignInScope>();

export function runInSignInScope<T>(replacesSessionToken: string | null | undefined, fn: () => Promise<T>): Promise<T> {
  return storage.run({ replacesSessionToken: replacesSessionToken || null, authTime: null }, fn);
}

/** The scope of the OIDC callback being handled, or undefined anywhere else. */
export function currentSignInScope(): SignInScope | undefined {
  return storage.getStore();
}

/**
 * The id_token's `auth_time` (seconds since the epoch) as a Date, never later than `now`: an IdP clock that
 * runs ahead must not stretch how long a sign-in counts as fresh. Null when absent or malformed.
 */
export function authTimeFromClaims(claims: Record<string, unknown> | null | undefined, now = Date.now()): Date | null {
  const v = claims?.auth_time;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) return null;
  return new Date(Math.min(Math.floor(v) * 1000, now));
}
