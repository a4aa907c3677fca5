/**
 * Re-wrap campaign throughput at scale: `npm run bench:campaign -- --records 1000000`.
 *
 * Creates a throwaway PostgreSQL database ks_bench_<random> (DATABASE_URL as admin URL, default
 * postgres://postgres@127.0.0.1:5432/postgres), migrates it, starts the dev Transit server as a child process
 * (its CPU is not on the workers' or this process's event loop), then:
 *
 * 1. seeds N share records of one aes256-gcm96 key (rotated to v3) on v1/v2, 30 % in the envelope layout,
 *    each with its WalletProperties: plaintexts encrypted through lib/vault's batch encrypt, rows written with
 *    set-based `jsonb_to_recordset` inserts through the share and properties triggers (derived columns,
 *    census and risk counters); the inventory read table is then filled in one pass by the triggers' own
 *    function with its indexes rebuilt (as bench/inventory.ts does), and every trigger is on before anything
 *    is measured. The original bytes are kept in an unlogged copy table to restore between runs.
 * 2. the per-record loop a team would hand-write (one `rewrapBatch` call of one item + one UPDATE per record)
 *    on a sample, and the two floors on the first records in claim order: Transit batch rewrap alone (batches
 *    of the campaign's size, sequential) and the runner's write-back UPDATE alone (same statement text, new
 *    ciphertexts precomputed by the Transit floor, one autocommit statement per batch, all triggers), with an
 *    `EXPLAIN (ANALYZE, BUFFERS)` of one such batch (rolled back) for the per-trigger split.
 * 3. campaigns of 100,000 records (scoped to v1) and of all N records, each with 1 and with 2 worker processes
 *    running `runCampaignWorker` (concurrency 1 each). Records are restored to their original bytes between
 *    runs. Records/s = records re-wrapped / (finished_at − created_at) of the campaign row. While a campaign
 *    runs this process polls `getCampaignStatus` every 100 ms and plays a backend: access-bookkeeping UPDATEs
 *    (`last_accessed_at`, `access_count`) on records inside a live lease, timed against the same before the
 *    campaign starts.
 *
 * Ends with exactly one line `RESULT {json}`. The database is dropped at the end unless --keep.
 *
 * Flags: --records N (default 100000), --batch N (default 500), --workers 1,2, --loop-records N (default 2000),
 * --floor-records N (default 100000), --keep, --db ks_bench_… (reuse a kept database: skips create and seed),
 * --cpu-prof (V8 CPU profiles of the workers and the Transit server into a directory it prints),
 * --skip-floors (campaigns only).
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { allowServerOnlyImports } from "./lib/server-only";

process.env.KEYSHARE_EMBEDDED ??= "1";
allowServerOnlyImports();

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SELF = fileURLToPath(import.meta.url);
const KEY = "bench-campaign";
/** Records of another key, outside every campaign here. */
const OTHER_KEY = "bench-other";
const TARGET = 3;
/** The smaller campaign size; at N above it, the first SMALL records are on v1 and the small campaign is scoped to v1. */
const SMALL = 100_000;
const SEED_CHUNK = 10_000;
const ENVELOPE_SHARE = 0.3;
const SHARE_BYTES = 256;
const POLL_MS = 100;
/** Mean gap between the backend's writes (Poisson arrivals, open loop: a write that waits does not delay the next). */
const BACKEND_GAP_MS = 40;
const BASELINE_SAMPLES = 300;

interface WorkerConfig {
  dbUrl: string;
  transitUrl: string;
  token: string;
  workerId: string;
}

interface PhaseSummary {
  batches: number;
  claim: number[];
  vault: number[];
  commit: number[];
}

// ---------------------------------------------------------------------------------------------------------
// Worker process: `runCampaignWorker` with concurrency 1, phase timings reported to the parent on stop.

async function workerMain(): Promise<void> {
  const cfg = JSON.parse(process.env.BENCH_CAMPAIGN_WORKER ?? "{}") as WorkerConfig;
  const [{ createDb }, { createVaultClient }, { runCampaignWorker }, { createLogger }] = await Promise.all([
    import("@/lib/db/client"),
    import("@/lib/vault"),
    import("@/lib/campaigns/runner"),
    import("@/lib/log"),
  ]);
  const handle = await createDb({ kind: "postgres", url: cfg.dbUrl, max: 2 });
  const vault = createVaultClient({ addr: cfg.transitUrl, token: cfg.token, timeoutMs: 60_000 });
  const ac = new AbortController();
  const phases: PhaseSummary = { batches: 0, claim: [], vault: [], commit: [] };
  let last: string | undefined;
  let at = 0;
  const onPhase = (phase: string): void => {
    // "writing" is a point inside the write-back (rows updated, counters and audit next): not a phase boundary.
    if (phase === "writing") return;
    const now = performance.now();
    if (phase === "vault" || (phase === "commit" && last === "claim")) phases.claim.push(now - at);
    else if (phase === "commit" && last === "vault") phases.vault.push(now - at);
    else if (phase === "committed" && last === "commit") {
      phases.commit.push(now - at);
      phases.batches += 1;
    }
    last = phase;
    at = now;
  };
  process.on("message", (m: { type?: string }) => {
    if (m?.type === "stop") ac.abort();
  });
  await handle.db.execute((await import("drizzle-orm")).sql`select 1`);
  process.send?.({ type: "ready" });
  await runCampaignWorker({
    db: handle.db,
    vault,
    workerId: cfg.workerId,
    environmentMapping: {},
    signal: ac.signal,
    concurrency: 1,
    idleMs: 100,
    onPhase,
    logger: createLogger({ level: "warn" }),
  });
  vault.close();
  await handle.close();
  await new Promise<void>((resolve) => process.send?.({ type: "phases", phases }, () => resolve()) ?? resolve());
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const r1 = (n: number) => Math.round(n * 10) / 10;
const r2 = (n: number) => Math.round(n * 100) / 100;
function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: r2(pct(s, 50)), p95: r2(pct(s, 95)), max: r2(s.at(-1) ?? NaN) };
}
const ms = (s: { n: number; p50: number; p95: number; max: number }) => `${s.p50}/${s.p95}/${s.max} (${s.n})`;
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const say = (s: string) => process.stdout.write(`${s}\n`);

