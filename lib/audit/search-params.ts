import "server-only";
import { z } from "zod";
import { AUDIT_OUTCOMES, type AuditOutcome } from "@/lib/db/schema/audit";
import { ValidationError } from "@/lib/errors";
import { AUDIT_ACTION_GROUPS, actionInGroup, type AuditActionGroup } from "./action-groups";

/**
 * The Audit page's search as URL parameters (shareable links; wallet and key pages link here with
 * `targetType` + `targetId`). Everything typed into the address bar comes through `parseAuditSearchParams`:
 * enumerations against their lists, identifiers against a narrow alphabet and length, times against one
 * ISO 8601 shape and a bounded range. Values only ever reach SQL as bound parameters.
 */

export const DEFAULT_AUDIT_PAGE_SIZE = 50;
export const MAX_AUDIT_PAGE_SIZE = 200;
/** Widest time range a search may name (both ends given). */
export const MAX_RANGE_DAYS = 366;
const DAY_MS = 86_400_000;
/** Times outside these years are typing errors, not searches. */
const MIN_YEAR = 2000;
const MAX_YEAR = 2200;

export interface AuditSearchFilters {
  /** An e-mail address (contains @) or a user id (users and service actors). */
  actor?: string;
  group?: AuditActionGroup;
  action?: string;
  targetType?: string;
  targetId?: string;
  outcome?: AuditOutcome;
  /** Inclusive lower bound, ISO 8601 UTC. */
  from?: string;
  /** Exclusive upper bound, ISO 8601 UTC (a date alone means the end of that day). */
  to?: string;
  requestId?: string;
  vaultRequestId?: string;
}

export interface AuditSearchQuery {
  filters: AuditSearchFilters;
  limit: number;
  cursor?: string;
}

export type RawParams = Record<string, string | string[] | undefined>;

const blankToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : typeof v === "string" ? v.trim() : v);
const opt = <T extends z.ZodType>(s: T) => z.preprocess(blankToUndefined, s.optional());
const enumOf = <T extends readonly [string, ...string[]]>(values: T, what: string) =>
  z.enum(values, { error: () => `${what} must be one of: ${values.join(", ")}` });

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:\d{2})?)?$/;

export const auditSearchSchema = z.object({
  actor: opt(z.string().regex(/^[A-Za-z0-9@._+:-]{1,320}$/, "Actor must be an e-mail address or a user id")),
  group: opt(enumOf(AUDIT_ACTION_GROUPS, "Action group")),
  action: opt(z.string().max(100, "Action is at most 100 characters").regex(/^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/, "Action must be a dotted lower-case name such as auth.login")),
  targetType: opt(z.string().regex(/^[A-Za-z0-9_.:-]{1,50}$/, "Target type must be a name such as wallet or campaign")),
  // Target ids are whatever writers used (wallet ids, addresses, UUIDs, key names): anything printable.
  targetId: opt(z.string().max(255, "Target id is at most 255 characters").regex(/^[^\p{Cc}]+$/u, "Target id must not contain control characters")),
  outcome: opt(enumOf(AUDIT_OUTCOMES, "Outcome")),
  from: opt(z.string().max(40, "From must be a date or time such as 2026-01-31 or 2026-01-31T12:00Z")),
  to: opt(z.string().max(40, "To must be a date or time such as 2026-01-31 or 2026-01-31T12:00Z")),
  requestId: opt(z.string().regex(REQUEST_ID, "Request id must be letters, digits and . _ : - (at most 128)")),
  vaultRequestId: opt(z.string().regex(REQUEST_ID, "Vault request id must be letters, digits and . _ : - (at most 128)")),
  // Clamped, not refused.
  limit: opt(z.string().max(12)),
  cursor: opt(z.string().max(512, "The page link is invalid. Start again from the first page.")),
});

export function clampAuditPageSize(raw: string | number | undefined): number {
  const n = typeof raw === "number" ? raw : raw === undefined ? NaN : Number.parseInt(raw, 10);
  if (!Number.isFinite(n)) return DEFAULT_AUDIT_PAGE_SIZE;
  return Math.min(MAX_AUDIT_PAGE_SIZE, Math.max(1, Math.trunc(n)));
}

/**
 * A time bound → epoch ms. No zone means UTC. A date alone is the start of that day, or for `to` the start of
 * the next (so `to=2026-01-31` includes the 31st). Throws ValidationError naming the parameter.
 */
