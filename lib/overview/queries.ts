import "server-only";
import { sql } from "drizzle-orm";
import { rowsOf, type Db, type DbOrTx } from "@/lib/db";
import type { VaultClient } from "@/lib/vault";
import { logger } from "@/lib/log";
import { getRiskCounters, listCensus } from "@/lib/keys/census";
import { keyPolicyFromConfig } from "@/lib/keys/queries";
import type { KeyPolicy } from "@/lib/keys/summaries";
import { buildKeySummaries } from "@/lib/keys/summaries";
import type { KeySummaryDto, RotationStatus } from "@/lib/keys/types";
import { readTransitKeys } from "@/lib/keys/vault-keys";
import type { DebtBar, OverviewFigures, OverviewKey, TrendPoint } from "./types";

export type { OverviewFigures };

/** Wallets whose cached WalletProperties carried plaintext key shares, from the maintained counters (64 rows). */
export async function countPlaintextSharesInCache(db: DbOrTx): Promise<number> {
  const [r] = rowsOf<{ n: string | number | null }>(
    await db.execute(sql`select sum(plaintext_shares_in_cache) as n from wallet_risk_counters`),
  );
  return Number(r?.n ?? 0);
}

const TREND_DAYS = 30;

/**
 * The Overview: every figure comes from the maintained counters (share_census, wallet_risk_counters — a few
 * hundred rows) and Vault's key descriptions; nothing counts the share or WalletProperties tables.
 * The trend comes from census_daily, which the first read of a UTC day writes (see `recordDailySnapshot`).
 */
export async function getOverviewFigures(
  db: Db,
  vault: VaultClient,
  options: { now?: Date; policy?: KeyPolicy } = {},
): Promise<OverviewFigures> {
  const policy = options.policy ?? keyPolicyFromConfig();
  const [census, risk, plaintextSharesInCache, vaultKeys] = await Promise.all([
    listCensus(db),
    getRiskCounters(db),
    countPlaintextSharesInCache(db),
    readTransitKeys(vault),
  ]);
  const now = options.now ?? new Date();
  const summaries = buildKeySummaries(census, vaultKeys.keys, policy, now);
  const vaultAvailable = vaultKeys.keys !== null;

  if (vaultAvailable) await recordDailySnapshot(db, summaries, now);
  const trend = await listTrend(db, now);

  const statusCounts: Record<RotationStatus, number> = { ok: 0, due: 0, overdue: 0, unknown: 0 };
  for (const k of summaries) if (k.inVault !== false) statusCounts[k.rotation.status]++;

  return {
    wallets: risk.wallets,
    shareRecords: census.reduce((s, c) => s + c.records, 0),
    transitKeys: vaultKeys.keys ? vaultKeys.keys.length : null,
    recordsBehindLatest: vaultAvailable ? summaries.reduce((s, k) => s + (k.recordsBehind ?? 0), 0) : null,
    unknownKeys: summaries.filter((k) => k.inVault === false && k.records > 0).map((k) => k.name),
    multiEnvironmentKeys: summaries.filter((k) => k.flags.includes("multi-environment")).map((k) => k.name),
    vaultAvailable,
    ...(vaultKeys.state.message ? { vaultMessage: vaultKeys.state.message } : {}),
    maxAgeDays: policy.maxAgeDays,
    statusCounts,
    keys: summaries.map(toOverviewKey),
    debt: toDebtBars(summaries),
    trend,
    risk: {
      plaintextSharesInCache,
      missingBackupInfo: risk.missingBackupInfo,
      cannotSign: risk.cannotSign,
      twoOfTwoNotBackedUp: risk.twoOfTwoNotBackedUp,
      sharesWithoutProperties: risk.sharesWithoutProperties,
    },
    generatedAt: now.toISOString(),
  };
}

function toOverviewKey(k: KeySummaryDto): OverviewKey {
  return {
    name: k.name,
    inVault: k.inVault,
    latestVersion: k.vault?.latestVersion ?? null,
    latestCreatedAt: k.vault?.latestCreatedAt ?? null,
    ageDays: k.rotation.ageDays,
    status: k.rotation.status,
    policyDueAt: k.rotation.policyDueAt,
    daysUntilDue: k.rotation.daysUntilDue,
    autoRotatePeriodSeconds: k.vault?.autoRotatePeriodSeconds ?? null,
    autoRotateDueAt: k.rotation.autoRotateDueAt,
    autoRotationMeetsPolicy: k.rotation.autoRotationMeetsPolicy,
    records: k.records,
    recordsBehind: k.recordsBehind,
    environments: k.environments.flatMap((e) => (e.environment && e.records > 0 ? [e.environment] : [])),
    flags: k.flags,
  };
}

/** Keys with records only; one bar per (key, version) holding records, plus unparsable ones. */
function toDebtBars(summaries: readonly KeySummaryDto[]): DebtBar[] {
  const bars: DebtBar[] = [];
  for (const k of summaries) {
    const latest = k.vault?.latestVersion;
    for (const v of k.versions) {
      if (v.records > 0) bars.push({ keyName: k.name, version: v.version, records: v.records, behind: latest !== undefined && v.version < latest });
    }
    if (k.recordsUnknownVersion > 0) bars.push({ keyName: k.name, version: null, records: k.recordsUnknownVersion, behind: false });
  }
  return bars;
}

// Per database handle: once today's snapshot is known to exist, no further writes until the next UTC day.
const snapshotDay = new WeakMap<Db, string>();

/**
 * Lazily written daily snapshot: the first Overview read of a UTC day (with Vault reachable, so "behind" is
 * known) inserts one row per key; ON CONFLICT DO NOTHING makes concurrent readers and instances write it once.
 * A day nobody opens the Overview has no point; the trend simply skips it.
 */
export async function recordDailySnapshot(db: Db, summaries: readonly KeySummaryDto[], now: Date): Promise<void> {
  const day = now.toISOString().slice(0, 10);
  if (snapshotDay.get(db) === day) return;
  const rows = summaries
    .filter((k) => k.records > 0 || k.inVault)
    .map((k) => ({ key: k.name, latest: k.vault?.latestVersion ?? null, records: k.records, behind: k.recordsBehind }));
  try {
    if (rows.length > 0) {
      await db.execute(sql`
        insert into census_daily (day, encryption_key_id, latest_version, records, records_behind)
        select ${day}::date, x.key, x.latest, x.records, x.behind
        from json_to_recordset(${JSON.stringify(rows)}::json) as x(key text, latest integer, records bigint, behind bigint)
        on conflict (day, encryption_key_id) do nothing
      `);
    }
    snapshotDay.set(db, day);
  } catch (err) {
    // The trend is a nicety: a failed write must not take the Overview down.
    logger.warn({ err }, "overview: daily snapshot not written");
  }
}

export async function listTrend(db: Db, now: Date): Promise<TrendPoint[]> {
  const since = new Date(now.getTime() - TREND_DAYS * 86_400_000).toISOString().slice(0, 10);
  const rows = rowsOf<{ day: string | Date; records: string | number; behind: string | number | null; known: string | number }>(
    await db.execute(sql`
      select day, sum(records) as records, sum(records_behind) as behind, count(records_behind) as known
      from census_daily
      where day >= ${since}::date
      group by day
      order by day
    `),
  );
  return rows.map((r) => ({
    day: typeof r.day === "string" ? r.day.slice(0, 10) : r.day.toISOString().slice(0, 10),
    records: Number(r.records),
    recordsBehind: Number(r.known) > 0 ? Number(r.behind ?? 0) : null,
  }));
}
