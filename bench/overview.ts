/**
 * Overview and key-detail database time at N share records on PostgreSQL, and what maintaining the counters
 * costs writers (`npx tsx bench/overview.ts [--records 1000000] [--runs 200]`).
 *
 * Creates a throwaway database ks_bench_<random> (DATABASE_URL is the admin URL; default the local
 * postgres://postgres@127.0.0.1:5432/postgres), migrates it, seeds with set-based SQL (generate_series in
 * chunks of 100,000: WalletProperties first, then share records, both through the real triggers), then:
 *
 * - the counter triggers' own time (EXPLAIN ANALYZE per-trigger timing, rolled back) for a 100,000-row
 *   INSERT, against a row-level census trigger doing the same census upsert per row (risk counters left out,
 *   so the row-level figure is a lower bound for a row-level design);
 * - single-row writes as a backend does them (INSERT of one share, the access-bookkeeping UPDATE): the
 *   counter trigger's time and the whole statement's;
 * - read cases, warm, `--runs` each: the Overview's DB reads (census + risk counters + trend), key detail
 *   (census of one key), the full getOverviewFigures against the dev Transit server (Vault answers cached
 *   for 5 s as in the app), and for contrast the exact GROUP BY count over the share table that the old
 *   Overview ran on every load.
 *
 * Last line: `RESULT {json}` with p50/p95 in ms per case. Drops the database at the end.
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { allowServerOnlyImports } from "./lib/server-only";

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "1000000" },
    runs: { type: "string", default: "200" },
    keep: { type: "boolean", default: false },
  },
});
const RECORDS = Math.max(1000, Number(values.records));
const RUNS = Math.max(10, Number(values.runs));
const CHUNK = 100_000;
const ADMIN_URL = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";
// The bench opens its own connections; the config module in embedded mode refuses a DATABASE_URL.
delete process.env.DATABASE_URL;

allowServerOnlyImports();
const { sql } = await import("drizzle-orm");
const { createDb, migrate } = await import("../lib/db/index.js");
const { getRiskCounters, listCensus, listCensusByKey } = await import("../lib/keys/census.js");
const { getOverviewFigures, listTrend } = await import("../lib/overview/queries.js");
const { startTransitServer } = await import("../lib/devstack/transit/server.js");
const { createVaultClient } = await import("../lib/vault/index.js");

const KEYS = [
  ["bench-prod", 4, 40],
  ["bench-staging", 3, 15],
  ["bench-dev", 2, 10],
  ["bench-shared", 3, 15],
  ["bench-derived", 2, 20],
] as const;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!.toFixed(3));
}

async function timeRuns(name: string, runs: number, fn: () => Promise<unknown>) {
  for (let i = 0; i < Math.min(20, runs); i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  const r = { p50: pct(ms, 50), p95: pct(ms, 95) };
  console.log(`${name.padEnd(34)} p50 ${r.p50.toFixed(2).padStart(8)} ms   p95 ${r.p95.toFixed(2).padStart(8)} ms`);
  return r;
}

const dbName = `ks_bench_${randomBytes(5).toString("hex")}`;
const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
await admin.unsafe(`CREATE DATABASE ${dbName}`);
const url = new URL(ADMIN_URL);
url.pathname = `/${dbName}`;
const handle = await createDb({ kind: "postgres", url: url.toString(), max: 4 });
const raw = postgres(url.toString(), { max: 1, onnotice: () => {} });
const db = handle.db;
const result: Record<string, unknown> = { records: RECORDS };

// Weighted key pick by g: cumulative weights out of 100.
const keyCase = (() => {
  let acc = 0;
  const arms = KEYS.map(([name, versions, w]) => {
    acc += w;
    return `when (g::bigint * 7919) % 100 < ${acc} then '${name}|' || (1 + (g * 31) % ${versions})`;
  });
  return `case ${arms.join(" ")} end`;
})();

/** Share rows for g in [from, to): address 0x<40 hex>, ~350-byte direct ciphertext or an envelope. */
function shareInsertSql(from: number, to: number, where = "true"): string {
  return `
    insert into server_wallet_key_shares (id, wallet_id, account_address, encrypted_key_shares, encryption_key_id, environment)
    select gen_random_uuid(), 'w' || g, '0x' || substr(md5(g::text), 1, 32) || lpad(to_hex(g), 8, '0'),
           convert_to(case when g % 3 = 0
                        then '{"v":1,"wrapped_key":"vault:v' || split_part(k, '|', 2) || ':' || repeat('QUJD', 20) || '","iv":"AAAAAAAAAAAAAAAA","ciphertext":"' || repeat('WFla', 64) || '","tag":"QUJDRA=="}'
                        else 'vault:v' || split_part(k, '|', 2) || ':' || repeat('QUJDREVG', 44) end, 'UTF8'),
           split_part(k, '|', 1),
           case when split_part(k, '|', 1) = 'bench-shared' then (case when g % 2 = 0 then 'prod' else 'staging' end) end
    from (select g, ${keyCase} as k from generate_series(${from}, ${to - 1}) as g) as s
    where ${where}`;
}

