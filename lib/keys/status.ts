import "server-only";

/**
 * Pure key-lifecycle rules (DESIGN §5): age, rotation status, due dates, environment of a record, key-name
 * validation. Time is always passed in, so the rules are tested at fixed instants.
 */

export const DAY_MS = 86_400_000;
/** A key is "due" this many days before its policy maximum age is reached. */
export const DUE_WINDOW_DAYS = 14;

export type RotationStatus = "ok" | "due" | "overdue" | "unknown";

export interface RotationAssessment {
  status: RotationStatus;
  /** Whole days since the latest version was created (floor); null when Vault gave no creation time. */
  ageDays: number | null;
  /** When the latest version reaches the policy maximum age. */
  policyDueAt: Date | null;
  /** Days until policyDueAt (negative when overdue, floor). */
  daysUntilDue: number | null;
  /** Next automatic rotation implied by Vault's auto_rotate_period (latest version's creation + period); null when off. */
  autoRotateDueAt: Date | null;
  /** Auto-rotation is on and at most the policy maximum age: the policy is kept without anyone acting. */
  autoRotationMeetsPolicy: boolean;
}

/** Whole days between two instants, floored; 0 for a future `from` (clock skew between Vault and us). */
export function ageInDays(from: Date, now: Date): number {
  return Math.max(0, Math.floor((now.getTime() - from.getTime()) / DAY_MS));
}

export function assessRotation(
  latestCreatedAt: Date | null,
  autoRotatePeriodSeconds: number,
  maxAgeDays: number,
  now: Date,
): RotationAssessment {
  const autoOn = Number.isFinite(autoRotatePeriodSeconds) && autoRotatePeriodSeconds > 0;
  const autoRotationMeetsPolicy = autoOn && autoRotatePeriodSeconds <= maxAgeDays * 86_400;
  if (!latestCreatedAt || Number.isNaN(latestCreatedAt.getTime())) {
    return { status: "unknown", ageDays: null, policyDueAt: null, daysUntilDue: null, autoRotateDueAt: null, autoRotationMeetsPolicy };
  }
  const policyDueAt = new Date(latestCreatedAt.getTime() + maxAgeDays * DAY_MS);
  const untilMs = policyDueAt.getTime() - now.getTime();
  // Status follows the age alone: a key past its maximum age is overdue even if auto-rotation is configured
  // (auto-rotation that did not happen is exactly the failure this page must show).
  const status: RotationStatus = untilMs <= 0 ? "overdue" : untilMs <= DUE_WINDOW_DAYS * DAY_MS ? "due" : "ok";
  return {
    status,
    ageDays: ageInDays(latestCreatedAt, now),
    policyDueAt,
    daysUntilDue: Math.floor(untilMs / DAY_MS),
    autoRotateDueAt: autoOn ? new Date(latestCreatedAt.getTime() + autoRotatePeriodSeconds * 1000) : null,
    autoRotationMeetsPolicy,
  };
}

export { formatPeriod } from "./format";

/** Vault's GenericNameRegex (`\w(([\w-.]+)?\w)?`), and Vault's practical length limit. */
const KEY_NAME = /^\w(?:[\w.-]*\w)?$/;
export function isValidKeyName(name: unknown): name is string {
  return typeof name === "string" && name.length > 0 && name.length <= 256 && KEY_NAME.test(name);
}

/**
 * The environment of a record: the row's own column when a backend filled it, otherwise the configured
 * key-name → environment mapping, otherwise unknown (null).
 */
export function effectiveEnvironment(rowEnvironment: string | null, keyName: string, mapping: Readonly<Record<string, string>>): string | null {
  if (rowEnvironment) return rowEnvironment;
  return Object.hasOwn(mapping, keyName) ? (mapping[keyName] ?? null) : null;
}
