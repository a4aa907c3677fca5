import { randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAuditEvent, verifyAuditChain } from "@/lib/audit";
import { tablesContaining } from "@/test/db-text-scan";
import { rowsOf } from "./client";
import { migrate } from "./migrate";
import { testBackends, type TestDb } from "./testing";

/**
 * Migration 0013 (security hardening) in the database itself: functions immune to the caller's search_path,
 * the inventory deferral reserved to the tables' owner, backup entries of existing rows reduced to counts.
 */

const PINNED = "search_path=pg_catalog, public, pg_temp";

/** Every function migrations 0000–0012 created (0013 replaces them all). */
const FUNCTIONS = [
  "keyshare_address_key(text)",
  "keyshare_audit_head_forward()",
  "keyshare_audit_link()",
  "keyshare_ciphertext_fingerprint(bytea)",
  "keyshare_counters_truncated()",
  "keyshare_epoch_us(timestamp with time zone)",
  "keyshare_epoch_us(timestamp without time zone)",
  "keyshare_inventory_desired(text[])",
  "keyshare_inventory_lock(text[])",
  "keyshare_inventory_on_write()",
  "keyshare_inventory_rebuild()",
  "keyshare_inventory_refresh(text[])",
  "keyshare_inventory_shares_upd()",
  "keyshare_inventory_truncated()",
  "keyshare_rebuild_counters()",
  "keyshare_refuse_change()",
  "keyshare_risk_bucket(text)",
  "keyshare_share_meta(bytea)",
  "keyshare_shares_counters_del()",
  "keyshare_shares_counters_ins()",
  "keyshare_shares_counters_upd()",
  "keyshare_shares_derive()",
  "keyshare_wallet_properties_counters_del()",
  "keyshare_wallet_properties_counters_ins()",
  "keyshare_wallet_properties_counters_upd()",
];

const evm = () => `0x${randomBytes(20).toString("hex")}`;

