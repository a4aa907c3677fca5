import "server-only";
import { z } from "zod";
import { INVENTORY_BACKUP_STATUSES } from "@/lib/db/schema/inventory";
import { ValidationError } from "@/lib/errors";

/**
 * The Wallets view as URL parameters (shareable links; the key pages link here with `key`, `version`,
 * `behind=1`). Everything a user can type into the address bar comes through `parseInventoryParams`:
 * enumerations are checked against their lists, free text against a narrow alphabet and length, numbers are
 * bounded, the page size is clamped. Nothing here ever reaches SQL as text: the query layer binds parameters.
 */

export const INVENTORY_SORTS = ["created", "accessed", "wrapped"] as const;
export type InventorySort = (typeof INVENTORY_SORTS)[number];
export const SORT_DIRECTIONS = ["asc", "desc"] as const;
export type SortDirection = (typeof SORT_DIRECTIONS)[number];
export const THRESHOLD_SCHEMES = ["TWO_OF_TWO", "TWO_OF_THREE"] as const;
export const LAYOUTS = ["direct", "envelope"] as const;
export const INTEGRITY_FLAGS = ["plaintext_in_cache", "no_share", "no_properties", "cannot_sign", "two_of_two_unbacked"] as const;
export type IntegrityFlag = (typeof INTEGRITY_FLAGS)[number];
export const ACCESS_FILTERS = ["never", "older"] as const;
/** Chains offered in the filter; other well-formed names are accepted from a URL too. */
export const KNOWN_CHAINS = ["EVM", "SVM", "BTC", "SUI", "TON"] as const;

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;
export const DEFAULT_IDLE_DAYS = 90;
/** Prefix searches shorter than this would match a large part of the inventory; they are refused. */
export const MIN_SEARCH_CHARS = 3;

export interface InventoryFilters {
  q?: string;
  chain?: string;
  scheme?: (typeof THRESHOLD_SCHEMES)[number];
  env?: string;
  key?: string;
  version?: number;
  behind?: boolean;
  layout?: (typeof LAYOUTS)[number];
  backup?: (typeof INVENTORY_BACKUP_STATUSES)[number];
  access?: (typeof ACCESS_FILTERS)[number];
  /** With access=older. */
  days?: number;
  flag?: IntegrityFlag;
}

export interface InventoryQuery {
  filters: InventoryFilters;
  sort: InventorySort;
  dir: SortDirection;
  limit: number;
  cursor?: string;
}

const blankToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const opt = <T extends z.ZodType>(s: T) => z.preprocess(blankToUndefined, s.optional());

const intIn = (min: number, max: number, what: string) =>
  z
    .string()
    .regex(/^\d{1,10}$/, `${what} must be a whole number`)
    .transform(Number)
    .pipe(z.number().int().min(min, `${what} must be at least ${min}`).max(max, `${what} must be at most ${max}`));

const enumOf = <T extends readonly [string, ...string[]]>(values: T, what: string) =>
  z.enum(values, { error: () => `${what} must be one of: ${values.join(", ")}` });

export const inventoryParamsSchema = z.object({
  q: opt(
    z
      .string()
      .trim()
      .max(255, "Search is at most 255 characters")
      // Addresses (hex, base58, bech32, base64url, TON "EQ…") and wallet ids (UUIDs, slugs) only.
      .regex(/^[A-Za-z0-9:_\-.+/=]+$/, "Search accepts an address prefix or a wallet id (letters, digits and : _ - . + / =)"),
  ),
  chain: opt(z.string().regex(/^[A-Z0-9_]{1,32}$/, "Chain must be a chain name such as EVM or SVM")),
  scheme: opt(enumOf(THRESHOLD_SCHEMES, "Threshold scheme")),
  env: opt(z.string().regex(/^[a-z0-9_-]{1,32}$/, "Environment must be a lower-case name such as prod")),
  key: opt(z.string().regex(/^[A-Za-z0-9_.-]{1,255}$/, "Transit key must be a key name (letters, digits, _ . -)")),
  version: opt(intIn(1, 1_000_000_000, "Key version")),
  behind: opt(z.enum(["1", "true"], { error: () => "behind must be 1" }).transform(() => true)),
  layout: opt(enumOf(LAYOUTS, "Layout")),
  backup: opt(enumOf(INVENTORY_BACKUP_STATUSES, "Backup status")),
  access: opt(enumOf(ACCESS_FILTERS, "Last access")),
  days: opt(intIn(1, 36_500, "Days")),
  flag: opt(enumOf(INTEGRITY_FLAGS, "Integrity flag")),
  sort: opt(enumOf(INVENTORY_SORTS, "Sort")),
  dir: opt(enumOf(SORT_DIRECTIONS, "Direction")),
  // Clamped, not refused: a huge or silly page size gets the nearest allowed one.
  limit: opt(z.string().max(12)),
  cursor: opt(z.string().max(512, "The page link is invalid. Start again from the first page.")),
});