function propsInsertSql(from: number, to: number): string {
  return `
    insert into wallet_properties (wallet_id, account_address, chain_name, threshold_signature_scheme, has_backup_info,
                                   backed_up_anywhere, backup_locations, source)
    select 'w' || g, '0x' || substr(md5(g::text), 1, 32) || lpad(to_hex(g), 8, '0'), 'EVM',
           case when g % 5 = 0 then 'TWO_OF_THREE' else 'TWO_OF_TWO' end,
           g % 12 <> 0, g % 12 <> 0 and g % 9 <> 0,
           case when g % 12 <> 0 and g % 9 <> 0 then '{dynamic}'::text[] else '{}'::text[] end, 'seed'
    from generate_series(${from}, ${to - 1}) as g
    where g % 50 <> 0`;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

let transit: Awaited<ReturnType<typeof startTransitServer>> | undefined;
try {
  await migrate(db);
  console.log(`database ${dbName}: migrated; seeding ${RECORDS.toLocaleString("en-US")} records…`);

  // 1. WalletProperties (2 % of wallets have none: their shares count as "without WalletProperties").
  const tProps = await timed(async () => {
    for (let from = 1; from <= RECORDS; from += CHUNK) await raw.unsafe(propsInsertSql(from, Math.min(RECORDS + 1, from + CHUNK)));
  });
  // 2. Shares, leaving 1 % of wallets without a share (some of which cannot sign).
  const chunkMs: number[] = [];
  for (let from = 1; from <= RECORDS; from += CHUNK) {
    const to = Math.min(RECORDS + 1, from + CHUNK);
    chunkMs.push(await timed(() => raw.unsafe(shareInsertSql(from, to, "g % 100 <> 7"))));
  }
  console.log(`seeded: WalletProperties ${(tProps / 1000).toFixed(1)} s, shares ${(chunkMs.reduce((a, b) => a + b, 0) / 1000).toFixed(1)} s`);
  await raw.unsafe("vacuum analyze");

  // 3. Write cost of the counters, read from EXPLAIN ANALYZE's per-trigger times (other triggers on the share
  //    table, such as the inventory's, cost what they cost and are reported separately). Each statement runs
  //    in a transaction that is rolled back.
  type Plan = [{ Triggers?: { "Trigger Name": string; Time: number; Calls: number }[]; "Execution Time": number }];
  async function triggerTimes(statement: string): Promise<{ total: number; triggers: Record<string, number> }> {
    return raw.begin(async (tx) => {
      const [row] = await tx.unsafe(`explain (analyze, format json) ${statement}`);
      const plan = (row as Record<string, unknown>)["QUERY PLAN"] as Plan;
      const triggers = Object.fromEntries((plan[0].Triggers ?? []).map((t) => [t["Trigger Name"], Number(t.Time.toFixed(2))]));
      throw Object.assign(new Error("rollback"), { result: { total: Number(plan[0]["Execution Time"].toFixed(1)), triggers } });
    }).catch((e: { result?: { total: number; triggers: Record<string, number> } }) => {
      if (!e.result) throw e;
      return e.result;
    });
  }
  const bulkFrom = RECORDS + 1;
  const bulkStatement = await triggerTimes(shareInsertSql(bulkFrom, bulkFrom + CHUNK));
  await raw.unsafe(`
    create function bench_row_census() returns trigger language plpgsql as $$
    begin
      insert into share_census as c (encryption_key_id, key_version, environment, layout, slot, records)
      values (new.encryption_key_id, coalesce(new.key_version, 0), coalesce(new.environment, ''), coalesce(new.layout, ''), (pg_backend_pid() % 16)::smallint, 1)
      on conflict (encryption_key_id, key_version, environment, layout, slot) do update set records = c.records + 1;
      return null;
    end $$;
    create trigger bench_row_census after insert on server_wallet_key_shares for each row execute function bench_row_census();`);
  const bulkRow = await triggerTimes(shareInsertSql(bulkFrom, bulkFrom + CHUNK));
  const singleRow = await triggerTimes(shareInsertSql(bulkFrom, bulkFrom + 1));
  await raw.unsafe("drop trigger bench_row_census on server_wallet_key_shares; drop function bench_row_census()");
  result.bulkInsert100k = {
    totalMs: bulkStatement.total,
    triggersMs: bulkStatement.triggers,
    rowLevelCensusOnlyMs: bulkRow.triggers.bench_row_census,
  };
  console.log("bulk insert of 100,000 shares (ms):", result.bulkInsert100k);

  // 4. Single-row writes as a backend does them: our triggers' time per statement (median of RUNS).
  const ours = ["server_wallet_key_shares_counters_ins", "server_wallet_key_shares_counters_upd"];
  const singleInsert: number[] = [];
  const singleUpdate: number[] = [];
  const totals = { insert: [] as number[], update: [] as number[] };
  for (let i = 0; i < Math.min(RUNS, 100); i++) {
    const g = 1 + Math.floor(Math.random() * RECORDS);
    const ins = await triggerTimes(shareInsertSql(RECORDS + 10 * CHUNK + i, RECORDS + 10 * CHUNK + i + 1));
    singleInsert.push(ins.triggers[ours[0]!] ?? 0);
    totals.insert.push(ins.total);
    const upd = await triggerTimes(
      `update server_wallet_key_shares set last_accessed_at = now(), access_count = access_count + 1 where wallet_id = 'w${g}'`,
    );
    singleUpdate.push(upd.triggers[ours[1]!] ?? 0);
    totals.update.push(upd.total);
  }
  result.singleRowWrites = {
    insertCounterTriggerMs: { p50: pct(singleInsert, 50), p95: pct(singleInsert, 95) },
    insertStatementMs: { p50: pct(totals.insert, 50), p95: pct(totals.insert, 95) },
    bookkeepingCounterTriggerMs: { p50: pct(singleUpdate, 50), p95: pct(singleUpdate, 95) },
    bookkeepingStatementMs: { p50: pct(totals.update, 50), p95: pct(totals.update, 95) },
    rowLevelCensusSingleInsertMs: singleRow.triggers.bench_row_census,
  };
  console.log("single-row writes (ms):", result.singleRowWrites);

  // 5. Reads.
  transit = await startTransitServer({ port: 0, quiet: true });
  const vault = createVaultClient({ addr: transit.url, token: transit.token });
  for (const [name, versions] of KEYS) {
    await vault.createKey(name);
    for (let v = 1; v < versions; v++) await vault.rotateKey(name);
  }
  const now = new Date();
  const policy = { maxAgeDays: 90, environmentMapping: { "bench-prod": "prod", "bench-staging": "staging", "bench-dev": "dev", "bench-derived": "prod" } };
  const reads: Record<string, unknown> = {};
  reads.overviewDb = await timeRuns("overview DB reads", RUNS, () => Promise.all([listCensus(db), getRiskCounters(db), listTrend(db, now)]));
  reads.keyDetailDb = await timeRuns("key detail DB read", RUNS, () => listCensusByKey(db, "bench-prod"));
  reads.overviewFull = await timeRuns("getOverviewFigures (DB + Vault)", RUNS, () => getOverviewFigures(db, vault, { policy }));
  reads.exactCountGroupBy = await timeRuns(
    "exact count(*) group by (old way)",
    Math.min(RUNS, 10),
    () => db.execute(sql`select encryption_key_id, key_version, count(*) from server_wallet_key_shares group by 1, 2`),
  );
  result.reads = reads;
  const o = await getOverviewFigures(db, vault, { policy });
  result.check = { shareRecords: o.shareRecords, wallets: o.wallets, behind: o.recordsBehindLatest, risk: o.risk };
  console.log("figures:", result.check);
  vault.close();
} finally {
  await transit?.close();
  await raw.end({ timeout: 5 });
  await handle.close();
  if (!values.keep) await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end({ timeout: 5 });
}
console.log(`RESULT ${JSON.stringify(result)}`);