describe.each(testBackends())("database hardening (migration 0013) on $name", (backend) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await backend.create();
  });
  afterAll(() => t?.close());

  const inventoryOf = async (addr: string) =>
    rowsOf<{ share_id: string | null; no_properties: boolean; no_share: boolean; chain_name: string | null }>(
      await t.db.execute(sql`select share_id, no_properties, no_share, chain_name from inventory_wallets where account_address = ${addr} order by share_id nulls first`),
    );
  const riskFresh = async () => {
    const [r] = rowsOf<Record<string, string | number>>(
      await t.db.execute(sql`select
        (select sum(cannot_sign) from wallet_risk_counters) as counted,
        (select count(*) from wallet_properties p where not backed_up_anywhere
           and not exists (select 1 from server_wallet_key_shares s where s.account_address = p.account_address)) as fresh`),
    );
    return { counted: Number(r!.counted), fresh: Number(r!.fresh) };
  };

  it("every function in schema public is pinned to a search_path or has a body bound at creation", async () => {
    const fns = rowsOf<{ fn: string; lang: string; config: string[] | null; preparsed: boolean }>(
      await t.db.execute(sql`
        select p.oid::regprocedure::text as fn, l.lanname as lang, p.proconfig as config, p.prosqlbody is not null as preparsed
        from pg_catalog.pg_proc as p
        join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
        join pg_catalog.pg_language as l on l.oid = p.prolang
        where n.nspname = 'public'
        order by 1`),
    );
    expect(fns.map((f) => f.fn)).toEqual(expect.arrayContaining(FUNCTIONS));
    // PL/pgSQL: SET search_path. SQL: a SQL-standard body, parsed (names bound) when created, and inlinable.
    const unsafe = fns.filter((f) => !(f.config ?? []).includes(PINNED) && !(f.lang === "sql" && f.preparsed));
    expect(unsafe).toEqual([]);
    for (const f of fns.filter((x) => x.lang === "plpgsql")) expect(f.config, f.fn).toContain(PINNED);
  });

  it("the console's own deferred insert (the tables' owner) still waits for its explicit refresh", async () => {
    const addr = evm();
    await t.db.transaction(async (tx) => {
      await tx.execute(sql`set local keyshare.inventory_deferred = 'on'`);
      await tx.execute(sql`insert into wallet_properties (wallet_id, account_address, chain_name, threshold_signature_scheme, source)
                           values ('w-owner', ${addr}, 'EVM', 'TWO_OF_TWO', 'seed')`);
      expect(rowsOf(await tx.execute(sql`select 1 from inventory_wallets where account_address = ${addr}`))).toEqual([]);
      await tx.execute(sql`select keyshare_inventory_refresh(array[${addr}]::text[])`);
    });
    expect(await inventoryOf(addr)).toMatchObject([{ no_share: true, chain_name: "EVM" }]);
  });

  // PGlite has one role and one session: a second login role and a fresh session need PostgreSQL.
  describe.runIf(backend.name === "postgres")("as a second login role, a backend's (PostgreSQL only)", () => {
    const role = `ks_writer_${randomBytes(4).toString("hex")}`;
    const connect = () => {
      const url = new URL(t.url!);
      url.username = role;
      return postgres(url.toString(), { max: 1, onnotice: () => {} });
    };

    beforeAll(async () => {
      await t.db.execute(sql.raw(`create role ${role} login`));
      await t.db.execute(sql.raw(`grant select, insert on server_wallet_key_shares, wallet_properties, audit_events to ${role}`));
      // The maintenance triggers run as the role that fired them and write these.
      await t.db.execute(sql.raw(`grant select, insert, update, delete on inventory_wallets, share_census, wallet_risk_counters to ${role}`));
      await t.db.execute(sql.raw(`grant select, update on audit_chain_head to ${role}`));
    });
    afterAll(async () => {
      await t.db.execute(sql.raw(`drop owned by ${role}`));
      await t.db.execute(sql.raw(`drop role ${role}`));
    });

    it("cannot hide its wallets from the inventory with keyshare.inventory_deferred", async () => {
      const addr = evm();
      const w = connect();
      try {
        await w.begin(async (tx) => {
          await tx`set local keyshare.inventory_deferred = 'on'`;
          await tx`insert into wallet_properties (wallet_id, account_address, chain_name, threshold_signature_scheme, source)
                   values ('w-hidden', ${addr}, 'EVM', 'TWO_OF_TWO', 'ingest')`;
          await tx`insert into server_wallet_key_shares (id, wallet_id, account_address, encrypted_key_shares, encryption_key_id)
                   values (gen_random_uuid(), 'w-hidden', ${addr}, convert_to('vault:v1:QUJD', 'UTF8'), 'k1')`;
        });
      } finally {
        await w.end({ timeout: 5 });
      }
      expect(await inventoryOf(addr)).toMatchObject([{ no_properties: false, no_share: false, chain_name: "EVM" }]);
    });

    it("a temporary table named like a table the triggers touch changes nothing they do", async () => {
      const addr = evm();
      // Not backed up and no share yet: counted as "cannot sign" until its share arrives.
      await t.db.execute(sql`insert into wallet_properties (wallet_id, account_address, chain_name, threshold_signature_scheme, source)
                             values ('w-shadow', ${addr}, 'SVM', 'TWO_OF_TWO', 'ingest')`);
      const censusBefore = rowsOf<{ n: string | number | null }>(
        await t.db.execute(sql`select sum(records) as n from share_census where encryption_key_id = 'k-shadow'`),
      )[0]?.n;
      expect(Number(censusBefore ?? 0)).toBe(0);

      // A fresh session (no cached trigger plans) shadows every table the share triggers read or write.
      const w = connect();
      try {
        await w.begin(async (tx) => {
          for (const table of ["wallet_properties", "server_wallet_key_shares", "inventory_wallets", "share_census", "wallet_risk_counters"]) {
            await tx.unsafe(`create temp table ${table} (like public.${table} including all) on commit drop`);
          }
          await tx`insert into public.server_wallet_key_shares (id, wallet_id, account_address, encrypted_key_shares, encryption_key_id)
                   values (gen_random_uuid(), 'w-shadow', ${addr}, convert_to('vault:v4:QUJD', 'UTF8'), 'k-shadow')`;
        });
      } finally {
        await w.end({ timeout: 5 });
      }
      // The share row replaced the properties-only row, with the properties' columns.
      const inventory = await inventoryOf(addr);
      expect(inventory).toMatchObject([{ no_properties: false, no_share: false, chain_name: "SVM" }]);
      expect(inventory[0]?.share_id).not.toBeNull();
      expect(
        rowsOf(await t.db.execute(sql`select key_version, layout, sum(records)::int as n from share_census where encryption_key_id = 'k-shadow' group by 1, 2`)),
      ).toEqual([{ key_version: 4, layout: "direct", n: 1 }]);
      const risk = await riskFresh();
      expect(risk.counted).toBe(risk.fresh);
    });

    it("a temporary audit_chain_head cannot make the audit trigger accept a forged event", async () => {
      await recordAuditEvent(t.db, { actor: { type: "service", userId: "test" }, action: "test.before" });
      const forged = "f".repeat(64);
      const w = connect();
      try {
        await expect(
          w.begin(async (tx) => {
            await tx`create temp table audit_chain_head (id smallint primary key, last_seq bigint not null, last_hash varchar(64) not null) on commit drop`;
            await tx`insert into audit_chain_head values (1, 999999, ${forged})`;
            await tx`insert into public.audit_events (seq, occurred_at, actor_type, action, outcome, details, prev_hash, hash)
                     values (1000000, now(), 'service', 'forged.event', 'success', '{}', ${forged}, ${forged})`;
          }),
        ).rejects.toThrow(/audit chain fork refused/);
      } finally {
        await w.end({ timeout: 5 });
      }
      expect(rowsOf(await t.db.execute(sql`select 1 from audit_events where action = 'forged.event'`))).toEqual([]);
      expect((await verifyAuditChain(t.db)).ok).toBe(true);
    });
  });
});

