import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditChain } from "@/lib/audit";
import { rowsOf, type Db } from "@/lib/db/client";
import { createTestPostgres, testPostgresUrl, type TestDb } from "@/lib/db/testing";
import { startTransitServer } from "@/lib/devstack/transit/server";
import { createVaultClient } from "@/lib/vault";
import { createKey, encryptMany, openRecords, rotateKey, seedRecords } from "@/test/campaign-fixtures";
import type { CampaignActor } from "./actor";
import { createCampaign, DEFAULT_CAMPAIGN_SETTINGS, getCampaignStatus } from "./service";

/**
 * The campaign under attack (real worker processes, real PostgreSQL, the dev Transit server with faults):
 * SIGKILLs of workers at chosen phases, Vault faults on ~10 % of requests, connections terminated mid-work,
 * a rotation mid-campaign, audit inserts that fail, and a wallet backend inserting, signing and rewriting
 * records the whole time. Then every invariant is checked from scratch.
 */
const pgUrl = testPostgresUrl();
const KEY = "torture-key";
const RECORDS = 2000;
const BATCH = 20;
const LEASE_MS = 1500;
const KILL_TARGET = 28;
const KILL_PHASES = ["claim", "vault", "commit", "writing", "random"] as const;
const actor: CampaignActor = { type: "user", userId: "u-torture", email: "officer@example.test", role: "officer" };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Worker {
  id: string;
  proc: ChildProcess;
  ready: boolean;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waiters: ((phase: string) => boolean)[];
}

