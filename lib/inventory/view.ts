import "server-only";
import { asc } from "drizzle-orm";
import type { DbOrTx } from "@/lib/db/client";
import { shareCensus } from "@/lib/db/schema/census";
import { DomainError } from "@/lib/errors";
import { KNOWN_CHAINS, inventoryQueryToParams, parseInventoryParams, type InventoryQuery, type RawParams } from "./params";
import { listInventory, type InventoryContext } from "./queries";
import { environmentOptions } from "./service";
import type { InventoryPageDto } from "./types";

/**
 * Everything the Wallets page renders, from its URL parameters. Expected problems (bad parameters, a stale
 * cursor, Vault down for "behind latest") come back as `error` with a message for the user; the filters still
 * render so the user can fix them. Anything else throws (logged, generic error page).
 */
export interface WalletsView {
  query: InventoryQuery | null;
  page: InventoryPageDto | null;
  error: string | null;
  options: { chains: string[]; environments: string[]; keys: string[] };
  /** Query strings (without "?") for the next page, the first page and the CSV export. */
  nextQs: string | null;
  firstQs: string | null;
  exportQs: string;
  vaultUnavailable: boolean;
}

export async function loadWalletsView(db: DbOrTx, raw: RawParams, ctx: InventoryContext): Promise<WalletsView> {
  let query: InventoryQuery | null = null;
  let page: InventoryPageDto | null = null;
  let error: string | null = null;
  try {
    query = parseInventoryParams(raw);
    page = await listInventory(db, query, ctx);
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    error = err.message;
  }
  // Key names for the filter: Vault's keys and the census (small, maintained table) — never a scan of 1M rows.
  const censusKeys = await db.selectDistinct({ k: shareCensus.encryptionKeyId }).from(shareCensus).orderBy(asc(shareCensus.encryptionKeyId)).limit(500);
  const keys = [...new Set([...censusKeys.map((r) => r.k), ...(ctx.latestVersions?.keys() ?? []), ...(query?.filters.key ? [query.filters.key] : [])])].sort();
  const chains = [...new Set<string>([...KNOWN_CHAINS, ...(query?.filters.chain ? [query.filters.chain] : [])])];
  const base = query ? { filters: query.filters, sort: query.sort, dir: query.dir, limit: query.limit } : null;
  return {
    query,
    page,
    error,
    options: { chains, environments: environmentOptions(), keys },
    nextQs: base && page?.nextCursor ? inventoryQueryToParams({ ...base, cursor: page.nextCursor }).toString() : null,
    firstQs: base && query?.cursor ? inventoryQueryToParams(base).toString() : null,
    exportQs: base ? inventoryQueryToParams({ filters: base.filters, sort: base.sort, dir: base.dir }).toString() : "",
    vaultUnavailable: ctx.latestVersions === null,
  };
}
