/**
 * Wallet inventory at scale (issue 4, "Speed"): `npm run bench:inventory -- --wallets 1000000`.
 *
 * Creates a throwaway PostgreSQL database ks_bench_<random> (DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/postgres, used as an admin connection), migrates it, seeds wallets with
 * set-based SQL through the real triggers (fake `vault:vN:` ciphertexts, no Vault), ANALYZEs, then measures
 * over warm repeated runs, per case:
 *   db     — the query layer call the page makes (listInventory / getWalletDetail: SQL + DTOs);
 *   render — the page's server-side data (loadWalletsView, as the page calls it) + React renderToString of the
 *            table (or detail) component inside MantineProvider;
 *   floor  — the same SQL text and parameters run bare on the driver (prepared, no DTO mapping), timed
 *            alternately with db;
 *   offset — for the deep page: the same page reached with OFFSET instead of a cursor.
 * Then the Overview (getOverviewFigures) and the detail of the key with most versions (getKeyDetail), against the
 * in-process dev Transit server holding the seed's keys and versions: db = that call, render = the call +
 * renderToString of the client component (OverviewFigures / KeyDetail) in MantineProvider + QueryClientProvider.
 * Prints a table and ends with exactly one line `RESULT {json}`. The database is dropped at the end.
 *
 * Flags: --wallets N (default 100000), --runs N (default 200: a p95 over 40 samples is set by two of them), --keep (do not drop the database),
 * --db ks_bench_… (reuse a kept database seeded with the same --wallets: skips create, seed and drop).
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import postgres from "postgres";
import { allowServerOnlyImports } from "./lib/server-only";

// Render as the app serves pages: React's production build (chosen at first import from NODE_ENV; the
// development build is ~3× slower). KEYSHARE_EMBEDDED keeps the config module in its embedded mode: the bench
// uses no dev component, it only reads the config for the environment list and the cursor key.
(process.env as Record<string, string>).NODE_ENV = "production";
process.env.KEYSHARE_EMBEDDED ??= "1";
allowServerOnlyImports();

const args = process.argv.slice(2);
function flag(name: string, fallback: number): number {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return fallback;
  const a = args[i]!;
  const v = a.includes("=") ? a.split("=")[1] : args[i + 1];
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} needs a positive number`);
  return Math.trunc(n);
}
const WALLETS = flag("wallets", 100_000);
const RUNS = flag("runs", 200);
const KEEP = args.includes("--keep");
/** --db NAME: measure a database kept by an earlier run (--keep) with the same --wallets; no create/seed/drop. */
const REUSE = (() => {
  const i = args.indexOf("--db");
  const v = i >= 0 ? args[i + 1] : undefined;
  if (i >= 0 && !/^ks_bench_[0-9a-f]{10}$/.test(v ?? "")) throw new Error("--db needs a kept ks_bench_… database name");
  return v;
})();
const ADMIN_URL = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";
// The bench opens its own connections; the config module in embedded mode refuses a DATABASE_URL.
delete process.env.DATABASE_URL;
const DEPTH = Math.min(500_000, Math.floor(WALLETS / 2));
const CHUNK = 100_000;

const KEYS = [
  { name: "wallet-shares-prod", latest: 4, env: "prod", upTo: 0.4 },
  { name: "wallet-shares-staging", latest: 3, env: "staging", upTo: 0.55 },
  { name: "wallet-shares-dev", latest: 2, env: "dev", upTo: 0.65 },
  { name: "wallet-shares-shared", latest: 3, env: null, upTo: 0.8 },
  { name: "wallet-shares-derived", latest: 2, env: "prod", upTo: 1.0 },
] as const;

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
const r2 = (n: number) => Math.round(n * 100) / 100;
function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: r2(pct(s, 50)), p95: r2(pct(s, 95)) };
}

async function time(fn: () => Promise<unknown>, runs: number, warmup = 3): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/**
 * Two calls timed alternately (A B, B A, A B, …) so that both see the same machine state: on a shared 2-core
 * host, timing all of A and then all of B lets a burst of other work land on one of them only.
 */
