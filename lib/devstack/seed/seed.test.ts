import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowsOf } from "@/lib/db/client";
import { parseShareRecord } from "@/lib/db/share-format";
import { testBackends, type TestDb } from "@/lib/db/testing";
import { startTransitServer } from "@/lib/devstack/transit/server";
import { verifyAuditChain } from "@/lib/audit";
import { createVaultClient, type VaultClient } from "@/lib/vault";
import { openShares } from "./envelope";
import { DEMO_KEYS, isDatabaseEmpty, seedDemoData } from "./index";

// Test-only: the console has no decrypt path at all; this proves the stored bytes are what they claim.
async function transitDecrypt(url: string, token: string, key: string, ciphertext: string, context?: string) {
  const res = await fetch(`${url}/v1/transit/decrypt/${key}`, {
    method: "POST",
    headers: { "X-Vault-Token": token, "Content-Type": "application/json" },
    body: JSON.stringify({ ciphertext, ...(context ? { context: Buffer.from(context).toString("base64") } : {}) }),
  });
  const body = (await res.json()) as { data: { plaintext: string } };
  return Buffer.from(body.data.plaintext, "base64");
}

describe.each(testBackends())("demo seeding on $name", (backend) => {
  let t: TestDb;
  let transit: Awaited<ReturnType<typeof startTransitServer>>;
  let vault: VaultClient;
  const plaintexts = new Map<string, Buffer>();
  beforeAll(async () => {
    t = await backend.create();
    transit = await startTransitServer({ port: 0, quiet: true });
    vault = createVaultClient({ addr: transit.url, token: transit.token });
  });
  afterAll(async () => {
    vault?.close();
    await transit?.close();
    await t?.close();
  });

  it("seeds an empty database with the promised variety, audited", async () => {
    expect(await isDatabaseEmpty(t.db)).toBe(true);
    const result = await seedDemoData(t.db, vault, {
      wallets: 1500,
      seed: 42,
      chunkSize: 400,
      onPlaintext: (walletId, p) => plaintexts.set(walletId, Buffer.from(p)),
    });
    expect(await isDatabaseEmpty(t.db)).toBe(false);
    expect(result.wallets).toBe(1500);
    expect(result.keys.map((k) => k.latestVersion)).toEqual(DEMO_KEYS.map((k) => k.versions));

    const [counts] = rowsOf<Record<string, string | number>>(
      await t.db.execute(sql`select
        (select count(*) from wallet_properties) as props,
        (select count(*) from server_wallet_key_shares) as shares,
        (select count(*) from server_wallet_key_shares s where not exists (select 1 from wallet_properties p where p.account_address = s.account_address)) as orphan_shares,
        (select count(*) from wallet_properties p where not exists (select 1 from server_wallet_key_shares s where s.account_address = p.account_address)) as no_share,
        (select count(*) from wallet_properties where not has_backup_info) as missing_backup,
        (select count(*) from wallet_properties where has_backup_info and not backed_up_anywhere) as not_backed_up,
        (select count(*) from wallet_properties where password_encrypted) as password_encrypted,
        (select count(distinct chain_name) from wallet_properties) as chains,
        (select count(distinct threshold_signature_scheme) from wallet_properties) as schemes,
        (select count(*) from server_wallet_key_shares where layout is null or key_version is null) as underived,
        (select count(distinct layout) from server_wallet_key_shares) as layouts,
        (select count(distinct (encryption_key_id, key_version)) from server_wallet_key_shares) as key_versions,
        (select count(*) from server_wallet_key_shares where environment is not null) as with_environment,
        (select count(*) from server_wallet_key_shares where last_accessed_at is not null) as accessed,
        (select extract(day from max(created_at) - min(created_at)) from server_wallet_key_shares) as span_days`),
    );
    const n = (k: string) => Number(counts![k]);
    expect(n("props")).toBe(result.walletProperties);
    expect(n("shares")).toBe(result.shareRecords);
    expect(n("orphan_shares")).toBeGreaterThan(0);
    expect(n("no_share")).toBeGreaterThan(0);
    expect(n("missing_backup")).toBeGreaterThan(0);
    expect(n("not_backed_up")).toBeGreaterThan(0);
    expect(n("password_encrypted")).toBeGreaterThan(0);
    expect(n("chains")).toBe(5);
    expect(n("schemes")).toBe(2);
    expect(n("underived")).toBe(0);
    expect(n("layouts")).toBe(2);
    expect(n("key_versions")).toBe(DEMO_KEYS.reduce((s, k) => s + k.versions, 0));
    expect(n("with_environment")).toBeGreaterThan(0);
    expect(n("accessed")).toBeGreaterThan(0);
    expect(n("span_days")).toBeGreaterThan(450);

    // The inventory read table, refreshed once per chunk with its insert triggers deferred (migration 0012),
    // holds exactly what a rebuild from scratch would: one row per record plus one per wallet without one.
    const inventory = async () => rowsOf(await t.db.execute(sql`select * from inventory_wallets order by id`));
    const seeded = await inventory();
    expect(seeded).toHaveLength(n("shares") + n("no_share"));
    await t.db.execute(sql`select keyshare_inventory_rebuild()`);
    expect(await inventory()).toEqual(seeded);
    // The deferral ended with each chunk's transaction: a later insert is refreshed by its trigger again.
    await t.db.execute(sql`insert into wallet_properties (wallet_id, account_address, chain_name, threshold_signature_scheme, source)
                           values ('after-seed', 'after-seed-address', 'EVM', 'TWO_OF_TWO', 'seed')`);
    expect(rowsOf(await t.db.execute(sql`select no_share from inventory_wallets where account_address = 'after-seed-address'`))).toEqual([{ no_share: true }]);
    await t.db.execute(sql`delete from wallet_properties where account_address = 'after-seed-address'`);

    const audit = rowsOf<{ actor_type: string; outcome: string }>(
      await t.db.execute(sql`select actor_type, outcome from audit_events where action = 'demo.seed'`),
    );
    expect(audit).toEqual([{ actor_type: "service", outcome: "success" }]);
    expect((await verifyAuditChain(t.db)).ok).toBe(true);
  });

  it("stores real Transit ciphertexts of the shares in both layouts, with the wallet id as derived context", async () => {
    const rows = rowsOf<{ wallet_id: string; encryption_key_id: string; key_version: number; layout: string; encrypted_key_shares: Uint8Array }>(
      await t.db.execute(sql`
        (select wallet_id, encryption_key_id, key_version, layout, encrypted_key_shares from server_wallet_key_shares
          where layout = 'direct' and encryption_key_id = 'wallet-shares-derived' limit 2)
        union all
        (select wallet_id, encryption_key_id, key_version, layout, encrypted_key_shares from server_wallet_key_shares
          where layout = 'envelope' and encryption_key_id = 'wallet-shares-derived' limit 2)
        union all
        (select wallet_id, encryption_key_id, key_version, layout, encrypted_key_shares from server_wallet_key_shares
          where layout = 'envelope' and encryption_key_id = 'wallet-shares-prod' and key_version = 1 limit 2)`),
    );
    expect(rows).toHaveLength(6);
    for (const row of rows) {
      const bytes = Buffer.from(row.encrypted_key_shares);
      const parsed = parseShareRecord(bytes);
      expect(parsed?.layout).toBe(row.layout);
      expect(parsed?.keyVersion).toBe(row.key_version);
      const context = row.encryption_key_id === "wallet-shares-derived" ? row.wallet_id : undefined;
      const expected = plaintexts.get(row.wallet_id);
      expect(expected).toBeDefined();
      if (parsed?.layout === "direct") {
        expect(await transitDecrypt(transit.url, transit.token, row.encryption_key_id, parsed.transitCiphertext, context)).toEqual(expected);
      } else if (parsed?.layout === "envelope") {
        const dataKey = await transitDecrypt(transit.url, transit.token, row.encryption_key_id, parsed.envelope.wrapped_key, context);
        expect(openShares(parsed.sealed, dataKey, row.wallet_id)).toEqual(expected);
      }
      expect(bytes.includes(expected!)).toBe(false);
    }
  });
});