describe.skipIf(!pgUrl)("campaign torture test (PostgreSQL, worker processes)", () => {
  let t: TestDb;
  let transit: Awaited<ReturnType<typeof startTransitServer>>;
  let ep: { url: string; token: string };
  const workers = new Set<Worker>();
  let logs = "";

  beforeAll(async () => {
    t = await createTestPostgres(pgUrl!, { max: 6 });
    transit = await startTransitServer({ port: 0, quiet: true });
    ep = { url: transit.url, token: transit.token };
  });
  afterAll(async () => {
    for (const w of workers) w.proc.kill("SIGKILL");
    await transit?.close();
    await t?.close();
  });

  function spawnWorker(n: number): Worker {
    const id = `worker:torture-${n}`;
    const proc = spawn(process.execPath, ["--import", "tsx", "test/campaign-torture-worker.ts"], {
      env: {
        ...process.env,
        TORTURE_DB_URL: t.url!,
        TORTURE_VAULT_ADDR: transit.url,
        TORTURE_VAULT_TOKEN: transit.token,
        TORTURE_LEASE_MS: String(LEASE_MS),
        TORTURE_WORKER_ID: id,
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const w: Worker = {
      id,
      proc,
      ready: false,
      waiters: [],
      exited: new Promise((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal }))),
    };
    createInterface({ input: proc.stdout! }).on("line", (line) => {
      logs += `${line}\n`;
      if (line === "READY") w.ready = true;
      if (line.startsWith("PHASE ")) {
        const phase = line.slice(6);
        w.waiters = w.waiters.filter((fn) => !fn(phase));
      }
    });
    createInterface({ input: proc.stderr! }).on("line", (line) => {
      logs += `${line}\n`;
    });
    workers.add(w);
    void w.exited.then(() => workers.delete(w));
    return w;
  }

  /** SIGKILLs `w` the moment it reports `phase` (synchronously in the line handler); false on timeout. */
  function killAt(w: Worker, phase: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        w.waiters = w.waiters.filter((fn) => fn !== waiter);
        resolve(false);
      }, timeoutMs);
      const waiter = (p: string) => {
        if (p !== phase) return false;
        clearTimeout(timer);
        w.proc.kill("SIGKILL");
        resolve(true);
        return true;
      };
      w.waiters.push(waiter);
    });
  }

  it("loses nothing and finishes on its own", async () => {
    const db: Db = t.db;
    await createKey(ep, KEY);
    await rotateKey(ep, KEY);
    const seeded = await seedRecords(db, ep, { key: KEY, count: RECORDS, versions: [1, 2], envelopeEvery: 5 });
    await rotateKey(ep, KEY);
    const expected = new Map(seeded.map((r) => [r.id, { plaintext: r.plaintext, walletId: r.walletId }]));
    const accesses = new Map<string, number>();

    // 8 % of successful batch audit appends refuse; a sequence (not rolled back) counts the refusals.
    await db.execute(sql.raw(`create sequence torture_audit_refusals`));
    await db.execute(sql.raw(`
      create function torture_refuse_audit() returns trigger language plpgsql as $$
      begin
        if new.action = 'campaign.batch' and new.outcome = 'success' and random() < 0.08 then
          perform nextval('torture_audit_refusals');
          raise exception 'torture: audit store refused the event';
        end if;
        return new;
      end $$`));
    await db.execute(sql.raw(`create trigger torture_refuse_audit before insert on audit_events for each row execute function torture_refuse_audit()`));

    const vault = createVaultClient({ addr: transit.url, token: transit.token, retries: 0 });
    const campaign = await db.transaction((tx) =>
      createCampaign(tx, { keyName: KEY, batchSize: BATCH }, actor, { vault, settings: { ...DEFAULT_CAMPAIGN_SETTINGS, environmentMapping: {} } }),
    );
    vault.close();
    expect(campaign.targetVersion).toBe(3);

    // ~10 % of Transit requests fail in one of the ways Vault fails.
    transit.setFaults({ sealedRate: 0.025, rateLimitRate: 0.02, errorRate: 0.025, resetRate: 0.03, batchItemFailureRate: 0.03 });

    let stop = false;
    let stopLagging = false;
    let done = false;
    const stats = { inserted: 0, rewritten: 0, accessUpdates: 0, terminated: 0, rotatedAt: -1, backendErrors: 0 };

    async function withRetry<T>(fn: () => Promise<T>): Promise<T> {
      for (let i = 0; ; i++) {
        try {
          return await fn();
        } catch (err) {
          if (i > 50) throw err;
          stats.backendErrors += 1;
          await sleep(20);
        }
      }
    }

    // The wallet backend: new wallets, signing bookkeeping, and rewriting shares, all the time.
    const backend = (async () => {
      const ids = () => [...expected.keys()];
      while (!stop) {
        const fresh = Array.from({ length: 4 }, () => ({ id: randomUUID(), walletId: randomUUID(), plaintext: randomBytes(48) }));
        const cts = await withRetry(() => encryptMany(ep, KEY, fresh.map((f) => ({ plaintext: f.plaintext }))));
        // One backend instance lags behind and still encrypts on v1: its records land behind the campaign's
        // cursor, so the campaign needs further passes (and cannot finish while this goes on).
        if (!stopLagging) {
          const lagging = { id: randomUUID(), walletId: randomUUID(), plaintext: randomBytes(48) };
          const [ct] = await withRetry(() => encryptMany(ep, KEY, [{ plaintext: lagging.plaintext }], 1));
          fresh.push(lagging);
          cts.push(ct!);
        }
        for (const [i, f] of fresh.entries()) {
          await db.execute(sql`insert into server_wallet_key_shares (id, wallet_id, account_address, encrypted_key_shares, encryption_key_id)
            values (${f.id}, ${f.walletId}, ${`0x${randomBytes(20).toString("hex")}`}, convert_to(${cts[i]!}, 'UTF8'), ${KEY})`);
          expected.set(f.id, { plaintext: f.plaintext, walletId: f.walletId });
          stats.inserted += 1;
        }
        const all = ids();
        for (let i = 0; i < 15; i++) {
          const id = all[Math.floor(Math.random() * all.length)]!;
          await db.execute(sql`update server_wallet_key_shares set access_count = coalesce(access_count, 0) + 1, last_accessed_at = now() at time zone 'UTC' where id = ${id}`);
          accesses.set(id, (accesses.get(id) ?? 0) + 1);
          stats.accessUpdates += 1;
        }
        // Rewrite a direct-layout record with a new share (as a backend re-sharing a wallet would): one at
        // random, and one inside a range a worker holds right now — picked and written in one statement, so
        // the write lands between that batch's claim and its write-back.
        const victim = all[Math.floor(Math.random() * all.length)]!;
        const [row] = rowsOf<{ ct: string }>(await db.execute(sql`select convert_from(encrypted_key_shares, 'UTF8') as ct from server_wallet_key_shares where id = ${victim}`));
        const [p1, p2] = [randomBytes(48), randomBytes(48)];
        const [ct1] = await withRetry(() => encryptMany(ep, KEY, [{ plaintext: p1 }]));
        // The in-flight rewrite comes from the lagging instance (v1) while it runs: then only the row_version
        // compare-and-swap, not the version check, stands between the batch and the backend's newer share.
        const [ct2] = await withRetry(() => encryptMany(ep, KEY, [{ plaintext: p2 }], stopLagging ? undefined : 1));
        if (row?.ct.startsWith("vault:")) {
          await db.execute(sql`update server_wallet_key_shares set encrypted_key_shares = convert_to(${ct1!}, 'UTF8') where id = ${victim}`);
          expected.set(victim, { plaintext: p1, walletId: expected.get(victim)!.walletId });
          stats.rewritten += 1;
        }
        const [hit] = rowsOf<{ id: string }>(
          await db.execute(sql`
            update server_wallet_key_shares set encrypted_key_shares = convert_to(${ct2!}, 'UTF8')
            where id = (
              select s.id from rewrap_leases l
              join server_wallet_key_shares s on s.encryption_key_id = ${KEY}
                and (s.key_version, s.id) between (l.lo_version, l.lo_id) and (l.hi_version, l.hi_id)
              where l.expires_at > now() and s.key_version < 3
                and substring(s.encrypted_key_shares from 1 for 6) = convert_to('vault:', 'UTF8')
              order by random() limit 1)
              -- re-checked on the newest row version: a batch that committed first has moved it to v3
              and key_version < 3
            returning id`),
        );
        if (hit) {
          expected.set(hit.id, { plaintext: p2, walletId: expected.get(hit.id)!.walletId });
          stats.rewritten += 1;
        }
        await sleep(150);
      }
    })();

    // Connections of workers terminated mid-work.
    const terminator = (async () => {
      while (!stop && !stopLagging && stats.terminated < 8) {
        await sleep(50);
        const r = rowsOf<{ ok: boolean }>(
          await db.execute(sql`
            select pg_terminate_backend(pid) as ok from pg_stat_activity
            where application_name = 'ks-torture-worker' and datname = current_database()
              and state in ('active', 'idle in transaction')
            order by random() limit 1`),
        );
        if (r[0]?.ok) {
          stats.terminated += 1;
          await sleep(1500 + Math.random() * 1000);
        }
      }
    })();

    // The killers: 2–4 slots, each running one worker at a time and SIGKILLing it when it reaches the phase
    // chosen for it (round robin over the phases, so each phase gets its share); a replacement starts at once.
    let spawned = 0;
    const trace: string[] = [];
    const kills: Record<string, number> = Object.fromEntries(KILL_PHASES.map((p) => [p, 0]));
    let totalKills = 0;
    let idleKills = 0;
    let choice = 0;
    const slot = async (index: number) => {
      while (totalKills < KILL_TARGET) {
        const victim = spawnWorker(spawned++);
        while (!victim.ready && workers.has(victim)) await sleep(50);
        // Slot 3 sits out now and then, so the number of workers alive moves between 2 and 4.
        if (index === 3 && Math.random() < 0.5) await sleep(1500);
        const phase = KILL_PHASES[choice++ % KILL_PHASES.length]!;
        let reached: boolean;
        if (phase === "random") {
          await sleep(50 + Math.random() * 600);
          reached = true;
          victim.proc.kill("SIGKILL");
        } else {
          reached = await killAt(victim, phase, 8000);
          if (!reached) victim.proc.kill("SIGKILL");
        }
        const exit = await victim.exited;
        trace.push(`${phase}:${reached ? "k" : "-"}@${Math.round(performance.now() / 100) / 10}`);
        if (exit.signal !== "SIGKILL") continue;
        if (reached) kills[phase]! += 1;
        else idleKills += 1;
        totalKills += 1;
        if (totalKills >= 12 && stats.rotatedAt < 0) {
          stats.rotatedAt = totalKills;
          await withRetry(() => rotateKey(ep, KEY));
        }
      }
    };
    const chaosStarted = Date.now();
    await Promise.all([0, 1, 2, 3].map(slot));
    const chaosEnded = Date.now();
    // The backend stops writing on old versions now; until here the campaign could not finish.
    stopLagging = true;
    if (totalKills < 25) {
      stop = true;
      await Promise.all([backend, terminator]);
      const st = await getCampaignStatus(db, campaign.id, {});
      throw new Error(`only ${totalKills} kills (${JSON.stringify(kills)}); campaign ${st.state} ${st.rewrapped}/${st.recordsAtStart}; trace ${trace.join(" ")}`);
    }

    // Let the survivors finish with no manual step.
    while (workers.size < 2) spawnWorker(spawned++);
    const deadline = Date.now() + 120_000;
    let state = "";
    while (Date.now() < deadline) {
      state = (await getCampaignStatus(db, campaign.id, {})).state;
      if (state === "completed" || state === "paused" || state === "failed") break;
      await sleep(300);
    }
    stop = true;
    done = true;
    await Promise.all([backend, terminator]);
    transit.setFaults({});
    const survivors = [...workers];
    for (const w of survivors) w.proc.kill("SIGTERM");
    const exits = await Promise.all(survivors.map((w) => w.exited));
    await db.execute(sql.raw(`drop trigger torture_refuse_audit on audit_events`));

    const status = await getCampaignStatus(db, campaign.id, {});
    const [refusals] = rowsOf<{ n: string | number }>(await db.execute(sql.raw(`select case when is_called then last_value else 0 end as n from torture_audit_refusals`)));
    console.log(
      `torture: kills ${JSON.stringify(kills)} (${totalKills}, ${idleKills} before any phase), workers spawned ${spawned}, connections terminated ${stats.terminated}, ` +
        `audit refusals ${Number(refusals!.n)}, backend inserted ${stats.inserted} rewrote ${stats.rewritten} signed ${stats.accessUpdates} (fault retries ${stats.backendErrors}), ` +
        `rotated after kill ${stats.rotatedAt}, chaos ${Math.round((chaosEnded - chaosStarted) / 1000)} s, finish ${Math.round((Date.now() - chaosEnded) / 1000)} s; campaign ${status.state}: rewrapped ${status.rewrapped}, skipped ${status.skippedConflict}, ` +
        `batches ${status.batches}, failed calls ${status.failedCalls}, item failures ${status.itemFailures}, passes ${status.pass}`,
    );
    expect(done).toBe(true);
    if (state !== "completed") {
      throw new Error(`campaign ${state} after the chaos; worker log tail:\n${logs.split("\n").filter((l) => !l.startsWith("PHASE")).slice(-40).join("\n")}`);
    }
    expect(exits.every((e) => e.code === 0)).toBe(true);
    expect(stats.terminated).toBeGreaterThanOrEqual(3);
    expect(Number(refusals!.n)).toBeGreaterThan(0);
    expect(stats.rotatedAt).toBeGreaterThan(0);
    for (const p of KILL_PHASES) expect(kills[p]).toBeGreaterThanOrEqual(3);

    // 0 records lost or corrupted, 0 newer ciphertexts overwritten: every record decrypts to what it should.
    const rows = rowsOf<{ id: string; wallet_id: string; encrypted_key_shares: Uint8Array; key_version: number; access_count: number | null }>(
      await db.execute(sql`select id, wallet_id, encrypted_key_shares, key_version, access_count from server_wallet_key_shares where encryption_key_id = ${KEY}`),
    );
    expect(rows.length).toBe(expected.size);
    const plain = await openRecords(ep, KEY, rows.map((r) => ({ stored: r.encrypted_key_shares, walletId: r.wallet_id })));
    let mismatches = 0;
    let lostAccess = 0;
    for (const [i, r] of rows.entries()) {
      if (!plain[i]!.equals(expected.get(r.id)!.plaintext)) mismatches += 1;
      if ((r.access_count ?? 0) !== (accesses.get(r.id) ?? 0)) lostAccess += 1;
      expect(r.key_version).toBeGreaterThanOrEqual(3);
    }
    expect(mismatches).toBe(0);
    expect(lostAccess).toBe(0);
    // The backend rewrote records inside ranges in flight: some batches lost the compare-and-swap.
    expect(status.skippedConflict).toBeGreaterThan(0);


    // Counters equal a fresh count; one audit event per committed batch.
    const [fresh] = rowsOf<{ rewrapped: string | number; below: string | number }>(
      await db.execute(sql`select
        (select count(*) from server_wallet_key_shares where rewrap_campaign_id = ${campaign.id}) as rewrapped,
        (select count(*) from server_wallet_key_shares where encryption_key_id = ${KEY} and key_version < 3) as below`),
    );
    expect(Number(fresh!.below)).toBe(0);
    expect(status.remaining).toBe(0);
    expect(status.rewrapped).toBe(Number(fresh!.rewrapped));
    const [ev] = rowsOf<{ n: string | number; rewrapped: string | number }>(
      await db.execute(sql`select count(*) as n, coalesce(sum((details ->> 'rewrapped')::int), 0) as rewrapped
        from audit_events where action = 'campaign.batch' and outcome = 'success' and target_id = ${campaign.id}`),
    );
    expect(Number(ev!.n)).toBe(status.batches);
    expect(Number(ev!.rewrapped)).toBe(status.rewrapped);
    expect((await verifyAuditChain(db)).ok).toBe(true);

    // The census counters and the inventory read table equal a rebuild.
    const census = async () =>
      rowsOf<{ k: string }>(
        await db.execute(sql`select string_agg(x::text, ';' order by x::text) as k from (
          select encryption_key_id, key_version, environment, layout, sum(records) as n from share_census group by 1, 2, 3, 4 having sum(records) <> 0) x`),
      )[0]?.k;
    const freshCensus = rowsOf<{ k: string }>(
      await db.execute(sql`select string_agg(x::text, ';' order by x::text) as k from (
        select encryption_key_id, coalesce(key_version, 0) as key_version, coalesce(environment, '') as environment, coalesce(layout, '') as layout, count(*) as n
        from server_wallet_key_shares group by 1, 2, 3, 4) x`),
    )[0]?.k;
    expect(await census()).toBe(freshCensus);
    const risk = async () =>
      rowsOf<{ k: string }>(
        await db.execute(sql`select concat_ws(',', sum(wallets), sum(missing_backup_info), sum(two_of_two_not_backed_up), sum(cannot_sign), sum(shares_without_properties)) as k from wallet_risk_counters`),
      )[0]?.k;
    const inventory = async () =>
      rowsOf<{ k: string }>(await db.execute(sql`select md5(string_agg(i::text, '|' order by i.id)) as k from inventory_wallets i`))[0]?.k;
    const [riskBefore, invBefore] = [await risk(), await inventory()];
    await db.execute(sql`select keyshare_rebuild_counters()`);
    await db.execute(sql`select keyshare_inventory_rebuild()`);
    expect(await risk()).toBe(riskBefore);
    expect(await inventory()).toBe(invBefore);

    // Nothing any worker printed holds a ciphertext or a plaintext share.
    expect(logs).not.toMatch(/vault:v[0-9]+:/);
    for (const { plaintext } of [...expected.values()].slice(0, 300)) {
      expect(logs).not.toContain(plaintext.toString("base64"));
      expect(logs).not.toContain(plaintext.toString("hex"));
    }
  }, 300_000);
});
