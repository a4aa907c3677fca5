import "server-only";
import { sql } from "drizzle-orm";
import { rowsOf, type DbOrTx } from "@/lib/db";
import type { ShareLayout } from "@/lib/db/schema";

/**
 * Reads of the trigger-maintained counters (migration `census_counters`): a few hundred rows at most,
 * whatever the size of the share table. No query here touches the share or WalletProperties tables.
 */

export interface CensusRow {
  keyName: string;
  /** null: ciphertext whose version could not be parsed. */
  keyVersion: number | null;
  /** The row's own environment column; null when the backend left it empty (the key mapping applies). */
  environment: string | null;
  layout: ShareLayout | null;
  records: number;
}

export interface RiskCounters {
  wallets: number;
  missingBackupInfo: number;
  twoOfTwoNotBackedUp: number;
  cannotSign: number;
  sharesWithoutProperties: number;
}

type CensusDbRow = { encryption_key_id: string; key_version: number; environment: string; layout: string; records: string | number };

function toCensusRow(r: CensusDbRow): CensusRow {
  return {
    keyName: r.encryption_key_id,
    keyVersion: r.key_version === 0 ? null : Number(r.key_version),
    environment: r.environment === "" ? null : r.environment,
    layout: r.layout === "direct" || r.layout === "envelope" ? r.layout : null,
    records: Number(r.records),
  };
}

/** Records per (key, version, environment column, layout), summed over the stripes, zero groups left out. */
export async function listCensus(db: DbOrTx): Promise<CensusRow[]> {
  const rows = rowsOf<CensusDbRow>(
    await db.execute(sql`
      select encryption_key_id, key_version, environment, layout, sum(records) as records
      from share_census
      group by 1, 2, 3, 4
      having sum(records) <> 0
      order by 1, 2, 3, 4
    `),
  );
  return rows.map(toCensusRow);
}

/** The census of one key (the share_census primary key starts with the key name). */
export async function listCensusByKey(db: DbOrTx, keyName: string): Promise<CensusRow[]> {
  const rows = rowsOf<CensusDbRow>(
    await db.execute(sql`
      select encryption_key_id, key_version, environment, layout, sum(records) as records
      from share_census
      where encryption_key_id = ${keyName}
      group by 1, 2, 3, 4
      having sum(records) <> 0
      order by 1, 2, 3, 4
    `),
  );
  return rows.map(toCensusRow);
}

export async function getRiskCounters(db: DbOrTx): Promise<RiskCounters> {
  const [r] = rowsOf<Record<string, string | number | null>>(
    await db.execute(sql`
      select sum(wallets) as wallets, sum(missing_backup_info) as missing_backup_info,
             sum(two_of_two_not_backed_up) as two_of_two_not_backed_up, sum(cannot_sign) as cannot_sign,
             sum(shares_without_properties) as shares_without_properties
      from wallet_risk_counters
    `),
  );
  const n = (v: string | number | null | undefined) => Number(v ?? 0);
  return {
    wallets: n(r?.wallets),
    missingBackupInfo: n(r?.missing_backup_info),
    twoOfTwoNotBackedUp: n(r?.two_of_two_not_backed_up),
    cannotSign: n(r?.cannot_sign),
    sharesWithoutProperties: n(r?.shares_without_properties),
  };
}

/**
 * Recounts every counter from the source tables (blocks writers to both for the duration; readers not).
 * For repair after a trigger was disabled, or to compact the stripes. Same as `select keyshare_rebuild_counters()`.
 */
export async function rebuildCounters(db: DbOrTx): Promise<void> {
  await db.execute(sql`select keyshare_rebuild_counters()`);
}
