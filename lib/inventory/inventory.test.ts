import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { rowsOf, type Db } from "@/lib/db/client";
import { testBackends, type TestDb } from "@/lib/db/testing";
import { ValidationError } from "@/lib/errors";
import { csvCell } from "./csv";
import { cursorView, encodeCursor } from "./cursor";
import { MAX_PAGE_SIZE, parseInventoryParams, viewFingerprintText, type InventoryQuery } from "./params";
import { getWalletDetail, iterateInventory, listInventory, type InventoryContext } from "./queries";
import type { InventoryRowDto } from "./types";

/**
 * Query layer of the Wallets inventory on PGlite and PostgreSQL. Every row is written with raw SQL that uses
 * only the original columns of the share table (as an external backend would), so the read table under test
 * is whatever the triggers made of it.
 */

const NOW = new Date("2026-06-01T00:00:00Z");
const DAY = 86_400_000;
const ctx: InventoryContext = {
  environmentMapping: { "k-prod": "prod", "k-dev": "dev" },
  latestVersions: new Map([
    ["k-prod", 3],
    ["k-dev", 2],
    ["k-shared", 1],
  ]),
  now: NOW,
};

const q = (p: Record<string, string> = {}): InventoryQuery => parseInventoryParams(p);
const auditor = { role: "auditor" };

function ts(d: Date): string {
  return d.toISOString().replace("T", " ").replace("Z", "");
}

async function insertShare(
  db: Db,
  s: { id?: string; wallet: string; addr: string; key: string; version: number; layout?: "direct" | "envelope"; created: Date; accessed?: Date | null; env?: string },
) {
  const ct =
    s.layout === "envelope"
      ? `{"v":1,"wrapped_key":"vault:v${s.version}:${s.wallet}","iv":"x","ciphertext":"y","tag":"z"}`
      : `vault:v${s.version}:${Buffer.from(s.wallet).toString("base64")}`;
  await db.execute(sql`
    insert into server_wallet_key_shares (id, wallet_id, account_address, encrypted_key_shares, encryption_key_id, created_at, last_accessed_at)
    values (coalesce(${s.id ?? null}::uuid, gen_random_uuid()), ${s.wallet}, ${s.addr}, convert_to(${ct}, 'UTF8'), ${s.key}, ${ts(s.created)}::timestamp,
            ${s.accessed ? ts(s.accessed) : null}::timestamp)`);
  if (s.env) await db.execute(sql`update server_wallet_key_shares set environment = ${s.env} where wallet_id = ${s.wallet}`);
}

async function insertProps(
  db: Db,
  p: { wallet: string; addr: string; chain: string; scheme?: string; backup: "backed_up" | "password_encrypted" | "none" | "missing_info"; created: Date },
) {
  const has = p.backup !== "missing_info";
  const any = p.backup === "backed_up" || p.backup === "password_encrypted";
  await db.execute(sql`
    insert into wallet_properties (wallet_id, account_address, chain_name, threshold_signature_scheme, source, has_backup_info,
                                   password_encrypted, backed_up_anywhere, backup_locations, created_at, updated_at)
    values (${p.wallet}, ${p.addr}, ${p.chain}, ${p.scheme ?? "TWO_OF_THREE"}, 'seed', ${has}, ${has ? p.backup === "password_encrypted" : null},
            ${any}, ${any ? sql`'{dynamic}'::text[]` : sql`'{}'::text[]`}, ${p.created.toISOString()}::timestamptz, ${NOW.toISOString()}::timestamptz)`);
}

async function allRows(db: Db, query: InventoryQuery, context = ctx): Promise<InventoryRowDto[]> {
  const out: InventoryRowDto[] = [];
  for await (const batch of iterateInventory(db, query, context, 3)) out.push(...batch);
  return out;
}

const walletsOf = (rows: InventoryRowDto[]) => rows.map((r) => r.walletId).sort();

