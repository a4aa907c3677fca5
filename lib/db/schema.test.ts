import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowsOf } from "./client";
import { migrate } from "./migrate";
import { testBackends, type TestDb } from "./testing";

describe.each(testBackends())("share table on $name", (backend) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await backend.create();
  });
  afterAll(() => t.close());

  // An external backend knows only the original columns (DESIGN §1).
  async function backendInsert(id: string, bytes: Buffer) {
    await t.db.execute(sql`
      insert into server_wallet_key_shares (id, wallet_id, account_address, encrypted_key_shares, encryption_key_id)
      values (${id}, 'w-1', '0xAbC', ${bytes}, 'wallet-shares-prod')`);
  }
  async function meta(id: string) {
    const [row] = rowsOf<{
      layout: string | null;
      key_version: number | null;
      ciphertext_fingerprint: string;
      row_version: number;
      access_count: number;
      expected_fp: string;
    }>(
      await t.db.execute(sql`
        select layout, key_version, ciphertext_fingerprint, row_version, access_count,
               encode(substring(sha256(encrypted_key_shares) from 1 for 8), 'hex') as expected_fp
        from server_wallet_key_shares where id = ${id}`),
    );
    if (!row) throw new Error("row missing");
    return row;
  }

  it("derives layout, key version and fingerprint for a direct row written by a backend", async () => {
    const id = "00000000-0000-4000-8000-000000000001";
    await backendInsert(id, Buffer.from("vault:v12:AAAAbase64=="));
    const m = await meta(id);
    expect(m).toMatchObject({ layout: "direct", key_version: 12, row_version: 0, access_count: 0 });
    expect(m.ciphertext_fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(m.ciphertext_fingerprint).toBe(m.expected_fp);
  });

  it("derives the envelope layout from the wrapped key", async () => {
    const id = "00000000-0000-4000-8000-000000000002";
    const doc = { v: 1, wrapped_key: "vault:v3:d3JhcHBlZA==", iv: "aXY=", ciphertext: "Y3Q=", tag: "dGFn" };
    await backendInsert(id, Buffer.from(JSON.stringify(doc)));
    expect(await meta(id)).toMatchObject({ layout: "envelope", key_version: 3 });
  });

  it("never fails a backend insert on unknown bytes: layout and version stay null", async () => {
    const id = "00000000-0000-4000-8000-000000000003";
    await backendInsert(id, Buffer.from([0xff, 0x00, 0xfe, 0x7b]));
    expect(await meta(id)).toMatchObject({ layout: null, key_version: null });
  });

  it("bumps row_version only when the ciphertext changes, and ignores attempts to set it", async () => {
    const id = "00000000-0000-4000-8000-000000000004";
    await backendInsert(id, Buffer.from("vault:v1:Zmlyc3Q="));
    await t.db.execute(sql`
      update server_wallet_key_shares set last_accessed_at = now(), access_count = access_count + 1, row_version = 99
      where id = ${id}`);
    expect(await meta(id)).toMatchObject({ row_version: 0, key_version: 1, access_count: 1 });
    const before = (await meta(id)).ciphertext_fingerprint;
    await t.db.execute(sql`
      update server_wallet_key_shares set encrypted_key_shares = ${Buffer.from("vault:v2:c2Vjb25k")}
      where id = ${id} and row_version = 0`);
    const after = await meta(id);
    expect(after).toMatchObject({ row_version: 1, key_version: 2, layout: "direct" });
    expect(after.ciphertext_fingerprint).not.toBe(before);
    // compare-and-swap with the stale version touches nothing
    const stale = await t.db.execute(sql`
      update server_wallet_key_shares set encrypted_key_shares = ${Buffer.from("vault:v3:dGhpcmQ=")}
      where id = ${id} and row_version = 0 returning id`);
    expect(rowsOf(stale)).toHaveLength(0);
    expect(await meta(id)).toMatchObject({ row_version: 1, key_version: 2 });
  });

  it("migrate is idempotent", async () => {
    expect(await migrate(t.db)).toEqual({ applied: 0 });
  });
});

describe.each(testBackends())("adopting an existing backend table on $name", (backend) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await backend.create({ migrate: false });
  });
  afterAll(() => t.close());

  it("keeps the backend's rows and backfills the derived columns", async () => {
    // The table exactly as Dynamic's storage guide creates it (DESIGN §1), with a row in it.
    await t.db.execute(sql`
      CREATE TABLE server_wallet_key_shares (
        id UUID PRIMARY KEY,
        wallet_id VARCHAR(255) NOT NULL,
        account_address VARCHAR(255) NOT NULL,
        encrypted_key_shares BYTEA NOT NULL,
        encryption_key_id VARCHAR(255) NOT NULL,
        encryption_algorithm VARCHAR(50) DEFAULT 'AES-256-GCM',
        created_at TIMESTAMP NOT NULL DEFAULT NOW(),
        last_accessed_at TIMESTAMP,
        access_count INTEGER DEFAULT 0
      )`);
    await t.db.execute(sql`
      insert into server_wallet_key_shares (id, wallet_id, account_address, encrypted_key_shares, encryption_key_id, access_count)
      values ('00000000-0000-4000-8000-0000000000aa', 'w-old', '0xold', ${Buffer.from("vault:v7:b2xk")}, 'legacy-key', 41)`);
    await migrate(t.db);
    const [row] = rowsOf<{ layout: string; key_version: number; access_count: number; row_version: number; fp: string | null }>(
      await t.db.execute(sql`
        select layout, key_version, access_count, row_version, ciphertext_fingerprint as fp
        from server_wallet_key_shares where id = '00000000-0000-4000-8000-0000000000aa'`),
    );
    expect(row).toMatchObject({ layout: "direct", key_version: 7, access_count: 41, row_version: 0 });
    expect(row?.fp).toMatch(/^[0-9a-f]{16}$/);
  });
});
