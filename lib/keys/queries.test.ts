import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowsOf } from "@/lib/db/client";
import { testBackends, type TestDb } from "@/lib/db/testing";
import { startTransitServer } from "@/lib/devstack/transit/server";
import { createVaultClient, type VaultClient } from "@/lib/vault";
import { getOverviewFigures } from "@/lib/overview/queries";
import { getKeyDetail, KeyNotFoundError, listKeySummaries } from "./queries";

/** Key list = Vault's keys ∪ the records' key names, against the dev Transit server and both databases. */
describe.each(testBackends())("key summaries with the dev Transit server on $name", (backend) => {
  let t: TestDb;
  let transit: Awaited<ReturnType<typeof startTransitServer>>;
  let vault: VaultClient;
  let deadVault: VaultClient;
  const policy = { maxAgeDays: 90, environmentMapping: { "ks-alpha": "prod" } };

  beforeAll(async () => {
    t = await backend.create();
    transit = await startTransitServer({ port: 0, quiet: true });
    vault = createVaultClient({ addr: transit.url, token: transit.token });
    // Nothing listens on port 9 of the loopback: connection refused at once.
    deadVault = createVaultClient({ addr: "http://127.0.0.1:9", token: "x", retries: 0 });
    await vault.createKey("ks-alpha");
    await vault.rotateKey("ks-alpha");
    await vault.rotateKey("ks-alpha");
    await vault.createKey("ks-beta", { exportable: true, autoRotatePeriodSeconds: 30 * 86_400 });
    await t.db.execute(sql`
      insert into server_wallet_key_shares (id, wallet_id, account_address, encrypted_key_shares, encryption_key_id, environment)
      select gen_random_uuid(), 'w' || g, 'a' || g,
             convert_to('vault:v' || (case when g % 3 = 0 then 3 else 1 end) || ':QUJD', 'UTF8'), 'ks-alpha',
             case when g % 10 = 0 then 'staging' end
      from generate_series(1, 30) as g`);
    await t.db.execute(sql`
      insert into server_wallet_key_shares (id, wallet_id, account_address, encrypted_key_shares, encryption_key_id)
      values (gen_random_uuid(), 'wg', 'ag', convert_to('vault:v1:QUJD', 'UTF8'), 'ks-ghost')`);
  });
  afterAll(async () => {
    vault?.close();
    deadVault?.close();
    await transit?.close();
    await t?.close();
  });

  it("lists every Vault key and every key name the records use", async () => {
    const list = await listKeySummaries(t.db, vault, { policy });
    expect(list.vault.available).toBe(true);
    expect(list.keys.map((k) => k.name)).toEqual(["ks-alpha", "ks-beta", "ks-ghost"]);
    const [alpha, beta, ghost] = list.keys;
    expect(alpha).toMatchObject({ inVault: true, records: 30, recordsBehind: 20 });
    expect(alpha!.vault).toMatchObject({ latestVersion: 3, minDecryptionVersion: 1, exportable: false, derived: false });
    expect(alpha!.versions.map((v) => [v.version, v.records, v.isLatest, v.createdAt !== null])).toEqual([
      [1, 20, false, true],
      [2, 0, false, true],
      [3, 10, true, true],
    ]);
    expect(alpha!.rotation.status).toBe("ok");
    expect(alpha!.flags).toContain("multi-environment");
    expect(beta!.flags).toContain("exportable");
    expect(beta!.vault?.autoRotatePeriodSeconds).toBe(30 * 86_400);
    expect(beta!.rotation.autoRotateDueAt).not.toBeNull();
    expect(ghost).toMatchObject({ inVault: false, records: 1, flags: ["missing-in-vault"] });
  });

  it("shows the database figures and a clear state when Vault is down", async () => {
    const list = await listKeySummaries(t.db, deadVault, { policy });
    expect(list.vault.available).toBe(false);
    expect(list.vault.message).toMatch(/Vault could not be reached/);
    expect(list.keys.map((k) => [k.name, k.records, k.inVault])).toEqual([
      ["ks-alpha", 30, null],
      ["ks-ghost", 1, null],
    ]);
  });

  it("key detail: version table and census cells; bad and unknown names are not found", async () => {
    const detail = await getKeyDetail(t.db, vault, "ks-alpha", { policy });
    expect(detail.key.versions).toHaveLength(3);
    expect(detail.census).toEqual([
      { version: 3, environment: "prod", layout: "direct", records: 9 },
      { version: 3, environment: "staging", layout: "direct", records: 1 },
      { version: 1, environment: "prod", layout: "direct", records: 18 },
      { version: 1, environment: "staging", layout: "direct", records: 2 },
    ]);
    expect((await getKeyDetail(t.db, vault, "ks-ghost", { policy })).key.inVault).toBe(false);
    expect((await getKeyDetail(t.db, deadVault, "ks-alpha", { policy })).vault.available).toBe(false);
    for (const bad of ["../sys", "a b", "x'; drop table x;--", "", "-x"]) {
      await expect(getKeyDetail(t.db, vault, bad, { policy })).rejects.toBeInstanceOf(KeyNotFoundError);
    }
    await expect(getKeyDetail(t.db, vault, "no-such-key", { policy })).rejects.toBeInstanceOf(KeyNotFoundError);
  });

  it("overview: figures from the counters, debt bars, risk counters and today's snapshot", async () => {
    const now = new Date();
    const o = await getOverviewFigures(t.db, vault, { policy, now });
    expect(o).toMatchObject({ shareRecords: 31, transitKeys: 2, recordsBehindLatest: 20, unknownKeys: ["ks-ghost"], vaultAvailable: true });
    expect(o.multiEnvironmentKeys).toEqual(["ks-alpha"]);
    expect(o.risk.sharesWithoutProperties).toBe(31);
    expect(o.debt).toContainEqual({ keyName: "ks-alpha", version: 1, records: 20, behind: true });
    expect(o.debt).toContainEqual({ keyName: "ks-alpha", version: 3, records: 10, behind: false });
    expect(o.trend).toEqual([{ day: now.toISOString().slice(0, 10), records: 31, recordsBehind: 20 }]);
    const [n] = rowsOf<{ n: string | number }>(await t.db.execute(sql`select count(*) as n from census_daily`));
    expect(Number(n!.n)).toBe(3);

    const down = await getOverviewFigures(t.db, deadVault, { policy, now });
    expect(down).toMatchObject({ vaultAvailable: false, transitKeys: null, recordsBehindLatest: null, shareRecords: 31 });
  });
});