describe.each(testBackends())("wallet inventory on $name", (backend) => {
  let t: TestDb;
  let db: Db;

  beforeAll(async () => {
    t = await backend.create();
    db = t.db;
    const base = new Date("2026-01-01T00:00:00Z").getTime();
    // w01..w12: share + properties, mixed keys, versions, chains, layouts, backup statuses, access times.
    const specs = [
      { n: 1, addr: "0xAbCdEf0000000000000000000000000000000001", chain: "EVM", key: "k-prod", v: 3, layout: "direct", backup: "backed_up", accessed: 1 },
      { n: 2, addr: "0xABCDEF0000000000000000000000000000000002", chain: "EVM", key: "k-prod", v: 2, layout: "envelope", backup: "password_encrypted", accessed: 200 },
      { n: 3, addr: "0xabcd110000000000000000000000000000000003", chain: "EVM", key: "k-prod", v: 1, layout: "direct", backup: "none", accessed: null },
      { n: 4, addr: "So1anaAddressCaseSensitive4", chain: "SVM", key: "k-dev", v: 2, layout: "direct", backup: "missing_info", accessed: 10 },
      { n: 5, addr: "so1anaaddresscasesensitive5", chain: "SVM", key: "k-dev", v: 1, layout: "envelope", backup: "backed_up", accessed: null },
      { n: 6, addr: "bc1qexample6", chain: "BTC", key: "k-shared", v: 1, layout: "direct", backup: "backed_up", accessed: 400, env: "staging" },
      { n: 7, addr: "bc1qexample7", chain: "BTC", key: "k-shared", v: 1, layout: "direct", backup: "none", accessed: 5, env: "prod", scheme: "TWO_OF_TWO" },
    ] as const;
    for (const s of specs) {
      const wallet = `w0${s.n}`;
      const created = new Date(base + s.n * DAY);
      await insertProps(db, { wallet, addr: s.addr, chain: s.chain, backup: s.backup, created, scheme: "scheme" in s ? s.scheme : undefined });
      await insertShare(db, {
        wallet,
        addr: s.addr,
        key: s.key,
        version: s.v,
        layout: s.layout,
        created,
        accessed: s.accessed === null ? null : new Date(NOW.getTime() - s.accessed * DAY),
        env: "env" in s ? s.env : undefined,
      });
    }
    // w08: properties only, no backup → cannot sign; TWO_OF_TWO → 2-of-2 unbacked.
    await insertProps(db, { wallet: "w08", addr: "0x0800000000000000000000000000000000000008", chain: "EVM", scheme: "TWO_OF_TWO", backup: "none", created: NOW });
    // w09: share record without WalletProperties.
    await insertShare(db, { wallet: "w09", addr: "0x0900000000000000000000000000000000000009", key: "k-prod", version: 3, created: new Date(base + 9 * DAY) });
    // t01..t20: 20 rows with the SAME created_at (ties) for keyset stitching.
    await db.execute(sql`
      insert into server_wallet_key_shares (id, wallet_id, account_address, encrypted_key_shares, encryption_key_id, created_at)
      select gen_random_uuid(), 't' || lpad(g::text, 2, '0'), 'tie' || g, convert_to('vault:v1:tie', 'UTF8'), 'k-tie', '2025-06-01 00:00:00'::timestamp
      from generate_series(1, 20) as g`);
  });
  afterAll(() => t?.close());

  it("lists every wallet and record, flags the orphans", async () => {
    const rows = await allRows(db, q());
    expect(rows).toHaveLength(29);
    const w08 = rows.find((r) => r.walletId === "w08")!;
    expect(w08.flags).toMatchObject({ noShare: true, cannotSign: true, twoOfTwoUnbacked: true, noProperties: false });
    expect(w08.encryptionKeyId).toBeNull();
    const w09 = rows.find((r) => r.walletId === "w09")!;
    expect(w09.flags).toMatchObject({ noProperties: true, noShare: false });
    expect(w09.backupStatus).toBe("unknown");
    const w04 = rows.find((r) => r.walletId === "w04")!;
    expect(w04.flags.staleProperties).toBe(true);
    expect(w04.environment).toBe("dev");
    expect(rows.find((r) => r.walletId === "w06")!.environment).toBe("staging");
    expect(rows.find((r) => r.walletId === "w02")!.behindLatest).toBe(true);
    expect(rows.find((r) => r.walletId === "w01")!.behindLatest).toBe(false);
    expect(rows.find((r) => r.walletId === "w01")!.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  });

  it("filters by each column", async () => {
    const cases: [Record<string, string>, string[]][] = [
      [{ chain: "SVM" }, ["w04", "w05"]],
      [{ scheme: "TWO_OF_TWO" }, ["w07", "w08"]],
      [{ env: "prod" }, ["w01", "w02", "w03", "w07", "w09"]],
      [{ env: "staging" }, ["w06"]],
      [{ key: "k-prod" }, ["w01", "w02", "w03", "w09"]],
      [{ key: "k-prod", version: "2" }, ["w02"]],
      [{ behind: "1" }, ["w02", "w03", "w05"]],
      [{ key: "k-dev", behind: "1" }, ["w05"]],
      [{ layout: "envelope" }, ["w02", "w05"]],
      [{ backup: "backed_up" }, ["w01", "w05", "w06"]],
      [{ backup: "password_encrypted" }, ["w02"]],
      [{ backup: "none" }, ["w03", "w07", "w08"]],
      [{ backup: "missing_info" }, ["w04"]],
      [{ access: "older", days: "100" }, ["w02", "w06"]],
      [{ flag: "no_share" }, ["w08"]],
      [{ flag: "no_properties" }, ["w09", ...Array.from({ length: 20 }, (_, i) => `t${String(i + 1).padStart(2, "0")}`)]],
      [{ flag: "cannot_sign" }, ["w08"]],
      [{ flag: "two_of_two_unbacked" }, ["w07", "w08"]],
      [{ chain: "EVM", backup: "none" }, ["w03", "w08"]],
    ];
    for (const [params, expected] of cases) {
      expect(walletsOf(await allRows(db, q(params))), JSON.stringify(params)).toEqual(expected.sort());
    }
    const never = walletsOf(await allRows(db, q({ access: "never" })));
    expect(never).toEqual(expect.arrayContaining(["w03", "w05", "w08", "w09", "t01"]));
    expect(never).not.toContain("w01");
  });

  it("refuses behind-latest while Vault is unreachable, with a message", async () => {
    await expect(listInventory(db, q({ behind: "1" }), { ...ctx, latestVersions: null })).rejects.toThrow(/Vault could not be reached/);
    const page = await listInventory(db, q(), { ...ctx, latestVersions: null });
    expect(page.rows.every((r) => r.behindLatest === null)).toBe(true);
  });

  it("searches addresses by prefix (case-insensitive for EVM, exact case otherwise) and wallet ids", async () => {
    expect(walletsOf(await allRows(db, q({ q: "0xabcdef" })))).toEqual(["w01", "w02"]);
    expect(walletsOf(await allRows(db, q({ q: "0XABCD" })))).toEqual(["w01", "w02", "w03"]);
    expect(walletsOf(await allRows(db, q({ q: "So1ana" })))).toEqual(["w04"]);
    expect(walletsOf(await allRows(db, q({ q: "so1ana" })))).toEqual(["w05"]);
    expect(walletsOf(await allRows(db, q({ q: "w07" })))).toEqual(["w07"]);
    expect(walletsOf(await allRows(db, q({ q: "0xabcdef", layout: "envelope" })))).toEqual(["w02"]);
    expect(await allRows(db, q({ q: "zzzzzz" }))).toEqual([]);
  });

  it("sorts by created, last accessed and wrap age in both directions", async () => {
    const check = async (sort: string, key: (r: InventoryRowDto) => string) => {
      for (const dir of ["asc", "desc"] as const) {
        const rows = await allRows(db, q({ sort, dir }));
        expect(rows).toHaveLength(29);
        const keys = rows.map(key);
        const sorted = [...keys].sort();
        expect(keys, `${sort} ${dir}`).toEqual(dir === "asc" ? sorted : sorted.reverse());
      }
    };
    await check("created", (r) => r.createdAt);
    // Never accessed sorts as the oldest.
    await check("accessed", (r) => r.lastAccessedAt ?? "0000");
    await check("wrapped", (r) => r.wrappedAt);
  });

  it("stitches keyset pages across ties with no gaps or duplicates", async () => {
    for (const limit of [1, 2, 3, 7]) {
      for (const dir of ["asc", "desc"]) {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await listInventory(db, { ...q({ key: "k-tie", dir }), limit, cursor }, ctx);
          seen.push(...page.rows.map((r) => r.id));
          cursor = page.nextCursor ?? undefined;
          expect(++pages).toBeLessThan(100);
        } while (cursor);
        expect(seen).toHaveLength(20);
        expect(new Set(seen).size).toBe(20);
        const ids = [...seen].sort();
        expect(seen).toEqual(dir === "asc" ? ids : ids.reverse());
      }
    }
  });

  it("rejects forged, edited, foreign and malformed cursors with a clear message", async () => {
    const first = await listInventory(db, { ...q({ key: "k-tie" }), limit: 5 }, ctx);
    const good = first.nextCursor!;
    const [body, mac] = good.split(".") as [string, string];
    const payload = JSON.parse(Buffer.from(body, "base64url").toString()) as Record<string, unknown>;
    const forgedBody = Buffer.from(JSON.stringify({ ...payload, k: "0" })).toString("base64url");
    const bad = [
      `${forgedBody}.${mac}`,
      `${body}.${mac.slice(0, -2)}AA`,
      "not-a-cursor",
      "",
      "a".repeat(500),
      `${body}`,
      "eyJ2IjoxfQ.AAAAAAAAAAAAAAAA",
    ];
    for (const cursor of bad) {
      const run = listInventory(db, { ...q({ key: "k-tie" }), limit: 5, cursor: cursor || "x" }, ctx);
      await expect(run, cursor).rejects.toBeInstanceOf(ValidationError);
      await expect(run).rejects.toThrow(/page link is invalid/);
    }
    // A genuine cursor of another view (other filters or order) is refused too.
    await expect(listInventory(db, { ...q({ key: "k-prod" }), cursor: good }, ctx)).rejects.toThrow(/page link is invalid/);
    await expect(listInventory(db, { ...q({ key: "k-tie", dir: "asc" }), cursor: good }, ctx)).rejects.toThrow(/page link is invalid/);
    // Well-formed but absurd positions (signed by us) are harmless: just an empty or shifted page.
    const far = encodeCursor({ key: 2n ** 62n, id: "00000000-0000-4000-8000-000000000000" }, cursorView(viewFingerprintText(q({ key: "k-tie", dir: "asc" }))));
    expect((await listInventory(db, { ...q({ key: "k-tie", dir: "asc" }), cursor: far }, ctx)).rows).toEqual([]);
  });

  it("validates URL parameters: clear messages, clamped page sizes, no SQL from strings", () => {
    expect(parseInventoryParams({ limit: "100000000" }).limit).toBe(MAX_PAGE_SIZE);
    expect(parseInventoryParams({ limit: "0" }).limit).toBe(1);
    expect(parseInventoryParams({ limit: "-5" }).limit).toBe(1);
    expect(parseInventoryParams({ limit: "lots" }).limit).toBe(50);
    expect(parseInventoryParams({ limit: "20" }).limit).toBe(20);
    const bad: Record<string, string>[] = [
      { layout: "sideways" },
      { backup: "maybe" },
      { sort: "id; drop table x" },
      { dir: "up" },
      { q: "0xab' or 1=1 --" },
      { q: "%" },
      { q: "ab" },
      { q: "0x1" },
      { version: "-1" },
      { version: "1.5" },
      { version: "99999999999" },
      { chain: "evm'" },
      { key: "../../etc" },
      { days: "5" },
      { access: "older", days: "0" },
      { flag: "everything" },
    ];
    for (const p of bad) expect(() => parseInventoryParams(p), JSON.stringify(p)).toThrow(ValidationError);
    expect(() => parseInventoryParams({ layout: "sideways" })).toThrow(/Layout must be one of: direct, envelope/);
    expect(parseInventoryParams({ utm_source: "mail", layout: ["envelope", "direct"] as unknown as string }).filters).toEqual({ layout: "envelope" });
  });

  it("keeps the read table right under raw-SQL writes of an external backend", async () => {
    const A = "0xFeed000000000000000000000000000000000001";
    const find = async () =>
      rowsOf<Record<string, unknown>>(
        await db.execute(sql`select share_id, properties_id, wallet_id, key_version, layout, chain_name, backup_status, no_share, no_properties,
                                    cannot_sign, two_of_two_unbacked, accessed_us::text as accessed_us, access_count, address_key
                             from inventory_wallets where account_address in (${A}, 'moved-away') order by share_id nulls first`),
      );
    // The share arrives first: flagged as a record without WalletProperties.
    await db.execute(sql`insert into server_wallet_key_shares (id, wallet_id, account_address, encrypted_key_shares, encryption_key_id)
                         values ('11111111-1111-4111-8111-111111111111', 'feed', ${A}, convert_to('vault:v1:AAAA', 'UTF8'), 'k-prod')`);
    expect(await find()).toMatchObject([{ no_properties: true, key_version: 1, layout: "direct", address_key: A.toLowerCase() }]);
    // Then its properties: the same row gains the properties' columns.
    await insertProps(db, { wallet: "feed", addr: A, chain: "EVM", scheme: "TWO_OF_TWO", backup: "none", created: NOW });
    expect(await find()).toMatchObject([{ no_properties: false, chain_name: "EVM", backup_status: "none", two_of_two_unbacked: true, cannot_sign: false }]);
    // The backend's access bookkeeping and a re-encryption.
    await db.execute(sql`update server_wallet_key_shares set last_accessed_at = '2026-05-01 00:00:00', access_count = 7,
                         encrypted_key_shares = convert_to('vault:v4:BBBB', 'UTF8') where id = '11111111-1111-4111-8111-111111111111'`);
    expect(await find()).toMatchObject([{ key_version: 4, access_count: 7, accessed_us: String(Date.parse("2026-05-01T00:00:00Z") * 1000) }]);
    // A second record for the same address, then the first one deleted.
    await db.execute(sql`insert into server_wallet_key_shares (id, wallet_id, account_address, encrypted_key_shares, encryption_key_id)
                         values ('22222222-2222-4222-8222-222222222222', 'feed', ${A}, convert_to('{"wrapped_key":"vault:v2:x"}', 'UTF8'), 'k-prod')`);
    expect(await find()).toHaveLength(2);
    await db.execute(sql`delete from server_wallet_key_shares where id = '11111111-1111-4111-8111-111111111111'`);
    expect(await find()).toMatchObject([{ share_id: "22222222-2222-4222-8222-222222222222", layout: "envelope", key_version: 2 }]);
    // Last record gone: the wallet stays listed, as properties without a share (cannot sign).
    await db.execute(sql`delete from server_wallet_key_shares where account_address = ${A}`);
    expect(await find()).toMatchObject([{ share_id: null, no_share: true, cannot_sign: true }]);
    // Backup arrives; the properties move address; then they are deleted.
    await db.execute(sql`update wallet_properties set has_backup_info = true, backed_up_anywhere = true, password_encrypted = true where account_address = ${A}`);
    expect(await find()).toMatchObject([{ backup_status: "password_encrypted", cannot_sign: false, two_of_two_unbacked: false }]);
    await db.execute(sql`update wallet_properties set account_address = 'moved-away' where account_address = ${A}`);
    expect(await find()).toMatchObject([{ address_key: "moved-away", no_share: true }]);
    await db.execute(sql`delete from wallet_properties where account_address = 'moved-away'`);
    expect(await find()).toEqual([]);
    // A bulk statement touching many addresses at once, then a share address change.
    await db.execute(sql`update server_wallet_key_shares set access_count = coalesce(access_count, 0) + 1 where wallet_id like 't%'`);
    await db.execute(sql`update server_wallet_key_shares set account_address = ${A} where wallet_id = 'w09'`);
    // Incremental maintenance equals a rebuild from scratch.
    const snapshot = async () => rowsOf(await db.execute(sql`select * from inventory_wallets order by id`));
    const before = await snapshot();
    await db.execute(sql`select keyshare_inventory_rebuild()`);
    expect(await snapshot()).toEqual(before);
    expect(before.find((r) => (r as { wallet_id: string }).wallet_id === "w09")).toMatchObject({ account_address: A, address_key: A.toLowerCase() });
    await db.execute(sql`update server_wallet_key_shares set account_address = '0x0900000000000000000000000000000000000009' where wallet_id = 'w09'`);
  });

  it("writes the backend's access bookkeeping in place; any other change still recomputes the wallet", async () => {
    const row = async (wallet: string) =>
      rowsOf<{ id: string; chain_name: string; environment: string | null; accessed_us: string; access_count: number | null }>(
        await db.execute(sql`select id, chain_name, environment, accessed_us::text as accessed_us, access_count from inventory_wallets where wallet_id = ${wallet}`),
      )[0]!;
    // Mark a derived column by hand: only a recompute of the wallet would put it back.
    await db.execute(sql`update inventory_wallets set chain_name = 'MARK' where wallet_id in ('w01', 'w02')`);
    await db.execute(sql`update server_wallet_key_shares set last_accessed_at = '2026-05-02 03:04:05.123456', access_count = 41 where wallet_id = 'w01'`);
    expect(await row("w01")).toMatchObject({ chain_name: "MARK", access_count: 41, accessed_us: String(Date.parse("2026-05-02T03:04:05.123Z") * 1000 + 456) });
    // Back to "never accessed".
    await db.execute(sql`update server_wallet_key_shares set last_accessed_at = null where wallet_id = 'w01'`);
    expect(await row("w01")).toMatchObject({ chain_name: "MARK", accessed_us: "-1" });
    // One statement where one row changes more than access columns: the whole statement recomputes.
    await db.execute(sql`update server_wallet_key_shares
                         set access_count = coalesce(access_count, 0) + 1,
                             environment = case when wallet_id = 'w02' then 'staging' else environment end
                         where wallet_id in ('w01', 'w02')`);
    expect(await row("w01")).toMatchObject({ chain_name: "EVM", accessed_us: "-1", access_count: 42 });
    expect(await row("w02")).toMatchObject({ chain_name: "EVM", environment: "staging" });
    await db.execute(sql`update server_wallet_key_shares set environment = null where wallet_id = 'w02'`);
    // A record the read table lacks is not patched in place (nothing to patch): the recompute adds it back.
    await db.execute(sql`delete from inventory_wallets where wallet_id = 'w03'`);
    await db.execute(sql`update server_wallet_key_shares set access_count = 5 where wallet_id = 'w03'`);
    expect(await row("w03")).toMatchObject({ chain_name: "EVM", access_count: 5 });
    // Equal to a rebuild from scratch.
    const snapshot = async () => rowsOf(await db.execute(sql`select * from inventory_wallets order by id`));
    const before = await snapshot();
    await db.execute(sql`select keyshare_inventory_rebuild()`);
    expect(await snapshot()).toEqual(before);
  });

  it.runIf(backend.name === "postgres")("an in-place access write and a recompute of the same wallet racing leave the newest figures", async () => {
    const a = postgres(t.url!, { max: 1, onnotice: () => {} });
    const b = postgres(t.url!, { max: 1, onnotice: () => {} });
    try {
      for (let i = 1; i <= 3; i++) {
        // A records an access and holds its transaction open; B meanwhile changes the wallet's properties, which
        // recomputes the wallet. B must wait for A (same bucket lock) and then see A's figures, not older ones.
        let releaseA!: () => void;
        const aHeld = new Promise<void>((r) => (releaseA = r));
        let aDone!: () => void;
        const aReady = new Promise<void>((r) => (aDone = r));
        const txA = a.begin(async (tx) => {
          await tx`update server_wallet_key_shares set access_count = ${1000 + i}, last_accessed_at = '2026-05-03 00:00:00' where wallet_id = 'w04'`;
          aDone();
          await aHeld;
        });
        await aReady;
        const [{ pid: bPid }] = (await b`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
        const txB = b.begin(async (tx) => {
          await tx`update wallet_properties set chain_name = ${`SVM${i}`} where wallet_id = 'w04'`;
        });
        // Release A only once B is waiting on the bucket lock: otherwise the race was not exercised.
        await expect
          .poll(async () => rowsOf<{ wait_event: string | null }>(await db.execute(sql`select wait_event from pg_stat_activity where pid = ${bPid}`))[0]?.wait_event, { timeout: 5_000, interval: 20 })
          .toBe("advisory");
        releaseA();
        await Promise.all([txA, txB]);
        expect(
          rowsOf(await db.execute(sql`select chain_name, access_count from inventory_wallets where wallet_id = 'w04'`)),
        ).toEqual([{ chain_name: `SVM${i}`, access_count: 1000 + i }]);
      }
      await db.execute(sql`update wallet_properties set chain_name = 'SVM' where wallet_id = 'w04'`);
    } finally {
      await a.end({ timeout: 5 });
      await b.end({ timeout: 5 });
    }
  });

  it("shows a wallet's detail: properties, records, flags, audit events", async () => {
    await db.execute(sql`select 1`);
    const { recordAuditEvent } = await import("@/lib/audit");
    await recordAuditEvent(db, { actor: { type: "service", userId: "test" }, action: "campaign.rewrap.record", target: { type: "wallet", id: "w02" } });
    await recordAuditEvent(db, { actor: { type: "service", userId: "test" }, action: "other.thing", target: { type: "wallet", id: "w01" } });
    const d = await getWalletDetail(db, "w02", ctx, auditor);
    expect(d.properties).toHaveLength(1);
    expect(d.properties[0]).toMatchObject({ chainName: "EVM", passwordEncrypted: true, backedUpAnywhere: true });
    expect(d.shares).toHaveLength(1);
    expect(d.shares[0]).toMatchObject({ encryptionKeyId: "k-prod", keyVersion: 2, latestVersion: 3, behindLatest: true, layout: "envelope", environment: "prod" });
    expect(d.flags).toEqual(["behind-latest"]);
    expect(d.backupStatus).toBe("password_encrypted");
    expect(d.auditEvents?.map((e) => e.action)).toEqual(["campaign.rewrap.record"]);
    expect(JSON.stringify(d)).not.toMatch(/vault:v/);

    // The wallet's audit events (actors, e-mail addresses) only for roles that may read the audit trail.
    await recordAuditEvent(db, { actor: { type: "user", userId: "u-1", email: "someone@example.test" }, action: "inventory.export", target: { type: "wallet", id: "w02" } });
    expect((await getWalletDetail(db, "w02", ctx, auditor)).auditEvents?.map((e) => e.actor)).toContain("someone@example.test");
    for (const role of ["viewer", "operator", "officer", "admin"]) {
      const seen = await getWalletDetail(db, "w02", ctx, { role });
      expect(seen.auditEvents, role).toBeNull();
      expect(JSON.stringify(seen), role).not.toContain("someone@example.test");
      expect(seen.shares, role).toHaveLength(1);
    }

    expect((await getWalletDetail(db, "w08", ctx, auditor)).flags.sort()).toEqual(["cannot-sign", "two-of-two-unbacked"]);
    expect((await getWalletDetail(db, "w09", ctx, auditor)).flags).toEqual(["share-without-properties"]);
    expect((await getWalletDetail(db, "w04", ctx, auditor)).flags).toEqual(["stale-properties"]);
    await expect(getWalletDetail(db, "nope", ctx, auditor)).rejects.toThrow(/No wallet/);
  });

  it("flag=plaintext_in_cache lists the wallets whose cached WalletProperties carried plaintext shares", async () => {
    expect(q({ flag: "plaintext_in_cache" }).filters.flag).toBe("plaintext_in_cache");
    // w01 has a share record, w08 has none: the flag rides on both kinds of row.
    await db.execute(sql`update wallet_properties set plaintext_shares_in_cache = true where wallet_id in ('w01', 'w08')`);
    try {
      const rows = await allRows(db, q({ flag: "plaintext_in_cache" }));
      expect(walletsOf(rows)).toEqual(["w01", "w08"]);
      expect(rows.every((r) => r.flags.plaintextInCache)).toBe(true);
      expect((await allRows(db, q())).filter((r) => r.flags.plaintextInCache)).toHaveLength(2);
      expect((await allRows(db, q({ flag: "plaintext_in_cache", chain: "EVM", sort: "accessed" }))).map((r) => r.walletId).sort()).toEqual(["w01", "w08"]);
      expect((await getWalletDetail(db, "w08", ctx, auditor)).flags).toContain("plaintext-in-cache");
      expect((await getWalletDetail(db, "w08", ctx, auditor)).properties[0]).toMatchObject({ plaintextSharesInCache: true });
      // A share record arriving for a flagged wallet carries the flag too; incremental equals a rebuild.
      await insertShare(db, { wallet: "w08", addr: "0x0800000000000000000000000000000000000008", key: "k-prod", version: 3, created: NOW });
      expect(walletsOf(await allRows(db, q({ flag: "plaintext_in_cache" })))).toEqual(["w01", "w08"]);
      const snapshot = async () => rowsOf(await db.execute(sql`select * from inventory_wallets order by id`));
      const before = await snapshot();
      await db.execute(sql`select keyshare_inventory_rebuild()`);
      expect(await snapshot()).toEqual(before);
    } finally {
      await db.execute(sql`delete from server_wallet_key_shares where wallet_id = 'w08'`);
      await db.execute(sql`update wallet_properties set plaintext_shares_in_cache = false where wallet_id in ('w01', 'w08')`);
    }
    expect(await allRows(db, q({ flag: "plaintext_in_cache" }))).toEqual([]);
  });

  it("escapes CSV cells against formula injection", () => {
    expect(csvCell("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
    expect(csvCell("+1")).toBe("'+1");
    expect(csvCell("-1")).toBe("'-1");
    expect(csvCell("@x")).toBe("'@x");
    expect(csvCell('a,"b"')).toBe('"a,""b"""');
    expect(csvCell(-1)).toBe("-1");
    expect(csvCell(null)).toBe("");
  });
});