async function timePair(a: () => Promise<unknown>, b: () => Promise<unknown>, runs: number, warmup = 3): Promise<[number[], number[]]> {
  for (let i = 0; i < warmup; i++) {
    await a();
    await b();
  }
  const outA: number[] = [];
  const outB: number[] = [];
  const one = async (fn: () => Promise<unknown>, out: number[]) => {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  };
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      await one(a, outA);
      await one(b, outB);
    } else {
      await one(b, outB);
      await one(a, outA);
    }
  }
  return [outA, outB];
}

/** One chunk of wallets [lo, hi]: WalletProperties and share records in one statement (both tables' triggers fire). */
function seedChunkSql(lo: number, hi: number): string {
  const keyCase = KEYS.map((k) => `WHEN rk < ${k.upTo} THEN '${k.name}'`).join(" ");
  const latestCase = KEYS.map((k) => `WHEN '${k.name}' THEN ${k.latest}`).join(" ");
  return `
WITH r AS (
  SELECT g, md5(g::text) AS m, md5('x' || g) AS m2,
    (hashtext('c' || g) & 65535) / 65536.0 AS rc, (hashtext('k' || g) & 65535) / 65536.0 AS rk,
    (hashtext('v' || g) & 65535) / 65536.0 AS rv, (hashtext('b' || g) & 65535) / 65536.0 AS rb,
    (hashtext('l' || g) & 65535) / 65536.0 AS rl, (hashtext('a' || g) & 65535) / 65536.0 AS ra,
    (hashtext('t' || g) & 65535) / 65536.0 AS rt, (hashtext('o' || g) & 65535) / 65536.0 AS ro,
    (hashtext('d' || g) & 1048575) / 1048576.0 AS rd, (hashtext('w' || g) & 65535) / 65536.0 AS rw
  FROM generate_series(${lo}, ${hi}) AS g
), d AS (
  SELECT *,
    CASE WHEN rc < 0.40 THEN 'EVM' WHEN rc < 0.65 THEN 'SVM' WHEN rc < 0.77 THEN 'BTC' WHEN rc < 0.89 THEN 'SUI' ELSE 'TON' END AS chain,
    CASE ${keyCase} END AS key_name,
    CASE WHEN rb < 0.70 THEN 'backed_up' WHEN rb < 0.90 THEN 'password_encrypted' WHEN rb < 0.98 THEN 'none' ELSE 'missing_info' END AS backup,
    (now() AT TIME ZONE 'UTC') - rd * interval '730 days' AS created
  FROM r
), e AS (
  SELECT *,
    CASE chain
      WHEN 'EVM' THEN '0x' || substr(m, 1, 14) || upper(substr(m, 15, 14)) || substr(m2, 1, 12)
      WHEN 'SVM' THEN 'So' || m || substr(m2, 1, 10)
      WHEN 'BTC' THEN 'bc1q' || m || substr(m2, 1, 6)
      WHEN 'SUI' THEN '0x' || m || m2
      ELSE 'EQ' || m || substr(m2, 1, 14)
    END AS addr,
    greatest(1, (CASE key_name ${latestCase} END) - CASE WHEN rv < 0.6 THEN 0 WHEN rv < 0.85 THEN 1 WHEN rv < 0.95 THEN 2 ELSE 3 END) AS ver
  FROM d
), wp AS (
  INSERT INTO wallet_properties (wallet_id, account_address, chain_name, threshold_signature_scheme, derivation_path, backup_info,
                                 has_backup_info, password_encrypted, backup_locations, backed_up_anywhere, source, created_at, updated_at)
  SELECT md5('w' || g)::uuid::text, addr, chain, CASE WHEN rt < 0.2 THEN 'TWO_OF_TWO' ELSE 'TWO_OF_THREE' END, 'm/44''/60''/0''/0/0',
         CASE WHEN backup = 'missing_info' THEN NULL
              ELSE jsonb_build_object('passwordEncrypted', backup = 'password_encrypted', 'backups', jsonb_build_object('dynamic', CASE WHEN backup = 'none' THEN '[]'::jsonb ELSE '["b"]'::jsonb END)) END,
         backup <> 'missing_info', CASE WHEN backup = 'missing_info' THEN NULL ELSE backup = 'password_encrypted' END,
         CASE WHEN backup IN ('backed_up', 'password_encrypted') THEN '{dynamic}'::text[] ELSE '{}'::text[] END,
         backup IN ('backed_up', 'password_encrypted'), 'seed', created AT TIME ZONE 'UTC', created AT TIME ZONE 'UTC'
  FROM e WHERE ro >= 0.005
  RETURNING 1
)
INSERT INTO server_wallet_key_shares (id, wallet_id, account_address, encrypted_key_shares, encryption_key_id, created_at,
                                      last_accessed_at, access_count, environment, last_rewrapped_at)
SELECT md5('s' || g)::uuid, md5('w' || g)::uuid::text, addr,
       convert_to(CASE WHEN rl < 0.3
                    THEN '{"v":1,"wrapped_key":"vault:v' || ver || ':' || m || m2 || '","iv":"AAAAAAAAAAAAAAAA","ciphertext":"' || m2 || '","tag":"' || m || '"}'
                    ELSE 'vault:v' || ver || ':' || m || m2 || m END, 'UTF8'),
       key_name, created,
       CASE WHEN ra < 0.10 THEN NULL ELSE created + ra * ((now() AT TIME ZONE 'UTC') - created) END,
       (hashtext('n' || g) & 1023),
       CASE WHEN key_name = 'wallet-shares-shared' THEN CASE WHEN rw < 0.5 THEN 'prod' ELSE 'staging' END END,
       CASE WHEN rw < 0.3 AND ver > 1 THEN created + rw * ((now() AT TIME ZONE 'UTC') - created) END
FROM e WHERE ro < 0.005 OR ro >= 0.01`;
}