export type RawParams = Record<string, string | string[] | undefined>;

export function clampPageSize(raw: string | number | undefined): number {
  const n = typeof raw === "number" ? raw : raw === undefined ? NaN : Number.parseInt(raw, 10);
  if (!Number.isFinite(n)) return DEFAULT_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(1, Math.trunc(n)));
}

/** Significant characters of a search term (the 0x of an EVM address does not narrow anything). */
function significantLength(q: string): number {
  return /^0x/i.test(q) ? q.length - 2 : q.length;
}

/**
 * URL parameters → a validated query. Throws ValidationError with every problem in one message, so the page
 * can show it next to the filters.
 */
export function parseInventoryParams(raw: RawParams | URLSearchParams): InventoryQuery {
  const flat: Record<string, string | undefined> = {};
  const entries: [string, string | string[] | undefined][] =
    raw instanceof URLSearchParams ? [...raw.keys()].map((k) => [k, raw.getAll(k)]) : Object.entries(raw);
  for (const [k, v] of entries) {
    if (!(k in inventoryParamsSchema.shape)) continue; // unrelated parameters (e.g. tracking) are ignored
    // A repeated parameter is ambiguous: the first one wins, as in URLSearchParams.get.
    flat[k] = Array.isArray(v) ? v[0] : v;
  }
  const parsed = inventoryParamsSchema.safeParse(flat);
  if (!parsed.success) {
    throw new ValidationError(parsed.error.issues.map((i) => i.message).join(". ") + ".");
  }
  const p = parsed.data;
  if (p.q !== undefined && significantLength(p.q) < MIN_SEARCH_CHARS) {
    throw new ValidationError(`Type at least ${MIN_SEARCH_CHARS} characters of the address (after 0x) or a wallet id.`);
  }
  if (p.days !== undefined && p.access !== "older") {
    throw new ValidationError("days goes with access=older.");
  }
  const filters: InventoryFilters = {
    q: p.q,
    chain: p.chain,
    scheme: p.scheme,
    env: p.env,
    key: p.key,
    version: p.version,
    behind: p.behind,
    layout: p.layout,
    backup: p.backup,
    access: p.access,
    days: p.access === "older" ? (p.days ?? DEFAULT_IDLE_DAYS) : undefined,
    flag: p.flag,
  };
  for (const k of Object.keys(filters) as (keyof InventoryFilters)[]) if (filters[k] === undefined) delete filters[k];
  return {
    filters,
    // "Accessed, but not in the last N days" is a range on last access: only the last-access order is served
    // by an index at 1M rows (another order would scan past every recently used wallet first), so that filter
    // sorts by last access.
    sort: filters.access === "older" ? "accessed" : (p.sort ?? "created"),
    dir: p.dir ?? "desc",
    limit: clampPageSize(p.limit),
    cursor: p.cursor,
  };
}

/** The query as URL parameters (for links: next page, CSV, filter chips). Defaults are left out. */
export function inventoryQueryToParams(q: Omit<InventoryQuery, "limit"> & { limit?: number }): URLSearchParams {
  const out = new URLSearchParams();
  const f = q.filters;
  const put = (k: string, v: string | number | boolean | undefined) => {
    if (v === undefined || v === false) return;
    out.set(k, v === true ? "1" : String(v));
  };
  put("q", f.q);
  put("chain", f.chain);
  put("scheme", f.scheme);
  put("env", f.env);
  put("key", f.key);
  put("version", f.version);
  put("behind", f.behind);
  put("layout", f.layout);
  put("backup", f.backup);
  put("access", f.access);
  if (f.access === "older") put("days", f.days);
  put("flag", f.flag);
  if (q.sort !== "created") put("sort", q.sort);
  if (q.dir !== "desc") put("dir", q.dir);
  if (q.limit !== undefined && q.limit !== DEFAULT_PAGE_SIZE) put("limit", q.limit);
  put("cursor", q.cursor);
  return out;
}

/** Canonical text of the filters and order a cursor belongs to. */
export function viewFingerprintText(q: Pick<InventoryQuery, "filters" | "sort" | "dir">): string {
  return inventoryQueryToParams({ filters: q.filters, sort: q.sort, dir: q.dir }).toString();
}

/** A wallet id from a URL segment (detail page): bounded and of a narrow alphabet, else a clear message. */
export function parseWalletId(raw: string): string {
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    throw new ValidationError("That is not a valid wallet id.");
  }
  if (!/^[A-Za-z0-9:_\-.]{1,255}$/.test(id)) throw new ValidationError("That is not a valid wallet id.");
  return id;
}
