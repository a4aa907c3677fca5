import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { rowsOf, type Db } from "@/lib/db/client";
import { testBackends, type TestDb } from "@/lib/db/testing";
import { getRiskCounters, listCensus, listCensusByKey, rebuildCounters, type CensusRow, type RiskCounters } from "./census";

/**
 * The maintained counters must equal a fresh count after anything a backend or the console may do to the
 * source tables: raw-SQL inserts with only the original columns, bulk inserts, updates that change the key
 * version (re-wrap) or the address, deletes, WalletProperties changes, TRUNCATE.
 */

async function freshCensus(db: Db): Promise<CensusRow[]> {
  const rows = rowsOf<{ k: string; v: number | null; e: string | null; l: string | null; n: string | number }>(
    await db.execute(sql`
      select encryption_key_id as k, key_version as v, environment as e, layout as l, count(*) as n
      from server_wallet_key_shares group by 1, 2, 3, 4
      order by 1, coalesce(key_version, 0), coalesce(environment, ''), coalesce(layout, '')
    `),
  );
  return rows.map((r) => ({
    keyName: r.k,
    keyVersion: r.v,
    environment: r.e,
    layout: r.l === "direct" || r.l === "envelope" ? r.l : null,
    records: Number(r.n),
  }));
}

async function freshRisk(db: Db): Promise<RiskCounters> {
  const [r] = rowsOf<Record<string, string | number>>(
    await db.execute(sql`select
      (select count(*) from wallet_properties) as wallets,
      (select count(*) from wallet_properties where not has_backup_info) as missing,
      (select count(*) from wallet_properties where threshold_signature_scheme = 'TWO_OF_TWO' and not backed_up_anywhere) as t22,
      (select count(*) from wallet_properties p where not backed_up_anywhere
         and not exists (select 1 from server_wallet_key_shares s where s.account_address = p.account_address)) as cannot,
      (select count(*) from server_wallet_key_shares s
         where not exists (select 1 from wallet_properties p where p.account_address = s.account_address)) as orphan`),
  );
  return {
    wallets: Number(r!.wallets),
    missingBackupInfo: Number(r!.missing),
    twoOfTwoNotBackedUp: Number(r!.t22),
    cannotSign: Number(r!.cannot),
    sharesWithoutProperties: Number(r!.orphan),
  };
}

async function expectCountersFresh(db: Db, label: string) {
  expect(await listCensus(db), `census after ${label}`).toEqual(await freshCensus(db));
  expect(await getRiskCounters(db), `risk after ${label}`).toEqual(await freshRisk(db));
}

/** A share row as an external backend writes it: original columns only, Transit ciphertext as bytes. */
function insertShares(db: Db, rows: { addr: string; key: string; version: number; envelope?: boolean; env?: string | null }[]) {
  const json = JSON.stringify(
    rows.map((r) => ({
      addr: r.addr,
      key: r.key,
      ct: r.envelope
        ? `{"v":1,"wrapped_key":"vault:v${r.version}:QUJD","iv":"AAAA","ciphertext":"QQ==","tag":"QQ=="}`
        : `vault:v${r.version}:QUJDRA==`,
      env: r.env ?? null,
    })),
  );
  return db.execute(sql`
    insert into server_wallet_key_shares (id, wallet_id, account_address, encrypted_key_shares, encryption_key_id, environment)
    select gen_random_uuid(), 'w-' || x.addr, x.addr, convert_to(x.ct, 'UTF8'), x.key, x.env
    from json_to_recordset(${json}::json) as x(addr text, key text, ct text, env text)
  `);
}

function insertProps(db: Db, rows: { addr: string; scheme?: string; backup: "none" | "missing" | "yes" }[]) {
  const json = JSON.stringify(
    rows.map((r) => ({
      addr: r.addr,
      scheme: r.scheme ?? "TWO_OF_TWO",
      hbi: r.backup !== "missing",
      bua: r.backup === "yes",
    })),
  );
  return db.execute(sql`
    insert into wallet_properties (wallet_id, account_address, chain_name, threshold_signature_scheme, has_backup_info,
                                   backed_up_anywhere, source)
    select 'w-' || x.addr, x.addr, 'EVM', x.scheme, x.hbi, x.bua, 'ingest'
    from json_to_recordset(${json}::json) as x(addr text, scheme text, hbi boolean, bua boolean)
  `);
}