async function main() {
  const [{ createElement }, { createDb }, { migrate }, params, queries, view, { WalletsTable }, { WalletDetail }, { MantineProvider }, { renderToString },
    { getOverviewFigures }, { getKeyDetail }, { startTransitServer }, { createVaultClient }, { OverviewFigures }, { KeyDetail }, { QueryClientProvider }, { makeQueryClient }] =
    await Promise.all([
      import("react"),
      import("@/lib/db/client"),
      import("@/lib/db/migrate"),
      import("@/lib/inventory/params"),
      import("@/lib/inventory/queries"),
      import("@/lib/inventory/view"),
      import("@/components/wallets/wallets-table"),
      import("@/components/wallets/wallet-detail"),
      import("@mantine/core"),
      import("react-dom/server"),
      import("@/lib/overview/queries"),
      import("@/lib/keys/queries"),
      import("@/lib/devstack/transit/server"),
      import("@/lib/vault"),
      import("@/components/overview/overview-figures"),
      import("@/components/keys/key-detail"),
      import("@tanstack/react-query"),
      import("@/components/query-client"),
    ]);

  const name = REUSE ?? `ks_bench_${randomBytes(5).toString("hex")}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  if (!REUSE) await admin.unsafe(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const handle = await createDb({ kind: "postgres", url: url.toString(), max: 4 });
  const raw = postgres(url.toString(), { max: 1, onnotice: () => {}, connection: { TimeZone: "UTC" } });
  const db = handle.db;
  /** The postgres.js client under the app's database handle: the floor runs on it, bare. */
  const driver = (db as unknown as { $client: postgres.Sql }).$client;
  let exitCode = 0;
  let transit: Awaited<ReturnType<typeof startTransitServer>> | undefined;
  try {
    console.log(`database ${name}; wallets ${WALLETS.toLocaleString()}; runs ${RUNS}; deep page at ${DEPTH.toLocaleString()}`);
    let seedSeconds = 0;
    if (!REUSE) {
      await migrate(db);

      // Seeding 1M rows through the inventory row-maintenance path would insert them one by one into 25
      // indexes (~0.7 ms a row with 128 MB shared_buffers: minutes). The source tables are seeded with their
      // own triggers (derived columns, census counters) but the inventory INSERT triggers off; the read table
      // is then filled in one pass by the same function the triggers use (keyshare_inventory_desired), with its
      // indexes dropped and rebuilt by sorting — the standard bulk-load path. Triggers are back on before any
      // measurement, and the write cost through them is measured below.
      const seedStart = performance.now();
      await raw.unsafe("ALTER TABLE server_wallet_key_shares DISABLE TRIGGER server_wallet_key_shares_inventory_ins");
      await raw.unsafe("ALTER TABLE wallet_properties DISABLE TRIGGER wallet_properties_inventory_ins");
      for (let lo = 1; lo <= WALLETS; lo += CHUNK) {
        const hi = Math.min(WALLETS, lo + CHUNK - 1);
        const t0 = performance.now();
        await raw.unsafe(seedChunkSql(lo, hi));
        process.stdout.write(`  seeded ${hi.toLocaleString()} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
      }
      const indexes = await raw.unsafe<{ indexname: string; indexdef: string }[]>(
        `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'inventory_wallets' AND indexname <> 'inventory_wallets_pkey'`,
      );
      for (const ix of indexes) await raw.unsafe(`DROP INDEX ${ix.indexname}`);
      {
        const t0 = performance.now();
        await raw.unsafe(`INSERT INTO inventory_wallets SELECT * FROM keyshare_inventory_desired(ARRAY(
          SELECT account_address FROM server_wallet_key_shares UNION SELECT account_address FROM wallet_properties)) ORDER BY created_us`);
        process.stdout.write(`  inventory filled (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
        const t1 = performance.now();
        await raw.unsafe("SET maintenance_work_mem = '256MB'");
        for (const ix of indexes) await raw.unsafe(ix.indexdef);
        process.stdout.write(`  ${indexes.length} indexes built (${((performance.now() - t1) / 1000).toFixed(1)} s)\n`);
      }
      await raw.unsafe("ALTER TABLE server_wallet_key_shares ENABLE TRIGGER server_wallet_key_shares_inventory_ins");
      await raw.unsafe("ALTER TABLE wallet_properties ENABLE TRIGGER wallet_properties_inventory_ins");
      seedSeconds = (performance.now() - seedStart) / 1000;
    }
    const t0 = performance.now();
    await raw.unsafe("VACUUM ANALYZE");
    const analyzeSeconds = (performance.now() - t0) / 1000;
    const [counts] = await raw.unsafe<{ inv: string; shares: string; props: string; size: string }[]>(
      `SELECT (SELECT count(*) FROM inventory_wallets) AS inv, (SELECT count(*) FROM server_wallet_key_shares) AS shares,
              (SELECT count(*) FROM wallet_properties) AS props, pg_size_pretty(pg_total_relation_size('inventory_wallets')) AS size`,
    );
    console.log(`seed ${seedSeconds.toFixed(1)} s, vacuum analyze ${analyzeSeconds.toFixed(1)} s; rows: inventory ${counts!.inv}, shares ${counts!.shares}, properties ${counts!.props}; inventory table+indexes ${counts!.size}`);

    const ctx = {
      environmentMapping: Object.fromEntries(KEYS.filter((k) => k.env).map((k) => [k.name, k.env!])) as Record<string, string>,
      latestVersions: new Map<string, number>(KEYS.map((k) => [k.name, k.latest])),
    };

    // A search prefix from the data, in upper case (EVM search is case-insensitive).
    const [evm] = await raw.unsafe<{ a: string; w: string }[]>(`SELECT account_address AS a, wallet_id AS w FROM wallet_properties WHERE chain_name = 'EVM' ORDER BY id LIMIT 1`);
    const searchPrefix = evm!.a.slice(0, 8).toUpperCase().replace(/^0X/, "0x");
    const [noShare] = await raw.unsafe<{ w: string }[]>(`SELECT wallet_id AS w FROM inventory_wallets WHERE no_share LIMIT 1`);

    // The deep page, reached by keyset: walk cursors in pages of 1,000 (as the export does) to row DEPTH.
    const base = params.parseInventoryParams({});
    let deepCursor: string | undefined;
    {
      const walkStart = performance.now();
      let seen = 0;
      let cursor: string | undefined;
      while (seen < DEPTH) {
        const page = await queries.listInventory(db, { ...base, limit: Math.min(1000, DEPTH - seen), cursor }, ctx, { maxLimit: 1000 });
        seen += page.rows.length;
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      // A 1,000-row page's cursor is valid for 50-row pages of the same view (the cursor binds filters and order, not size).
      deepCursor = cursor;
      console.log(`keyset walk to row ${seen.toLocaleString()}: ${((performance.now() - walkStart) / 1000).toFixed(1)} s`);
    }

    type Case = { name: string; params: Record<string, string>; cursor?: string };
    const cases: Case[] = [
      { name: "first_page", params: {} },
      { name: "deep_page", params: {}, cursor: deepCursor },
      { name: "sort_accessed", params: { sort: "accessed" } },
      { name: "sort_wrapped_oldest", params: { sort: "wrapped", dir: "asc" } },
      { name: "filter_chain", params: { chain: "BTC" } },
      { name: "filter_scheme", params: { scheme: "TWO_OF_TWO" } },
      { name: "filter_env", params: { env: "staging" } },
      { name: "filter_key", params: { key: "wallet-shares-dev" } },
      { name: "filter_key_version", params: { key: "wallet-shares-prod", version: "1" } },
      { name: "filter_behind", params: { behind: "1" } },
      { name: "filter_layout", params: { layout: "envelope" } },
      { name: "filter_backup", params: { backup: "missing_info" } },
      { name: "filter_access_never", params: { access: "never" } },
      { name: "filter_access_older", params: { access: "older", days: "365" } },
      { name: "filter_flag", params: { flag: "cannot_sign" } },
      { name: "filter_combo", params: { chain: "EVM", backup: "none", sort: "accessed" } },
      { name: "search_address", params: { q: searchPrefix } },
      { name: "search_wallet_id", params: { q: evm!.w } },
    ];

    const now = Date.now();
    const renderTable = (rows: Parameters<typeof WalletsTable>[0]["rows"]) =>
      renderToString(createElement(MantineProvider, null, createElement(WalletsTable, { rows, now })));

    const result: Record<string, unknown> = {};
    const lines: string[] = [];
    let allMet = true;
    for (const c of cases) {
      const q = { ...params.parseInventoryParams(c.params), cursor: c.cursor };
      const rawParams = { ...c.params, ...(c.cursor ? { cursor: c.cursor } : {}) };
      let rowsShown = 0;
      // db and floor: the exact text and parameters listInventory sends, run bare on the same postgres.js client
      // (same pool and connections, also prepared, rows as objects), timed alternately with the full call.
      const { text, params: bound } = queries.inventorySql(q, ctx);
      const [dbSamples, floorSamples] = await timePair(
        async () => {
          rowsShown = (await queries.listInventory(db, q, ctx)).rows.length;
        },
        () => driver.unsafe(text, bound as never[], { prepare: true }),
        RUNS,
      );
      const dbT = stats(dbSamples);
      const floorT = stats(floorSamples);
      const renderT = stats(
        await time(async () => {
          const v = await view.loadWalletsView(db, rawParams, ctx);
          if (!v.page) throw new Error(`${c.name}: ${v.error}`);
          renderTable(v.page.rows);
        }, RUNS),
      );
      const entry: Record<string, unknown> = { rows: rowsShown, db: dbT, render: renderT, floor: floorT, vsFloorP50: r2(dbT.p50 / floorT.p50), vsFloorP95: r2(dbT.p95 / floorT.p95) };
      // "≤ 2× the floor" (issue 4), on p50 and on p95, without slack: db and floor are timed alternately on the
      // same client, so machine noise lands on both alike.
      let met = dbT.p95 <= 10 && renderT.p95 <= 150 && dbT.p50 <= 2 * floorT.p50 && dbT.p95 <= 2 * floorT.p95;
      if (c.name === "deep_page") {
        const { text: first, params: obound } = queries.inventorySql({ ...q, cursor: undefined }, ctx);
        const otext = `${first} offset ${DEPTH}`;
        const offT = stats(await time(() => raw.unsafe(otext, obound as never[], { prepare: true }), Math.min(RUNS, 10), 1));
        entry.offset = offT;
        entry.speedupVsOffsetP50 = r2(offT.p50 / dbT.p50);
        met = met && offT.p50 / dbT.p50 >= 20;
      }
      entry.met = met;
      allMet &&= met;
      result[c.name] = entry;
      lines.push(
        `${c.name.padEnd(22)} rows ${String(rowsShown).padStart(3)}  db ${dbT.p50.toFixed(2).padStart(6)}/${dbT.p95.toFixed(2).padStart(6)} ms  render ${renderT.p50.toFixed(1).padStart(6)}/${renderT.p95.toFixed(1).padStart(6)} ms  floor ${floorT.p50.toFixed(2).padStart(6)}/${floorT.p95.toFixed(2).padStart(6)} ms` +
          (entry.offset ? `  offset ${(entry.offset as { p50: number }).p50.toFixed(1)} ms (${entry.speedupVsOffsetP50}×)` : "") +
          (met ? "" : "  ← target missed"),
      );
      console.log(lines.at(-1));
    }

    // Wallet detail (properties, records, flags, audit events).
    for (const [caseName, walletId] of [["detail", evm!.w], ["detail_no_share", noShare!.w]] as const) {
      const dbT = stats(await time(() => queries.getWalletDetail(db, walletId, ctx, { role: "auditor" }), RUNS));
      const renderT = stats(
        await time(async () => {
          const d = await queries.getWalletDetail(db, walletId, ctx, { role: "auditor" });
          renderToString(createElement(MantineProvider, null, createElement(WalletDetail, { d })));
        }, RUNS),
      );
      const met = dbT.p95 <= 10 && renderT.p95 <= 150;
      allMet &&= met;
      result[caseName] = { db: dbT, render: renderT, met };
      console.log(`${caseName.padEnd(22)}          db ${dbT.p50.toFixed(2).padStart(6)}/${dbT.p95.toFixed(2).padStart(6)} ms  render ${renderT.p50.toFixed(1).padStart(6)}/${renderT.p95.toFixed(1).padStart(6)} ms${met ? "" : "  ← target missed"}`);
    }

    // Overview figures and the detail of the key with most versions, against the in-process dev Transit server
    // holding the seed's keys at the seed's versions (Vault answers cached for 5 s, as in the app). Render: the
    // page's call + renderToString of its client component, with a fresh query client as per request.
    transit = await startTransitServer({ port: 0, quiet: true });
    const vault = createVaultClient({ addr: transit.url, token: transit.token });
    for (const k of KEYS) {
      await vault.createKey(k.name);
      for (let v = 1; v < k.latest; v++) await vault.rotateKey(k.name);
    }
    const policy = { maxAgeDays: 90, environmentMapping: ctx.environmentMapping };
    const topKey = KEYS.reduce((a, b) => (b.latest > a.latest ? b : a)).name;
    const inProviders = (el: ReturnType<typeof createElement>) =>
      renderToString(createElement(MantineProvider, null, createElement(QueryClientProvider, { client: makeQueryClient() }, el)));
    const pageCase = async <T,>(caseName: string, load: () => Promise<T>, render: (d: T) => unknown, dbMax: number, renderMax: number) => {
      const dbT = stats(await time(load, RUNS));
      const renderT = stats(await time(async () => render(await load()), RUNS));
      const met = dbT.p95 <= dbMax && renderT.p95 <= renderMax;
      allMet &&= met;
      result[caseName] = { db: dbT, render: renderT, met };
      console.log(`${caseName.padEnd(22)}          db ${dbT.p50.toFixed(2).padStart(6)}/${dbT.p95.toFixed(2).padStart(6)} ms  render ${renderT.p50.toFixed(1).padStart(6)}/${renderT.p95.toFixed(1).padStart(6)} ms${met ? "" : "  ← target missed"}`);
    };
    await pageCase("overview", () => getOverviewFigures(db, vault, { policy }), (initial) => inProviders(createElement(OverviewFigures, { initial })), 200, 200);
    await pageCase("key_detail", () => getKeyDetail(db, vault, topKey, { policy }), (initial) => inProviders(createElement(KeyDetail, { initial })), 10, 150);
    vault.close();

    // Write cost through the triggers: the backend's per-use bookkeeping (last_accessed_at, access_count), one
    // row per statement, on 300 random rows (cold: their inventory rows and index pages mostly not cached) and
    // then on the same rows again (warm). Measured with the shipped in-place path (migration 0011) and, for
    // comparison, with the share UPDATE trigger pointed at the full per-wallet recompute it replaced, and with no
    // inventory trigger at all (the floor); the trigger is recreated as shipped after (this database is the bench's own).
    const accessUpdate = (id: string) =>
      raw.unsafe(`UPDATE server_wallet_key_shares SET last_accessed_at = now() AT TIME ZONE 'UTC', access_count = access_count + 1 WHERE id = $1`, [id]);
    const pointUpdateTrigger = (fn: string) =>
      raw.unsafe(`DROP TRIGGER server_wallet_key_shares_inventory_upd ON server_wallet_key_shares;
        CREATE TRIGGER server_wallet_key_shares_inventory_upd AFTER UPDATE ON server_wallet_key_shares
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`);
    const writeCase = async (label: string) => {
      const ids = (await raw.unsafe<{ id: string }[]>(`SELECT id FROM server_wallet_key_shares ORDER BY random() LIMIT 300`)).map((r) => r.id);
      const each = async () => {
        const out: number[] = [];
        for (const id of ids) {
          const t0 = performance.now();
          await accessUpdate(id);
          out.push(performance.now() - t0);
        }
        return stats(out);
      };
      const cold = await each();
      const warm = await each();
      console.log(`${label.padEnd(24)} one-row access UPDATE: cold ${cold.p50.toFixed(2)}/${cold.p95.toFixed(2)} ms, warm ${warm.p50.toFixed(2)}/${warm.p95.toFixed(2)} ms`);
      return { cold, warm };
    };
    result.write_access_update = await writeCase("write_access_update");
    try {
      await pointUpdateTrigger("keyshare_inventory_on_write");
      result.write_access_update_full_recompute = await writeCase("  full recompute");
      await raw.unsafe("ALTER TABLE server_wallet_key_shares DISABLE TRIGGER server_wallet_key_shares_inventory_upd");
      result.write_access_update_no_inventory = await writeCase("  no inventory trigger");
    } finally {
      await pointUpdateTrigger("keyshare_inventory_shares_upd");
    }

    console.log(
      "RESULT " +
        JSON.stringify({ wallets: WALLETS, runs: RUNS, depth: DEPTH, seedSeconds: r2(seedSeconds), inventoryRows: Number(counts!.inv), unit: "ms (p50/p95)", floorRule: "db.p50 <= 2*floor.p50 and db.p95 <= 2*floor.p95 (alternating runs, same client)", cases: result, targetsMet: allMet }),
    );
  } catch (err) {
    console.error(err);
    exitCode = 1;
  } finally {
    await transit?.close();
    await raw.end({ timeout: 5 });
    await handle.close();
    if (!KEEP && !REUSE) await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    else console.log(`kept database ${name}`);
    await admin.end({ timeout: 5 });
  }
  process.exit(exitCode);
}

void main();