/** utime + stime of a process in seconds (Linux /proc), or NaN once it is gone. */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

interface TransitChild {
  url: string;
  child: ChildProcess;
  close(): Promise<void>;
}

/**
 * The dev Transit server in its own process, as a real Vault is: its AES work and JSON handling are not on the
 * event loop of the process being measured.
 */
async function startTransitChild(dataDir: string, token: string, profDir: string | undefined): Promise<TransitChild> {
  const child = spawn(
    process.execPath,
    [
      ...(profDir ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`, "--cpu-prof-name=transit.cpuprofile"] : []),
      "--import",
      "tsx",
      "lib/devstack/transit/cli.ts",
      "--port",
      "0",
      "--token",
      token,
      "--data",
      dataDir,
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("Transit dev server did not start within 60 s")), 60_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString("utf8");
      const m = /Transit dev server listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once("exit", (code) => reject(new Error(`Transit dev server exited (${code})`)));
  });
  child.stdout!.resume();
  return {
    url,
    child,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

interface WorkerHandle {
  child: ChildProcess;
  stop(): Promise<PhaseSummary>;
}

async function startWorker(cfg: WorkerConfig, profDir: string | undefined): Promise<WorkerHandle> {
  const child = fork(SELF, ["--worker"], {
    cwd: ROOT,
    execArgv: [...(profDir ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : []), "--import", "tsx"],
    env: { ...process.env, BENCH_CAMPAIGN_WORKER: JSON.stringify(cfg), LOG_LEVEL: "warn" },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let phases: PhaseSummary | undefined;
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.on("message", (m: { type?: string; phases?: PhaseSummary }) => {
      if (m?.type === "ready") resolve();
      if (m?.type === "phases") phases = m.phases;
    });
    void exited.then((code) => reject(new Error(`worker exited before it was ready (${code})`)));
  });
  return {
    child,
    stop: async () => {
      child.send({ type: "stop" });
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      await exited;
      clearTimeout(timer);
      return phases ?? { batches: 0, claim: [], vault: [], commit: [] };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------

const opts = parseArgs({
  options: {
    records: { type: "string", default: "100000" },
    batch: { type: "string", default: "500" },
    workers: { type: "string", default: "1,2" },
    "loop-records": { type: "string", default: "2000" },
    "floor-records": { type: "string", default: "100000" },
    keep: { type: "boolean", default: false },
    db: { type: "string" },
    "cpu-prof": { type: "boolean", default: false },
    "skip-floors": { type: "boolean", default: false },
    worker: { type: "boolean", default: false },
  },
}).values;

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} needs a positive integer`);
  return n;
}

async function main(): Promise<void> {
  let N = positive("records", opts.records);
  const BATCH = positive("batch", opts.batch);
  if (BATCH > 1000) throw new Error("--batch is at most 1000 (the campaign's limit)");
  const WORKERS = opts.workers.split(",").map((w) => positive("workers", w));
  const REUSE = opts.db;
  if (REUSE !== undefined && !/^ks_bench_[0-9a-f]{10}$/.test(REUSE)) throw new Error("--db needs a kept ks_bench_… database name");
  const ADMIN_URL = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";

  const [{ sql }, { createDb, rowsOf }, { migrate }, { createVaultClient }, envelope, shareFormat, service, { cliActor }] = await Promise.all([
    import("drizzle-orm"),
    import("@/lib/db/client"),
    import("@/lib/db/migrate"),
    import("@/lib/vault"),
    import("@/lib/devstack/seed/envelope"),
    import("@/lib/db/share-format"),
    import("@/lib/campaigns/service"),
    import("@/lib/campaigns/actor"),
  ]);

  const name = REUSE ?? `ks_bench_${randomBytes(5).toString("hex")}`;
  const transitDir = path.join(tmpdir(), `${name}-transit`);
  const profDir = opts["cpu-prof"] ? path.join(tmpdir(), `${name}-prof`) : undefined;
  if (profDir) mkdirSync(profDir, { recursive: true });
  if (REUSE && !existsSync(transitDir)) throw new Error(`--db ${REUSE}: its Transit keys (${transitDir}) are gone; seed a new database`);
  // The dev server keeps its root token with the keys; reuse needs the same one.
  const tokenFile = path.join(transitDir, "bench-token");
  mkdirSync(transitDir, { recursive: true });
  const token = REUSE ? readFileSync(tokenFile, "utf8").trim() : randomBytes(16).toString("hex");
  if (!REUSE) (await import("node:fs")).writeFileSync(tokenFile, token, { mode: 0o600 });

  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  if (!REUSE) await admin.unsafe(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const dbUrl = url.toString();
  const handle = await createDb({ kind: "postgres", url: dbUrl, max: 4 });
  const db = handle.db;
  const raw = postgres(dbUrl, { max: 1, onnotice: () => {}, connection: { TimeZone: "UTC" } });
  const backend = postgres(dbUrl, { max: 16, onnotice: () => {}, connection: { TimeZone: "UTC", application_name: "bench-backend" } });
  let transit: TransitChild | undefined;
  let vault: ReturnType<typeof createVaultClient> | undefined;
  const workers: WorkerHandle[] = [];
  let exitCode = 0;
  const load = () => loadavg().map((l) => l.toFixed(1)).join(" ");

  /** The inventory read table, filled in one pass by the triggers' own function, its indexes rebuilt by sorting. */
  async function rebuildInventory(): Promise<number> {
    const t0 = performance.now();
    const indexes = await raw.unsafe<{ indexname: string; indexdef: string }[]>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'inventory_wallets' AND indexname <> 'inventory_wallets_pkey'`,
    );
    for (const ix of indexes) await raw.unsafe(`DROP INDEX ${ix.indexname}`);
    await raw.unsafe("TRUNCATE inventory_wallets");
    await raw.unsafe(`INSERT INTO inventory_wallets SELECT * FROM keyshare_inventory_desired(ARRAY(
      SELECT account_address FROM server_wallet_key_shares UNION SELECT account_address FROM wallet_properties)) ORDER BY created_us`);
    await raw.unsafe("SET maintenance_work_mem = '256MB'");
    for (const ix of indexes) await raw.unsafe(ix.indexdef);
    await raw.unsafe("RESET maintenance_work_mem");
    return (performance.now() - t0) / 1000;
  }

  async function versionCounts(): Promise<Map<number, number>> {
    const rows = await raw.unsafe<{ v: number; n: string }[]>(
      `SELECT key_version AS v, sum(records)::bigint AS n FROM share_census WHERE encryption_key_id = $1 GROUP BY 1`,
      [KEY],
    );
    return new Map(rows.filter((r) => Number(r.n) !== 0).map((r) => [Number(r.v), Number(r.n)]));
  }

  /**
   * Puts every record of the key back on its original bytes. The share UPDATE runs with its census and inventory
   * triggers off (the derive trigger on, so key_version, fingerprint and row_version follow the bytes); the
   * counters and the read table are then rebuilt from the sources, so every run starts from the same state.
   */
  async function restore(): Promise<void> {
    const atTarget = (await versionCounts()).get(TARGET) ?? 0;
    if (atTarget === 0) return;
    const t0 = performance.now();
    await raw.unsafe(`DELETE FROM rewrap_item_failures; DELETE FROM rewrap_leases`);
    await raw.unsafe("ALTER TABLE server_wallet_key_shares DISABLE TRIGGER server_wallet_key_shares_counters_upd");
    await raw.unsafe("ALTER TABLE server_wallet_key_shares DISABLE TRIGGER server_wallet_key_shares_inventory_upd");
    try {
      await raw.unsafe(
        `UPDATE server_wallet_key_shares AS s SET encrypted_key_shares = o.encrypted_key_shares, last_rewrapped_at = NULL, rewrap_campaign_id = NULL
         FROM bench_original AS o WHERE s.encryption_key_id = $1 AND s.key_version >= $2 AND o.id = s.id`,
        [KEY, TARGET],
      );
    } finally {
      await raw.unsafe("ALTER TABLE server_wallet_key_shares ENABLE TRIGGER server_wallet_key_shares_counters_upd");
      await raw.unsafe("ALTER TABLE server_wallet_key_shares ENABLE TRIGGER server_wallet_key_shares_inventory_upd");
    }
    await raw.unsafe("SELECT keyshare_rebuild_counters()");
    const inv = await rebuildInventory();
    await raw.unsafe("VACUUM ANALYZE server_wallet_key_shares");
    await raw.unsafe("VACUUM ANALYZE inventory_wallets");
    say(`  restored ${fmt(atTarget)} records to their original bytes (${((performance.now() - t0) / 1000).toFixed(1)} s, of which inventory rebuild ${inv.toFixed(1)} s)`);
  }

  try {
    say(`database ${name}; records ${fmt(N)}; batch ${BATCH}; workers ${WORKERS.join(",")}; load average ${load()}`);
    transit = await startTransitChild(transitDir, token, profDir);
    vault = createVaultClient({ addr: transit.url, token, timeoutMs: 60_000 });
    say(`dev Transit server in a child process (pid ${transit.child.pid}) at ${transit.url}`);

    let seedSeconds: Record<string, number> | null = null;
    if (!REUSE) {
      await migrate(db);
      await vault.createKey(KEY);
      await vault.rotateKey(KEY);
      await vault.rotateKey(KEY);

      // Record i is on v1 for the first SMALL records (the small campaign's scope) and v2 after; at N ≤ SMALL
      // the two versions alternate. Every tenth record in three is an envelope around a 256-bit data key.
      const versionOf = (i: number) => (N > SMALL ? (i < SMALL ? 1 : 2) : 1 + (i % 2));
      const envelopeAt = (i: number) => i % 10 < ENVELOPE_SHARE * 10;
      interface Pending {
        rows: { id: string; w: string; a: string; ct: string }[];
        encryptSeconds: number;
      }
      const encryptChunk = async (lo: number, hi: number): Promise<Pending> => {
        const t0 = performance.now();
        const recs: { id: string; w: string; a: string; shares: Buffer; dataKey: Buffer; envelope: boolean }[] = [];
        const byVersion = new Map<number, number[]>();
        const noise = randomBytes((hi - lo) * (SHARE_BYTES + 32));
        for (let i = lo; i < hi; i++) {
          const k = recs.length;
          const shares = noise.subarray(k * (SHARE_BYTES + 32), k * (SHARE_BYTES + 32) + SHARE_BYTES);
          const dataKey = noise.subarray(k * (SHARE_BYTES + 32) + SHARE_BYTES, (k + 1) * (SHARE_BYTES + 32));
          recs.push({ id: randomUUID(), w: randomUUID(), a: `0x${randomBytes(20).toString("hex")}`, shares, dataKey, envelope: envelopeAt(i) });
          const v = versionOf(i);
          (byVersion.get(v) ?? byVersion.set(v, []).get(v)!).push(k);
        }
        const cts = new Array<string>(recs.length);
        for (const [v, idx] of byVersion) {
          const res = await vault!.encrypt(
            KEY,
            idx.map((k) => ({ plaintext: recs[k]!.envelope ? recs[k]!.dataKey : recs[k]!.shares })),
            { keyVersion: v },
          );
          res.forEach((r, j) => {
            if (!("ciphertext" in r)) throw new Error(`seed encrypt failed: ${r.error}`);
            cts[idx[j]!] = r.ciphertext;
          });
        }
        const rows = recs.map((r, k) => ({
          id: r.id,
          w: r.w,
          a: r.a,
          ct: r.envelope
            ? envelope.encodeEnvelope(cts[k]!, envelope.sealShares(r.shares, r.dataKey, r.w)).toString("utf8")
            : cts[k]!,
        }));
        return { rows, encryptSeconds: (performance.now() - t0) / 1000 };
      };

      // Every trigger fires on these inserts except the inventory's insert-time refresh; the read table is
      // filled in one pass afterwards (see rebuildInventory) — inserting 1M rows one statement at a time into its
      // 25 indexes with 128 MB shared_buffers takes far longer and is not what this bench measures.
      const seedStart = performance.now();
      let encryptSeconds = 0;
      let insertSeconds = 0;
      await raw.unsafe("ALTER TABLE server_wallet_key_shares DISABLE TRIGGER server_wallet_key_shares_inventory_ins");
      await raw.unsafe("ALTER TABLE wallet_properties DISABLE TRIGGER wallet_properties_inventory_ins");
      let next = encryptChunk(0, Math.min(N, SEED_CHUNK));
      for (let lo = 0; lo < N; lo += SEED_CHUNK) {
        const hi = Math.min(N, lo + SEED_CHUNK);
        const chunk = await next;
        encryptSeconds += chunk.encryptSeconds;
        // Encrypt the next chunk while this one is inserted.
        if (hi < N) next = encryptChunk(hi, Math.min(N, hi + SEED_CHUNK));
        const t0 = performance.now();
        const json = JSON.stringify(chunk.rows);
        await raw.begin(async (tx) => {
          await tx.unsafe(
            `INSERT INTO wallet_properties (wallet_id, account_address, chain_name, threshold_signature_scheme, derivation_path, backup_info,
                                            has_backup_info, password_encrypted, backup_locations, backed_up_anywhere, source, created_at, updated_at)
             SELECT x.w, x.a, 'EVM', 'TWO_OF_THREE', 'm/44''/60''/0''/0/0', '{"passwordEncrypted":false,"backups":{"dynamic":["b"]}}'::jsonb,
                    true, false, '{dynamic}'::text[], true, 'seed', c.t AT TIME ZONE 'UTC', c.t AT TIME ZONE 'UTC'
             FROM jsonb_to_recordset($1::text::jsonb) AS x(id uuid, w text, a text),
                  LATERAL (SELECT (now() AT TIME ZONE 'UTC') - ((hashtext(x.w) & 65535) / 65536.0) * interval '730 days' AS t) AS c`,
            [json],
          );
          await tx.unsafe(
            `INSERT INTO server_wallet_key_shares (id, wallet_id, account_address, encrypted_key_shares, encryption_key_id, created_at,
                                                   last_accessed_at, access_count)
             SELECT x.id, x.w, x.a, convert_to(x.ct, 'UTF8'), $2, c.t,
                    CASE WHEN r < 0.1 THEN NULL ELSE c.t + r * ((now() AT TIME ZONE 'UTC') - c.t) END, (hashtext(x.a) & 1023)
             FROM jsonb_to_recordset($1::text::jsonb) AS x(id uuid, w text, a text, ct text),
                  LATERAL (SELECT (now() AT TIME ZONE 'UTC') - ((hashtext(x.w) & 65535) / 65536.0) * interval '730 days' AS t,
                                  (hashtext(x.id::text) & 65535) / 65536.0 AS r) AS c`,
            [json, KEY],
          );
        });
        insertSeconds += (performance.now() - t0) / 1000;
        if (hi % 100_000 === 0 || hi === N) {
          say(`  seeded ${fmt(hi)} (encrypt ${encryptSeconds.toFixed(1)} s, insert ${insertSeconds.toFixed(1)} s so far; load ${load()})`);
        }
      }
      // Wallets of another key that no campaign here touches: the backend's writes on them show whether a
      // campaign slows writes it has nothing to do with (bytes are well-formed but not decryptable; never sent to Vault).
      const others = Math.max(1000, Math.floor(N / 100));
      await raw.unsafe(
        `INSERT INTO wallet_properties (wallet_id, account_address, chain_name, threshold_signature_scheme, derivation_path, backup_info,
                                        has_backup_info, password_encrypted, backup_locations, backed_up_anywhere, source, created_at, updated_at)
         SELECT md5('ow' || g)::uuid::text, '0x' || md5('oa' || g) || substr(md5('ob' || g), 1, 8), 'EVM', 'TWO_OF_THREE', 'm/44''/60''/0''/0/0',
                '{"passwordEncrypted":false,"backups":{"dynamic":["b"]}}'::jsonb, true, false, '{dynamic}'::text[], true, 'seed',
                now() - (g % 730) * interval '1 day', now() - (g % 730) * interval '1 day'
         FROM generate_series(1, ${others}) AS g`,
      );
      await raw.unsafe(
        `INSERT INTO server_wallet_key_shares (id, wallet_id, account_address, encrypted_key_shares, encryption_key_id, created_at, access_count)
         SELECT md5('os' || g)::uuid, md5('ow' || g)::uuid::text, '0x' || md5('oa' || g) || substr(md5('ob' || g), 1, 8),
                convert_to('vault:v1:' || translate(encode(sha512(g::text::bytea) || sha512(('x' || g)::bytea) || sha512(('y' || g)::bytea), 'base64'), E'\n', ''), 'UTF8'),
                '${OTHER_KEY}', (now() AT TIME ZONE 'UTC') - (g % 730) * interval '1 day', 0
         FROM generate_series(1, ${others}) AS g`,
      );
      const inventorySeconds = await rebuildInventory();
      await raw.unsafe("ALTER TABLE server_wallet_key_shares ENABLE TRIGGER server_wallet_key_shares_inventory_ins");
      await raw.unsafe("ALTER TABLE wallet_properties ENABLE TRIGGER wallet_properties_inventory_ins");
      await raw.unsafe(`CREATE UNLOGGED TABLE bench_original AS SELECT id, key_version, encrypted_key_shares FROM server_wallet_key_shares WHERE encryption_key_id = '${KEY}'`);
      await raw.unsafe("ALTER TABLE bench_original ADD PRIMARY KEY (id)");
      await raw.unsafe("VACUUM ANALYZE");
      seedSeconds = {
        total: r1((performance.now() - seedStart) / 1000),
        encrypt: r1(encryptSeconds),
        insert: r1(insertSeconds),
        inventory: r1(inventorySeconds),
      };
      say(
        `seed ${seedSeconds.total} s: Transit encrypt ${seedSeconds.encrypt} s (${fmt(N / encryptSeconds)}/s, overlapped with the inserts), ` +
          `inserts through the triggers ${seedSeconds.insert} s (${fmt(N / insertSeconds)}/s), inventory fill + indexes ${seedSeconds.inventory} s`,
      );
    } else {
      await restore();
      N = [...(await versionCounts()).values()].reduce((a, b) => a + b, 0);
      say(`reusing ${name}: ${fmt(N)} records`);
    }
    const versions = await versionCounts();
    say(`records by version: ${[...versions].map(([v, n]) => `v${v} ${fmt(n)}`).join(", ")}; load average ${load()}`);

    const settings = { ...service.DEFAULT_CAMPAIGN_SETTINGS, environmentMapping: {} as Record<string, string> };
    const actor = cliActor();
    interface ShareRow {
      id: string;
      row_version: number;
      key_version: number;
      encrypted_key_shares: Uint8Array;
    }
    const readRows = async (order: "asc" | "desc", limit: number) =>
      rowsOf<ShareRow>(
        await db.execute(sql`
          select id, row_version, key_version, encrypted_key_shares from server_wallet_key_shares
          where encryption_key_id = ${KEY} and key_version >= 1 and key_version < ${TARGET}
          order by key_version ${sql.raw(order)}, id ${sql.raw(order)} limit ${limit}`),
      );

    // -----------------------------------------------------------------------------------------------------
    // The hand-written loop and the floors.
    let loop: { records: number; seconds: number; perSecond: number } | null = null;
    let transitFloor: { records: number; seconds: number; perSecond: number; batchMs: ReturnType<typeof stats> } | null = null;
    let updateFloor: { records: number; seconds: number; perSecond: number; batchMs: ReturnType<typeof stats> } | null = null;
    let explain: string[] = [];
    let writeBackSplit: { samples: number; executionMs: number; shareRowsMs: number; deriveTriggerMs: number; censusTriggerMs: number; inventoryTriggerMs: number } | null = null;
    if (!opts["skip-floors"]) {
      const L = Math.min(positive("loop-records", opts["loop-records"]), Math.floor(N / 10));
      const F = Math.min(positive("floor-records", opts["floor-records"]), N - L);

      // One rewrap call of one item and one UPDATE per record, through the same client and database handle.
      const sample = await readRows("desc", L);
      {
        const t0 = performance.now();
        for (const r of sample) {
          const target = shareFormat.rewrapTarget(Buffer.from(r.encrypted_key_shares))!;
          const [res] = await vault.rewrapBatch(KEY, [{ reference: r.id, ciphertext: target.transitCiphertext }], { keyVersion: TARGET });
          if (!res || !("ciphertext" in res)) throw new Error("loop rewrap failed");
          await db.execute(sql`
            update server_wallet_key_shares set encrypted_key_shares = ${target.replace(res.ciphertext)}, last_rewrapped_at = (now() at time zone 'UTC')
            where id = ${r.id} and row_version = ${r.row_version}`);
        }
        const seconds = (performance.now() - t0) / 1000;
        loop = { records: sample.length, seconds: r1(seconds), perSecond: Math.round(sample.length / seconds) };
        say(`per-record loop (rewrap 1 item + UPDATE 1 row, ${fmt(sample.length)} records): ${fmt(loop.perSecond)} records/s (${loop.seconds} s); load ${load()}`);
      }

      // Transit floor: the first F records in claim order, batches of BATCH, one request in flight; the new
      // ciphertexts are kept for the UPDATE floor (nothing is written here).
      const rows = await readRows("asc", F);
      const batches: { items: { reference: string; ciphertext: string }[]; replace: Map<string, (c: string) => Buffer>; rv: Map<string, number> }[] = [];
      for (let i = 0; i < rows.length; i += BATCH) {
        const b = { items: [] as { reference: string; ciphertext: string }[], replace: new Map<string, (c: string) => Buffer>(), rv: new Map<string, number>() };
        for (const r of rows.slice(i, i + BATCH)) {
          const t = shareFormat.rewrapTarget(Buffer.from(r.encrypted_key_shares))!;
          b.items.push({ reference: r.id, ciphertext: t.transitCiphertext });
          b.replace.set(r.id, t.replace);
          b.rv.set(r.id, r.row_version);
        }
        batches.push(b);
      }
      const updates: { id: string; rv: number; ct: string }[][] = [];
      {
        const lat: number[] = [];
        const t0 = performance.now();
        for (const b of batches) {
          const t1 = performance.now();
          const res = await vault.rewrapBatch(KEY, b.items, { keyVersion: TARGET });
          lat.push(performance.now() - t1);
          updates.push(
            res.map((r) => {
              if (!("ciphertext" in r)) throw new Error("floor rewrap item failed");
              return { id: r.reference, rv: b.rv.get(r.reference)!, ct: b.replace.get(r.reference)!(r.ciphertext).toString("utf8") };
            }),
          );
        }
        const seconds = (performance.now() - t0) / 1000;
        transitFloor = { records: rows.length, seconds: r1(seconds), perSecond: Math.round(rows.length / seconds), batchMs: stats(lat) };
        say(`Transit floor (batch rewrap of ${BATCH}, ${fmt(rows.length)} records): ${fmt(transitFloor.perSecond)} records/s; batch p50 ${transitFloor.batchMs.p50} ms, p95 ${transitFloor.batchMs.p95} ms; load ${load()}`);
      }

      // UPDATE floor: the runner's write-back statement, one autocommit statement per batch, all triggers.
      // One batch from the middle is run under EXPLAIN (ANALYZE, BUFFERS) in a rolled-back transaction first.
      const floorCampaign = randomUUID();
      const writeBack = (u: { id: string; rv: number; ct: string }[]) => sql`
        update server_wallet_key_shares as s
        set encrypted_key_shares = convert_to(u.ct, 'UTF8'),
            last_rewrapped_at = (now() at time zone 'UTC'),
            rewrap_campaign_id = ${floorCampaign}
        from jsonb_to_recordset(${JSON.stringify(u)}::jsonb) as u(id uuid, rv integer, ct text)
        where s.id = u.id and s.row_version = u.rv
          and s.encryption_key_id = ${KEY} and s.key_version < ${TARGET}
        returning s.id`;
      {
        const lat: number[] = [];
        let written = 0;
        // EXPLAIN samples at five spread positions (fewer for small runs), each rolled back and not timed.
        const step = Math.max(1, Math.floor(updates.length / 6));
        const explainAt = new Set([1, 2, 3, 4, 5].map((k) => k * step).filter((i) => i < updates.length));
        const samples: { execution: number; node: number; triggers: Map<string, number> }[] = [];
        const t0 = performance.now();
        let explainMs = 0;
        for (let i = 0; i < updates.length; i++) {
          if (explainAt.has(i)) {
            const e0 = performance.now();
            await db
              .transaction(async (tx) => {
                const plan = rowsOf<{ "QUERY PLAN": string }>(await tx.execute(sql`explain (analyze, buffers) ${writeBack(updates[i]!)}`)).map((p) => p["QUERY PLAN"]);
                const sample = { execution: NaN, node: NaN, triggers: new Map<string, number>() };
                for (const line of plan) {
                  const node = /^Update on .*actual time=[\d.]+\.\.([\d.]+)/.exec(line);
                  const trig = /^Trigger (\S+): time=([\d.]+)/.exec(line);
                  const exec = /^Execution Time: ([\d.]+) ms/.exec(line);
                  if (node) sample.node = Number(node[1]);
                  if (trig) sample.triggers.set(trig[1]!, Number(trig[2]));
                  if (exec) sample.execution = Number(exec[1]);
                }
                samples.push(sample);
                if (samples.length === Math.ceil(explainAt.size / 2)) explain = plan;
                throw new Error("rollback");
              })
              .catch((err: unknown) => {
                if (!(err instanceof Error && err.message === "rollback")) throw err;
              });
            explainMs += performance.now() - e0;
          }
          const t1 = performance.now();
          written += rowsOf(await db.execute(writeBack(updates[i]!))).length;
          lat.push(performance.now() - t1);
        }
        const median = (xs: number[]) => r1(pct([...xs].sort((a, b) => a - b), 50));
        const trig = (name: string) => samples.map((x) => x.triggers.get(`server_wallet_key_shares_${name}`) ?? 0);
        writeBackSplit = {
          samples: samples.length,
          executionMs: median(samples.map((x) => x.execution)),
          shareRowsMs: median(samples.map((x) => x.node - (x.triggers.get("server_wallet_key_shares_derive") ?? 0))),
          deriveTriggerMs: median(trig("derive")),
          censusTriggerMs: median(trig("counters_upd")),
          inventoryTriggerMs: median(trig("inventory_upd")),
        };
        const seconds = (performance.now() - t0 - explainMs) / 1000;
        if (written !== rows.length) throw new Error(`UPDATE floor wrote ${written} of ${rows.length} rows`);
        updateFloor = { records: written, seconds: r1(seconds), perSecond: Math.round(written / seconds), batchMs: stats(lat) };
        say(`UPDATE floor (write-back statement, ${BATCH} rows, ${fmt(written)} records): ${fmt(updateFloor.perSecond)} records/s; batch p50 ${updateFloor.batchMs.p50} ms, p95 ${updateFloor.batchMs.p95} ms; load ${load()}`);
        const ws = writeBackSplit;
        say(
          `write-back statement split (EXPLAIN ANALYZE, median of ${ws.samples} batches of ${BATCH}, rolled back): ${ws.executionMs} ms = share rows + indexes ${ws.shareRowsMs}, ` +
            `derive trigger ${ws.deriveTriggerMs}, census trigger ${ws.censusTriggerMs}, inventory trigger ${ws.inventoryTriggerMs} (${Math.round((100 * ws.inventoryTriggerMs) / ws.executionMs)} %)`,
        );
        say(`EXPLAIN (ANALYZE, BUFFERS) of one of them:`);
        for (const line of explain) say(`    ${line}`);
      }
      await restore();
    }

    // -----------------------------------------------------------------------------------------------------
    // Campaigns.
    const sizes = N > SMALL ? [SMALL, N] : [N];
    interface Run {
      records: number;
      workers: number;
      rewrapped: number;
      seconds: number;
      perSecond: number;
      batches: number;
      conflicts: number;
      passes: number;
      phasesMs: { claim: ReturnType<typeof stats>; vault: ReturnType<typeof stats>; commit: ReturnType<typeof stats> };
      phaseShare: { claim: number; vault: number; commit: number };
      statusMs: ReturnType<typeof stats>;
      /** Access UPDATEs during the campaign: records inside a lease, other records of the scope, records of the other key. */
      backendMs: { lease: ReturnType<typeof stats>; scope: ReturnType<typeof stats>; other: ReturnType<typeof stats> };
      backendBaselineMs: { scope: ReturnType<typeof stats>; other: ReturnType<typeof stats> };
      cpuSeconds: { workers: number; transit: number; postgres: number; bench: number };
      load: string;
    }
    const runs: Run[] = [];

    const accessUpdate = (id: string) =>
      backend`update server_wallet_key_shares set last_accessed_at = now() at time zone 'UTC', access_count = access_count + 1 where id = ${id}`;

    for (const size of sizes) {
      for (const w of WORKERS) {
        await restore();
        const scopeVersions = size < N ? [1] : undefined;
        const pool = (
          await raw.unsafe<{ id: string }[]>(
            `SELECT id FROM bench_original ${scopeVersions ? "WHERE key_version = 1" : ""} ORDER BY random() LIMIT 20000`,
          )
        ).map((r) => r.id);
        const otherPool = (
          await raw.unsafe<{ id: string }[]>(`SELECT id FROM server_wallet_key_shares WHERE encryption_key_id = $1 ORDER BY random() LIMIT 20000`, [OTHER_KEY])
        ).map((r) => r.id);
        const pick = (from: string[]) => from[Math.floor(Math.random() * from.length)]!;

        /**
         * The backend: access-bookkeeping writes arriving at random times (Poisson, open loop — a write that
         * waits does not hold back the next one, as with independent signing requests), each on a record chosen
         * by `choose`, timed from the UPDATE's start to its end. Runs until `stop()` says so.
         */
        const backendWrites = async (choose: () => Promise<{ id: string; into: number[] }>, stop: (n: number) => boolean) => {
          const inflight = new Set<Promise<void>>();
          const errors: unknown[] = [];
          for (let n = 0; !stop(n) && errors.length === 0; n++) {
            await sleep(-Math.log(1 - Math.random()) * BACKEND_GAP_MS);
            const p = (async () => {
              const { id, into } = await choose();
              const t0 = performance.now();
              await accessUpdate(id);
              into.push(performance.now() - t0);
            })();
            inflight.add(p);
            void p.catch((err: unknown) => errors.push(err)).finally(() => inflight.delete(p));
          }
          await Promise.allSettled([...inflight]);
          if (errors.length > 0) throw errors[0];
        };

        // With no campaign running: records of the scope and of the other key, at random.
        const baseline = { scope: [] as number[], other: [] as number[] };
        await backendWrites(
          async () => (Math.random() < 0.5 || otherPool.length === 0 ? { id: pick(pool), into: baseline.scope } : { id: pick(otherPool), into: baseline.other }),
          (n) => n >= BASELINE_SAMPLES,
        );

        for (let i = 0; i < w; i++) {
          workers.push(await startWorker({ dbUrl, transitUrl: transit.url, token, workerId: `bench-worker-${size}-${w}-${i}` }, profDir));
        }
        // CPU of this database's PostgreSQL sessions (the workers', this process's, the backend's), from /proc.
        const pgPids = async () =>
          (await raw.unsafe<{ pid: number }[]>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)).map((r) => r.pid);
        const pgAtStart = new Map((await pgPids()).map((p) => [p, cpuSeconds(p)]));
        const cpuAt = async (): Promise<{ workers: number; transit: number; postgres: number; bench: number }> => {
          let postgresCpu = 0;
          for (const p of new Set([...pgAtStart.keys(), ...(await pgPids())])) {
            const now = cpuSeconds(p);
            if (!Number.isNaN(now)) postgresCpu += now - (pgAtStart.get(p) ?? 0);
          }
          const own = process.cpuUsage();
          return {
            workers: workers.reduce((a, h) => a + cpuSeconds(h.child.pid), 0),
            transit: cpuSeconds(transit!.child.pid),
            postgres: postgresCpu,
            bench: (own.user + own.system) / 1e6,
          };
        };
        const cpu0 = await cpuAt();
        cpu0.postgres = 0;
        const loadStart = load();

        const created = await db.transaction((tx) =>
          service.createCampaign(tx, { keyName: KEY, targetVersion: TARGET, scopeVersions, batchSize: BATCH, reason: "bench" }, actor, { vault: vault!, settings }),
        );
        if (created.recordsAtStart !== size) throw new Error(`campaign scope holds ${created.recordsAtStart} records, expected ${size}`);

        let done = false;
        const statusLat: number[] = [];
        let final: Awaited<ReturnType<typeof service.getCampaignStatus>> | undefined;
        let progressAt = performance.now();
        let progress = -1;
        const poller = (async () => {
          while (!done) {
            const t0 = performance.now();
            const s = await service.getCampaignStatus(db, created.id, {}).catch((err: unknown) => {
              done = true;
              throw err;
            });
            const ms = performance.now() - t0;
            statusLat.push(ms);
            if (s.rewrapped !== progress) {
              progress = s.rewrapped;
              progressAt = performance.now();
            }
            const dead = workers.find((h) => h.child.exitCode !== null);
            if (dead || performance.now() - progressAt > 300_000) {
              done = true;
              throw new Error(dead ? `a worker exited (${dead.child.exitCode}) during the campaign` : "no progress for 5 minutes");
            }
            if (s.state === "completed" || s.state === "paused" || s.state === "failed" || s.state === "cancelled") {
              final = s;
              done = true;
              break;
            }
            await sleep(Math.max(0, POLL_MS - ms));
          }
        })();
        // During the campaign: half on a record inside a live lease (claimed, its Vault call in flight or its
        // write-back pending; a record of the scope when no lease is out at that moment), half on the other key.
        const during = { lease: [] as number[], scope: [] as number[], other: [] as number[] };
        const writer = backendWrites(async () => {
          if (Math.random() >= 0.5 && otherPool.length > 0) return { id: pick(otherPool), into: during.other };
          const [lease] = await backend<{ lo_version: number; lo_id: string; hi_version: number; hi_id: string }[]>`
            select lo_version, lo_id, hi_version, hi_id from rewrap_leases where campaign_id = ${created.id} order by random() limit 1`;
          if (lease) {
            const [r] = await backend<{ id: string }[]>`
              select id from server_wallet_key_shares s
              where s.encryption_key_id = ${KEY}
                and (s.key_version, s.id) >= (${lease.lo_version}::int, ${lease.lo_id}::uuid)
                and (s.key_version, s.id) <= (${lease.hi_version}::int, ${lease.hi_id}::uuid)
              order by s.key_version, s.id offset ${Math.floor(Math.random() * BATCH)} limit 1`;
            if (r) return { id: r.id, into: during.lease };
          }
          return { id: pick(pool), into: during.scope };
        }, () => done);
        await Promise.all([poller, writer]);
        const cpu1 = await cpuAt();
        const phases = await Promise.all(workers.splice(0).map((h) => h.stop()));

        if (!final || final.state !== "completed") throw new Error(`campaign ended ${final?.state}: ${final?.stateReason}`);
        const [times] = await raw.unsafe<{ seconds: number }[]>(
          `SELECT extract(epoch FROM finished_at - created_at)::float8 AS seconds FROM rewrap_campaigns WHERE id = $1`,
          [created.id],
        );
        if (final.rewrapped !== size || final.remaining !== 0) {
          throw new Error(`campaign re-wrapped ${final.rewrapped} of ${size}, ${final.remaining} left`);
        }
        const all = (k: "claim" | "vault" | "commit") => phases.flatMap((p) => p[k]);
        const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
        const phaseTotal = sum(all("claim")) + sum(all("vault")) + sum(all("commit"));
        const seconds = Number(times!.seconds);
        const run: Run = {
          records: size,
          workers: w,
          rewrapped: final.rewrapped,
          seconds: r1(seconds),
          perSecond: Math.round(final.rewrapped / seconds),
          batches: final.batches,
          conflicts: final.skippedConflict,
          passes: final.pass,
          phasesMs: { claim: stats(all("claim")), vault: stats(all("vault")), commit: stats(all("commit")) },
          phaseShare: {
            claim: r2(sum(all("claim")) / phaseTotal),
            vault: r2(sum(all("vault")) / phaseTotal),
            commit: r2(sum(all("commit")) / phaseTotal),
          },
          statusMs: stats(statusLat),
          backendMs: { lease: stats(during.lease), scope: stats(during.scope), other: stats(during.other) },
          backendBaselineMs: { scope: stats(baseline.scope), other: stats(baseline.other) },
          cpuSeconds: {
            workers: r1(cpu1.workers - cpu0.workers),
            transit: r1(cpu1.transit - cpu0.transit),
            postgres: r1(cpu1.postgres - cpu0.postgres),
            bench: r1(cpu1.bench - cpu0.bench),
          },
          load: `${loadStart} → ${load()}`,
        };
        runs.push(run);
        say(
          `campaign ${fmt(size)} records, ${w} worker(s): ${fmt(run.perSecond)} records/s (${run.seconds} s, ${run.batches} batches, ${run.passes} pass(es), ${run.conflicts} conflicts)\n` +
            `    per batch ms p50/p95: claim ${run.phasesMs.claim.p50}/${run.phasesMs.claim.p95}, Vault ${run.phasesMs.vault.p50}/${run.phasesMs.vault.p95}, ` +
            `write-back ${run.phasesMs.commit.p50}/${run.phasesMs.commit.p95} (share of batch time ${run.phaseShare.claim}/${run.phaseShare.vault}/${run.phaseShare.commit})\n` +
            `    status read p50/p95/max ${run.statusMs.p50}/${run.statusMs.p95}/${run.statusMs.max} ms (${run.statusMs.n} reads)\n` +
            `    backend access UPDATE p50/p95/max ms: record in a lease ${ms(run.backendMs.lease)}, other key ${ms(run.backendMs.other)}` +
            (run.backendMs.scope.n ? `, scope record (no lease out) ${ms(run.backendMs.scope)}` : "") +
            `; without campaign: scope ${ms(run.backendBaselineMs.scope)}, other key ${ms(run.backendBaselineMs.other)}\n` +
            `    CPU s: workers ${run.cpuSeconds.workers}, Transit ${run.cpuSeconds.transit}, PostgreSQL (this database's sessions) ${run.cpuSeconds.postgres}, bench ${run.cpuSeconds.bench}; load ${run.load}`,
        );
      }
    }

    // -----------------------------------------------------------------------------------------------------
    const largest = Math.max(...runs.map((r) => r.records));
    const top = runs.filter((r) => r.records === largest);
    const best = top.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
    const floorMin = transitFloor && updateFloor ? Math.min(transitFloor.perSecond, updateFloor.perSecond) : null;
    const statusP95 = Math.max(...top.map((r) => r.statusMs.p95));
    const targets = {
      campaignAtLeast20xLoop: loop ? best.perSecond >= 20 * loop.perSecond : null,
      campaignAtLeast07xFloor: floorMin !== null ? best.perSecond >= 0.7 * floorMin : null,
      campaignAtLeast10kPerS: best.perSecond >= 10_000,
      statusP95AtMost50ms: statusP95 <= 50,
    };
    say("");
    say(`largest size ${fmt(largest)}: best ${fmt(best.perSecond)} records/s with ${best.workers} worker(s)`);
    if (loop) say(`  ÷ per-record loop ${fmt(loop.perSecond)}/s = ${(best.perSecond / loop.perSecond).toFixed(1)}× (target ≥ 20×)`);
    if (floorMin !== null) say(`  ÷ min(Transit floor ${fmt(transitFloor!.perSecond)}/s, UPDATE floor ${fmt(updateFloor!.perSecond)}/s) = ${(best.perSecond / floorMin).toFixed(2)} (target ≥ 0.7)`);
    say(`  ≥ 10,000 records/s: ${targets.campaignAtLeast10kPerS ? "met" : "missed"}; status read p95 ${statusP95} ms (target ≤ 50 ms)`);
    const result = {
      records: N,
      batch: BATCH,
      seed_seconds: seedSeconds,
      campaign_records_per_s: best.perSecond,
      campaign_workers: best.workers,
      loop_records_per_s: loop?.perSecond ?? null,
      transit_floor_per_s: transitFloor?.perSecond ?? null,
      update_floor_per_s: updateFloor?.perSecond ?? null,
      write_back_split_ms: writeBackSplit,
      status_p50_ms: Math.max(...top.map((r) => r.statusMs.p50)),
      status_p95_ms: statusP95,
      backend_write_p50_ms_with_campaign: Math.max(...top.map((r) => r.backendMs.lease.p50)),
      backend_write_p95_ms_with_campaign: Math.max(...top.map((r) => r.backendMs.lease.p95)),
      backend_write_max_ms_with_campaign: Math.max(...top.map((r) => r.backendMs.lease.max)),
      backend_other_key_write_p95_ms_with_campaign: Math.max(...top.map((r) => r.backendMs.other.p95)),
      backend_write_p50_ms_without: Math.max(...top.map((r) => r.backendBaselineMs.scope.p50)),
      backend_write_p95_ms_without: Math.max(...top.map((r) => r.backendBaselineMs.scope.p95)),
      backend_write_max_ms_without: Math.max(...top.map((r) => r.backendBaselineMs.scope.max)),
      runs: runs.map((r) => ({
        records: r.records,
        workers: r.workers,
        per_s: r.perSecond,
        seconds: r.seconds,
        batch_ms_p50: { claim: r.phasesMs.claim.p50, vault: r.phasesMs.vault.p50, commit: r.phasesMs.commit.p50 },
        status_ms: { p50: r.statusMs.p50, p95: r.statusMs.p95 },
        backend_ms: { lease: r.backendMs.lease, other_key: r.backendMs.other },
        backend_baseline_ms: { scope: r.backendBaselineMs.scope, other_key: r.backendBaselineMs.other },
        cpu_s: r.cpuSeconds,
      })),
      targets,
      targets_met: Object.values(targets).every((t) => t === true),
    };
    say(`RESULT ${JSON.stringify(result)}`);
  } catch (err) {
    console.error(err instanceof Error ? `${err.name}: ${err.message}` : err);
    exitCode = 1;
  } finally {
    await Promise.all(workers.map((h) => h.stop().catch(() => undefined)));
    vault?.close();
    await transit?.close();
    await backend.end({ timeout: 5 });
    await raw.end({ timeout: 5 });
    await handle.close();
    if (!opts.keep && !REUSE) {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      rmSync(transitDir, { recursive: true, force: true });
    } else {
      say(`kept database ${name} (Transit keys in ${transitDir})`);
    }
    if (profDir) say(`CPU profiles in ${profDir} (summarise with: npx tsx bench/lib/cpuprofile-summary.ts <file>)`);
    await admin.end({ timeout: 5 });
  }
  process.exit(exitCode);
}

if (opts.worker) {
  workerMain().catch((err: unknown) => {
    console.error(err instanceof Error ? `${err.name}: ${err.message}` : err);
    process.exit(1);
  });
} else {
  void main();
}