describe.each(testBackends())("migration 0013 on a database with data on $name", (backend) => {
  let t: TestDb;
  let upTo0012: string;
  /** 0013 and whatever migrations came after it. */
  let fromThe0013 = 0;
  beforeAll(async () => {
    t = await backend.create({ migrate: false });
    // The shipped migrations without 0013.
    upTo0012 = mkdtempSync(path.join(tmpdir(), "ks-migrations-"));
    cpSync(path.resolve("drizzle"), upTo0012, { recursive: true });
    const journalPath = path.join(upTo0012, "meta", "_journal.json");
    const journal = JSON.parse(readFileSync(journalPath, "utf8")) as { entries: { idx: number; tag: string }[] };
    for (const e of journal.entries.filter((x) => x.idx >= 13)) rmSync(path.join(upTo0012, `${e.tag}.sql`));
    fromThe0013 = journal.entries.filter((x) => x.idx >= 13).length;
    journal.entries = journal.entries.filter((x) => x.idx < 13);
    writeFileSync(journalPath, JSON.stringify(journal));
  });
  afterAll(async () => {
    rmSync(upTo0012, { recursive: true, force: true });
    await t?.close();
  });

  it("reduces the backup entries already stored to counts per location, keeps every derived figure", async () => {
    await migrate(t.db, { migrationsFolder: upTo0012 });
    const marker = `BACKUP-ENTRY-${randomBytes(12).toString("hex")}`;
    // As 0001–0012 stored them: the normalised entries verbatim, with whatever a backend put there.
    const stored = {
      passwordEncrypted: true,
      backups: {
        dynamic: [{ location: "dynamic", keyShareId: "k1", encryptedShare: marker }, { location: "dynamic", keyShareId: "k2" }],
        googleDrive: [{ location: "googleDrive", note: marker }],
        iCloud: [],
      },
    };
    await t.db.execute(sql`
      insert into wallet_properties (wallet_id, account_address, chain_name, threshold_signature_scheme, source, backup_info,
                                     has_backup_info, password_encrypted, backup_locations, backed_up_anywhere)
      values ('w-old', 'addr-old', 'EVM', 'TWO_OF_TWO', 'redis', ${JSON.stringify(stored)}::jsonb, true, true, '{dynamic,googleDrive}', true),
             ('w-none', 'addr-none', 'EVM', 'TWO_OF_TWO', 'redis', null, false, null, '{}', false)`);
    const snapshot = async () => ({
      inventory: rowsOf(await t.db.execute(sql`select * from inventory_wallets order by id`)),
      counters: rowsOf(await t.db.execute(sql`select bucket, wallets, missing_backup_info, two_of_two_not_backed_up, cannot_sign, shares_without_properties from wallet_risk_counters order by bucket`)),
    });
    const before = await snapshot();
    expect(await tablesContaining(t.db, marker)).toEqual(["public.wallet_properties"]);

    expect(await migrate(t.db)).toEqual({ applied: fromThe0013 });

    const rows = rowsOf<{ account_address: string; backup_info: unknown }>(
      await t.db.execute(sql`select account_address, backup_info from wallet_properties order by account_address`),
    );
    expect(rows).toEqual([
      { account_address: "addr-none", backup_info: null },
      { account_address: "addr-old", backup_info: { passwordEncrypted: true, backups: { dynamic: 2, googleDrive: 1, iCloud: 0 } } },
    ]);
    expect(await tablesContaining(t.db, marker)).toEqual([]);
    // The rewrite left the read table and the counters as they were (new columns aside), and the triggers it
    // paused for that one statement are enabled again.
    const after = await snapshot();
    expect(after.counters).toEqual(before.counters);
    expect(after.inventory.map((r) => ({ ...(r as Record<string, unknown>), plaintext_in_cache: undefined }))).toEqual(
      before.inventory.map((r) => ({ ...(r as Record<string, unknown>), plaintext_in_cache: undefined })),
    );
    const triggers = rowsOf<{ tgname: string; tgenabled: string }>(
      await t.db.execute(sql`select tgname, tgenabled from pg_catalog.pg_trigger where tgrelid = 'public.wallet_properties'::regclass and not tgisinternal order by 1`),
    );
    expect(triggers.length).toBe(8);
    expect(triggers.filter((x) => x.tgenabled !== "O")).toEqual([]);
    await t.db.execute(sql`update wallet_properties set backed_up_anywhere = false where account_address = 'addr-old'`);
    expect(rowsOf(await t.db.execute(sql`select backup_status from inventory_wallets where account_address = 'addr-old'`))).toEqual([{ backup_status: "none" }]);
  });
});