export function parseTimeBound(raw: string, which: "from" | "to"): number {
  const label = which === "from" ? "From" : "To";
  const m = TIME.exec(raw);
  if (!m) throw new ValidationError(`${label} must be a date or time such as 2026-01-31 or 2026-01-31T12:00Z.`);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  if (year < MIN_YEAR || year > MAX_YEAR) throw new ValidationError(`${label} must be between the years ${MIN_YEAR} and ${MAX_YEAR}.`);
  const ms = Date.UTC(year, Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0), Number((frac ?? "0").padEnd(3, "0").slice(0, 3)));
  const check = new Date(ms);
  // Date.UTC rolls 2026-02-31 over into March: a date that does not exist is refused instead.
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h ?? 0) > 23 || Number(mi ?? 0) > 59 || Number(s ?? 0) > 59) {
    throw new ValidationError(`${label} is not a valid date or time.`);
  }
  let offsetMs = 0;
  if (zone && zone !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const [zh, zm] = zone.slice(1).split(":").map(Number) as [number, number];
    if (zh > 14 || zm > 59) throw new ValidationError(`${label} has an invalid time zone offset.`);
    offsetMs = sign * (zh * 60 + zm) * 60_000;
  }
  const dateOnly = h === undefined;
  return ms - offsetMs + (dateOnly && which === "to" ? DAY_MS : 0);
}

/**
 * URL parameters → a validated search. Throws ValidationError with every problem in one message, so the page
 * can show it next to the filters.
 */
export function parseAuditSearchParams(raw: RawParams | URLSearchParams): AuditSearchQuery {
  const flat: Record<string, string | undefined> = {};
  const entries: [string, string | string[] | undefined][] =
    raw instanceof URLSearchParams ? [...raw.keys()].map((k) => [k, raw.getAll(k)]) : Object.entries(raw);
  for (const [k, v] of entries) {
    if (!(k in auditSearchSchema.shape)) continue;
    flat[k] = Array.isArray(v) ? v[0] : v;
  }
  const parsed = auditSearchSchema.safeParse(flat);
  if (!parsed.success) throw new ValidationError(parsed.error.issues.map((i) => i.message).join(". ") + ".");
  const p = parsed.data;

  const problems: string[] = [];
  let fromMs: number | undefined;
  let toMs: number | undefined;
  for (const [which, value] of [["from", p.from], ["to", p.to]] as const) {
    if (value === undefined) continue;
    try {
      const ms = parseTimeBound(value, which);
      if (which === "from") fromMs = ms;
      else toMs = ms;
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      problems.push(err.message);
    }
  }
  if (fromMs !== undefined && toMs !== undefined) {
    if (fromMs >= toMs) problems.push("The time range ends before it starts: From must be earlier than To.");
    else if (toMs - fromMs > MAX_RANGE_DAYS * DAY_MS) problems.push(`The time range is wider than ${MAX_RANGE_DAYS} days: narrow it, or leave one end open.`);
  }
  if (p.targetId !== undefined && p.targetType === undefined) problems.push("A target id needs a target type (e.g. targetType=wallet).");
  if (p.group !== undefined && p.action !== undefined && !actionInGroup(p.action, p.group)) {
    problems.push(`The action ${p.action} is not in the group ${p.group}.`);
  }
  if (problems.length > 0) throw new ValidationError(problems.join(" "));

  const filters: AuditSearchFilters = {
    actor: p.actor,
    group: p.group,
    action: p.action,
    targetType: p.targetType,
    targetId: p.targetId,
    outcome: p.outcome,
    from: fromMs === undefined ? undefined : new Date(fromMs).toISOString(),
    to: toMs === undefined ? undefined : new Date(toMs).toISOString(),
    requestId: p.requestId,
    vaultRequestId: p.vaultRequestId,
  };
  for (const k of Object.keys(filters) as (keyof AuditSearchFilters)[]) if (filters[k] === undefined) delete filters[k];
  return { filters, limit: clampAuditPageSize(p.limit), cursor: p.cursor };
}

/** Parameter order in links (stable, so a view's fingerprint does not depend on how the URL was typed). */
const FILTER_KEYS: readonly (keyof AuditSearchFilters)[] = [
  "actor",
  "group",
  "action",
  "targetType",
  "targetId",
  "outcome",
  "from",
  "to",
  "requestId",
  "vaultRequestId",
];

/** The search as URL parameters (next/previous page, export link). Defaults are left out. */
export function auditSearchToParams(q: { filters: AuditSearchFilters; limit?: number; cursor?: string }): URLSearchParams {
  const out = new URLSearchParams();
  for (const k of FILTER_KEYS) {
    const v = q.filters[k];
    if (v !== undefined) out.set(k, v);
  }
  if (q.limit !== undefined && q.limit !== DEFAULT_AUDIT_PAGE_SIZE) out.set("limit", String(q.limit));
  if (q.cursor !== undefined) out.set("cursor", q.cursor);
  return out;
}

/** Canonical text of the filters a cursor belongs to (not the page size: changing it keeps the position). */
export function auditViewText(filters: AuditSearchFilters): string {
  return auditSearchToParams({ filters }).toString();
}

/** An event id from a URL segment: a positive integer, else a clear message. */
export function parseAuditEventId(raw: string): number {
  if (!/^[1-9]\d{0,14}$/.test(raw)) throw new ValidationError("That is not an audit event id.");
  return Number(raw);
}
