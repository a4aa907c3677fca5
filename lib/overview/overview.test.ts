import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowsOf } from "@/lib/db/client";
import { testBackends, type TestDb } from "@/lib/db/testing";
import { createVaultClient, type VaultClient } from "@/lib/vault";
import { countPlaintextSharesInCache, getOverviewFigures } from "./queries";

/**
 * The Overview's plaintext-shares counter comes from wallet_risk_counters (maintained by the WalletProperties
 * triggers, migration 0013): it must equal a fresh count after whatever is done to the table.
 */
describe.each(testBackends())("plaintext-shares counter on $name", (backend) => {
  let t: TestDb;
  let deadVault: VaultClient;
  beforeAll(async () => {
    t = await backend.create();
    // Nothing listens on port 9 of the loopback: the Overview then shows the database figures alone.
    deadVault = createVaultClient({ addr: "http://127.0.0.1:9", token: "x", retries: 0 });
  });
  afterAll(async () => {
    deadVault?.close();
    await t?.close();
  });

  const fresh = async () =>
    Number(rowsOf<{ n: string | number }>(await t.db.execute(sql`select count(*) as n from wallet_properties where plaintext_shares_in_cache`))[0]!.n);
  const expectFresh = async (expected: number) => {
    expect(await fresh()).toBe(expected);
    expect(await countPlaintextSharesInCache(t.db)).toBe(expected);
  };

  it("counts inserts, flag changes, address moves, deletes, TRUNCATE and a rebuild", async () => {
    await expectFresh(0);
    await t.db.execute(sql`
      insert into wallet_properties (wallet_id, account_address, chain_name, threshold_signature_scheme, source, plaintext_shares_in_cache)
      select 'w' || g, 'a' || g, 'EVM', 'TWO_OF_TWO', 'redis', g % 3 = 0 from generate_series(1, 30) as g`);
    await expectFresh(10);
    await t.db.execute(sql`update wallet_properties set plaintext_shares_in_cache = not plaintext_shares_in_cache where account_address in ('a1', 'a3')`);
    await expectFresh(10);
    await t.db.execute(sql`update wallet_properties set plaintext_shares_in_cache = true where account_address like 'a1%'`);
    await expectFresh(17);
    await t.db.execute(sql`update wallet_properties set account_address = account_address || '-moved' where account_address in ('a6', 'a7')`);
    await expectFresh(17);
    // Other columns changing leave it alone; so does the maintained "cannot sign" next to it.
    await t.db.execute(sql`update wallet_properties set backed_up_anywhere = true, has_backup_info = true where account_address = 'a6-moved'`);
    await expectFresh(17);
    await t.db.execute(sql`delete from wallet_properties where account_address in ('a9', 'a10', 'a2')`);
    await expectFresh(15);
    const o = await getOverviewFigures(t.db, deadVault, { policy: { maxAgeDays: 90, environmentMapping: {} } });
    expect(o.risk.plaintextSharesInCache).toBe(15);
    expect(o.vaultAvailable).toBe(false);

    await t.db.execute(sql`update wallet_risk_counters set plaintext_shares_in_cache = 0`);
    expect(await countPlaintextSharesInCache(t.db)).toBe(0);
    await t.db.execute(sql`select keyshare_rebuild_counters()`);
    await expectFresh(15);
    await t.db.execute(sql`truncate wallet_properties`);
    await expectFresh(0);
  });
});