/** Small deterministic PRNG so a failure is reproducible. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe.each(testBackends())("maintained counters on $name", (backend) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await backend.create();
  });
  afterAll(() => t?.close());
  beforeEach(async () => {
    await t.db.execute(sql`truncate server_wallet_key_shares`);
    await t.db.execute(sql`truncate wallet_properties`);
  });

  it("starts at zero with 64 risk buckets", async () => {
    expect(await listCensus(t.db)).toEqual([]);
    expect(await getRiskCounters(t.db)).toEqual({
      wallets: 0,
      missingBackupInfo: 0,
      twoOfTwoNotBackedUp: 0,
      cannotSign: 0,
      sharesWithoutProperties: 0,
    });
    const [b] = rowsOf<{ n: number | string }>(await t.db.execute(sql`select count(*) as n from wallet_risk_counters`));
    expect(Number(b!.n)).toBe(64);
  });

  it("counts raw inserts with only the original columns, by key, version, environment and layout", async () => {
    await t.db.execute(sql`
      insert into server_wallet_key_shares (id, wallet_id, account_address, encrypted_key_shares, encryption_key_id)
      values (gen_random_uuid(), 'w1', 'a1', convert_to('vault:v3:QUJD', 'UTF8'), 'k1'),
             (gen_random_uuid(), 'w2', 'a2', convert_to('vault:v3:QUJD', 'UTF8'), 'k1'),
             (gen_random_uuid(), 'w3', 'a3', convert_to('{"v":1,"wrapped_key":"vault:v1:QUJD"}', 'UTF8'), 'k1'),
             (gen_random_uuid(), 'w4', 'a4', '\\x00ff'::bytea, 'k2')
    `);
    await insertShares(t.db, [{ addr: "a5", key: "k1", version: 3, env: "prod" }]);
    expect(await listCensusByKey(t.db, "k1")).toEqual([
      { keyName: "k1", keyVersion: 1, environment: null, layout: "envelope", records: 1 },
      { keyName: "k1", keyVersion: 3, environment: null, layout: "direct", records: 2 },
      { keyName: "k1", keyVersion: 3, environment: "prod", layout: "direct", records: 1 },
    ]);
    expect(await listCensusByKey(t.db, "k2")).toEqual([{ keyName: "k2", keyVersion: null, environment: null, layout: null, records: 1 }]);
    expect((await getRiskCounters(t.db)).sharesWithoutProperties).toBe(5);
    await expectCountersFresh(t.db, "raw inserts");
  });

  it("follows re-wraps (version change), address changes, bookkeeping updates and deletes", async () => {
    await insertProps(t.db, [
      { addr: "a1", backup: "none" },
      { addr: "a2", backup: "missing", scheme: "TWO_OF_THREE" },
      { addr: "a3", backup: "yes" },
    ]);
    let risk = await getRiskCounters(t.db);
    expect(risk).toMatchObject({ wallets: 3, missingBackupInfo: 1, twoOfTwoNotBackedUp: 1, cannotSign: 2, sharesWithoutProperties: 0 });

    await insertShares(t.db, [
      { addr: "a1", key: "k", version: 1 },
      { addr: "a1", key: "k", version: 1 },
      { addr: "a9", key: "k", version: 1, envelope: true },
    ]);
    risk = await getRiskCounters(t.db);
    expect(risk).toMatchObject({ cannotSign: 1, sharesWithoutProperties: 1 });
    await expectCountersFresh(t.db, "inserts");

    // Re-wrap: the ciphertext changes, the trigger derives the new version, the census moves.
    await t.db.execute(sql`update server_wallet_key_shares set encrypted_key_shares = convert_to('vault:v2:WFla', 'UTF8') where account_address = 'a1'`);
    expect(await listCensusByKey(t.db, "k")).toEqual([
      { keyName: "k", keyVersion: 1, environment: null, layout: "envelope", records: 1 },
      { keyName: "k", keyVersion: 2, environment: null, layout: "direct", records: 2 },
    ]);
    // The backend's access bookkeeping: nothing counted changes.
    await t.db.execute(sql`update server_wallet_key_shares set last_accessed_at = now(), access_count = access_count + 1`);
    await expectCountersFresh(t.db, "re-wrap and bookkeeping");

    // The orphan share gets its WalletProperties; a1 loses one of its two shares, then the other.
    await insertProps(t.db, [{ addr: "a9", backup: "none" }]);
    await t.db.execute(sql`update server_wallet_key_shares set account_address = 'a2' where id = (select id from server_wallet_key_shares where account_address = 'a1' limit 1)`);
    await expectCountersFresh(t.db, "address change");
    await t.db.execute(sql`delete from server_wallet_key_shares where account_address = 'a1'`);
    expect((await getRiskCounters(t.db)).cannotSign).toBe(1);
    await t.db.execute(sql`update wallet_properties set backed_up_anywhere = true, has_backup_info = true where account_address = 'a1'`);
    await t.db.execute(sql`delete from wallet_properties where account_address = 'a9'`);
    await expectCountersFresh(t.db, "deletes");
  });

  it("stays equal to a fresh count through random inserts, updates and deletes (bulk and single)", async () => {
    const rand = rng(4242);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const addrs = Array.from({ length: 120 }, (_, i) => `0xA${i}`);
    const keys = ["ka", "kb", "kc"];
    for (let step = 0; step < 40; step++) {
      const op = Math.floor(rand() * 9);
      const label = `step ${step} op ${op}`;
      switch (op) {
        case 0:
          await insertShares(
            t.db,
            Array.from({ length: 1 + Math.floor(rand() * 30) }, () => ({
              addr: pick(addrs),
              key: pick(keys),
              version: 1 + Math.floor(rand() * 4),
              envelope: rand() < 0.3,
              env: rand() < 0.2 ? pick(["prod", "staging"]) : null,
            })),
          );
          break;
        case 1: {
          const fresh = addrs.filter(() => rand() < 0.15);
          const existing = new Set(
            rowsOf<{ a: string }>(await t.db.execute(sql`select account_address as a from wallet_properties`)).map((r) => r.a),
          );
          const rows = fresh.filter((a) => !existing.has(a)).map((a) => ({
            addr: a,
            scheme: rand() < 0.6 ? "TWO_OF_TWO" : "TWO_OF_THREE",
            backup: pick(["none", "missing", "yes"] as const),
          }));
          if (rows.length) await insertProps(t.db, rows);
          break;
        }
        case 2:
          await t.db.execute(sql`
            update server_wallet_key_shares
            set encrypted_key_shares = convert_to('vault:v' || (1 + floor(random() * 5))::int || ':TkVX', 'UTF8')
            where random() < 0.3`);
          break;
        case 3:
          await t.db.execute(sql`delete from server_wallet_key_shares where random() < 0.1`);
          break;
        case 4:
          await t.db.execute(sql`
            update wallet_properties set backed_up_anywhere = not backed_up_anywhere, has_backup_info = true
            where random() < 0.3`);
          break;
        case 5:
          await t.db.execute(sql`delete from wallet_properties where random() < 0.1`);
          break;
        case 6:
          await t.db.execute(sql`
            update server_wallet_key_shares set account_address = ${pick(addrs)}, environment = 'dev'
            where id in (select id from server_wallet_key_shares order by random() limit 3)`);
          break;
        case 7:
          // Bulk, set-based: a backend import.
          await t.db.execute(sql`
            insert into server_wallet_key_shares (id, wallet_id, account_address, encrypted_key_shares, encryption_key_id)
            select gen_random_uuid(), 'bulk', '0xA' || (g % 150), convert_to('vault:v' || (1 + g % 3) || ':QUJD', 'UTF8'), 'kbulk'
            from generate_series(1, 500) as g`);
          break;
        case 8:
          await t.db.execute(sql`update server_wallet_key_shares set last_accessed_at = now() where random() < 0.5`);
          break;
      }
      await expectCountersFresh(t.db, label);
    }
    const census = await listCensus(t.db);
    expect(census.reduce((s, c) => s + c.records, 0)).toBeGreaterThan(0);
  });

  it("counts upserts (INSERT … ON CONFLICT DO UPDATE, as the Redis sync writes) once", async () => {
    await insertShares(t.db, [{ addr: "u1", key: "ku", version: 1 }]);
    await insertProps(t.db, [{ addr: "u1", backup: "none" }]);
    await t.db.execute(sql`
      insert into wallet_properties (wallet_id, account_address, chain_name, threshold_signature_scheme, has_backup_info, backed_up_anywhere, source)
      values ('w-u1', 'u1', 'EVM', 'TWO_OF_TWO', true, true, 'redis'), ('w-u2', 'u2', 'EVM', 'TWO_OF_TWO', false, false, 'redis')
      on conflict (account_address) do update set backed_up_anywhere = excluded.backed_up_anywhere, has_backup_info = excluded.has_backup_info`);
    expect(await getRiskCounters(t.db)).toMatchObject({ wallets: 2, missingBackupInfo: 1, twoOfTwoNotBackedUp: 1, cannotSign: 1 });
    await expectCountersFresh(t.db, "upsert");
  });

  it("rebuild recounts after the triggers were bypassed, and TRUNCATE resets", async () => {
    await insertProps(t.db, [{ addr: "r1", backup: "none" }]);
    await insertShares(t.db, [{ addr: "r2", key: "kr", version: 2 }]);
    // Simulate drift (a trigger disabled by an operator, a restore without the counters).
    await t.db.execute(sql`update share_census set records = records + 5 where true`);
    await t.db.execute(sql`update wallet_risk_counters set cannot_sign = cannot_sign + 1 where bucket = 0`);
    expect(await listCensus(t.db)).not.toEqual(await freshCensus(t.db));
    await rebuildCounters(t.db);
    await expectCountersFresh(t.db, "rebuild");
    await t.db.execute(sql`truncate server_wallet_key_shares`);
    expect(await listCensus(t.db)).toEqual([]);
    await expectCountersFresh(t.db, "truncate");
  });

  it.runIf(backend.name === "postgres")("serialises a share insert and a WalletProperties insert racing on one wallet", async () => {
    const a = postgres(t.url!, { max: 1, onnotice: () => {} });
    const b = postgres(t.url!, { max: 1, onnotice: () => {} });
    try {
      for (let i = 0; i < 5; i++) {
        const addr = `race-${i}`;
        // A inserts the share and holds its transaction open; B inserts the WalletProperties meanwhile.
        let releaseA!: () => void;
        const aHeld = new Promise<void>((r) => (releaseA = r));
        let aInserted!: () => void;
        const aReady = new Promise<void>((r) => (aInserted = r));
        const txA = a.begin(async (tx) => {
          await tx`insert into server_wallet_key_shares (id, wallet_id, account_address, encrypted_key_shares, encryption_key_id)
                   values (gen_random_uuid(), ${addr}, ${addr}, convert_to('vault:v1:QUJD', 'UTF8'), 'krace')`;
          aInserted();
          await aHeld;
        });
        await aReady;
        const txB = b.begin(async (tx) => {
          await tx`insert into wallet_properties (wallet_id, account_address, chain_name, threshold_signature_scheme, has_backup_info, backed_up_anywhere, source)
                   values (${addr}, ${addr}, 'EVM', 'TWO_OF_TWO', true, false, 'ingest')`;
        });
        await new Promise((r) => setTimeout(r, 50));
        releaseA();
        await Promise.all([txA, txB]);
      }
      await expectCountersFresh(t.db, "races");
    } finally {
      await a.end({ timeout: 5 });
      await b.end({ timeout: 5 });
    }
  });
});
