import "server-only";
import { sql } from "drizzle-orm";
import type { Db } from "@/lib/db";
import type { VaultClient } from "@/lib/vault";
import { logger } from "@/lib/log";

import type { KeyVersionCount, OverviewFigures } from "./types";

export type { KeyVersionCount, OverviewFigures };

/** Records per (Transit key, key version): the census every key figure starts from. */
export async function listRecordCountsByKeyVersion(db: Db): Promise<KeyVersionCount[]> {
  const rows = await db.execute<{ key_name: string; key_version: number | null; records: string | number }>(sql`
    select encryption_key_id as key_name, key_version, count(*) as records
    from server_wallet_key_shares
    group by encryption_key_id, key_version
  `);
  return rows.rows.map((r) => ({ keyName: r.key_name, keyVersion: r.key_version, records: Number(r.records) }));
}

export async function getOverviewFigures(db: Db, vault: VaultClient): Promise<OverviewFigures> {
  const [walletRows, census] = await Promise.all([
    db.execute<{ n: string | number }>(sql`select count(*) as n from wallet_properties`),
    listRecordCountsByKeyVersion(db),
  ]);
  const shareRecords = census.reduce((sum, c) => sum + c.records, 0);

  let transitKeys: number | null = null;
  let recordsBehindLatest: number | null = null;
  let unknownKeys: string[] = [];
  let vaultAvailable = true;
  try {
    const names = await vault.listKeys();
    const infos = await Promise.all(names.map((name) => vault.readKey(name)));
    const latest = new Map(infos.map((k) => [k.name, k.latestVersion]));
    transitKeys = names.length;
    recordsBehindLatest = census
      .filter((c) => latest.has(c.keyName) && (c.keyVersion ?? 0) < (latest.get(c.keyName) ?? 0))
      .reduce((sum, c) => sum + c.records, 0);
    unknownKeys = [...new Set(census.filter((c) => !latest.has(c.keyName)).map((c) => c.keyName))].sort();
  } catch (err) {
    vaultAvailable = false;
    logger.warn({ err: err instanceof Error ? err.message : String(err) }, "overview: Vault unavailable");
  }

  return {
    wallets: Number(walletRows.rows[0]?.n ?? 0),
    shareRecords,
    transitKeys,
    recordsBehindLatest,
    unknownKeys,
    vaultAvailable,
    generatedAt: new Date().toISOString(),
  };
}
