/**
 * Session lifetime rules, pure so they are unit-tested. Both limits come from config:
 * - absolute: a session ends `maxAgeSeconds` after it was created, however busy (row `expires`, and
 *   `createdAt + maxAge` checked as well so an edited `expires` cannot extend it);
 * - idle: a session ends `idleTimeoutSeconds` after its last use (`lastActiveAt`).
 * Use bumps `lastActiveAt` at most once per TOUCH_INTERVAL to keep reads cheap; the idle limit is therefore
 * exact to within that interval, in the user's disfavour never by more.
 */
export interface SessionTimes {
  createdAt: Date;
  expires: Date;
  lastActiveAt: Date;
}

export interface SessionLimits {
  maxAgeSeconds: number;
  idleTimeoutSeconds: number;
}

export type SessionState = "live" | "expired" | "idle";

export const TOUCH_INTERVAL_MS = 60_000;

export function evaluateSession(s: SessionTimes, now: number, limits: SessionLimits): SessionState {
  const absoluteEnd = Math.min(s.expires.getTime(), s.createdAt.getTime() + limits.maxAgeSeconds * 1000);
  if (!(now < absoluteEnd)) return "expired";
  if (!(now < s.lastActiveAt.getTime() + limits.idleTimeoutSeconds * 1000)) return "idle";
  return "live";
}

export function shouldTouch(s: SessionTimes, now: number, limits: SessionLimits): boolean {
  const interval = Math.min(TOUCH_INTERVAL_MS, (limits.idleTimeoutSeconds * 1000) / 4);
  return now - s.lastActiveAt.getTime() >= interval;
}

/** When the session will end if unused from now on (for display). */
export function sessionEndsAt(s: SessionTimes, limits: SessionLimits): Date {
  const absoluteEnd = Math.min(s.expires.getTime(), s.createdAt.getTime() + limits.maxAgeSeconds * 1000);
  return new Date(Math.min(absoluteEnd, s.lastActiveAt.getTime() + limits.idleTimeoutSeconds * 1000));
}
