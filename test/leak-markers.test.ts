import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LeakScanner, syntheticLeaks } from "@/e2e/support/leak-scanner";
import { rowsOf } from "@/lib/db/client";
import { parseShareRecord } from "@/lib/db/share-format";
import { createTestPglite, type TestDb } from "@/lib/db/testing";
import { openShares } from "@/lib/devstack/seed/envelope";
import { startTransitServer } from "@/lib/devstack/transit/server";
import { createVaultClient, type VaultClient } from "@/lib/vault";
import { ensureMarkerWallets, type MarkerManifest } from "@/e2e/support/markers";

// Test-only: the console has no decrypt path at all; this proves the manifest's ciphertexts are of its plaintexts.
async function transitDecrypt(url: string, token: string, key: string, ciphertext: string, context?: string) {
  const res = await fetch(`${url}/v1/transit/decrypt/${key}`, {
    method: "POST",
    headers: { "X-Vault-Token": token, "Content-Type": "application/json" },
    body: JSON.stringify({ ciphertext, ...(context ? { context: Buffer.from(context).toString("base64") } : {}) }),
  });
  const body = (await res.json()) as { data: { plaintext: string } };
  return Buffer.from(body.data.plaintext, "base64");
}

describe("leak-test marker wallets", () => {
  let t: TestDb;
  let transit: Awaited<ReturnType<typeof startTransitServer>>;
  let vault: VaultClient;
  let dir: string;
  let manifest: MarkerManifest;
  const secretOf = (marker: string, kind: string) =>
    Buffer.from(manifest.secrets.find((s) => s.label.startsWith(marker) && s.kind === kind)!.base64, "base64");

  beforeAll(async () => {
    t = await createTestPglite();
    transit = await startTransitServer({ port: 0, quiet: true });
    vault = createVaultClient({ addr: transit.url, token: transit.token });
    dir = mkdtempSync(path.join(tmpdir(), "ks-markers-"));
  });
  afterAll(async () => {
    vault?.close();
    await transit?.close();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("seeds markers in both layouts and writes a private manifest; a second start keeps them", async () => {
    const file = path.join(dir, "sub", "markers.json");
    const first = await ensureMarkerWallets(t.db, vault, file);
    manifest = first.manifest;
    expect(first.created).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(manifest);
    expect(new Set(manifest.wallets.map((w) => w.layout))).toEqual(new Set(["direct", "envelope"]));
    expect(manifest.wallets.some((w) => w.keyVersion === 1)).toBe(true);

    const again = await ensureMarkerWallets(t.db, vault, file);
    expect(again.created).toBe(false);
    expect(again.manifest).toEqual(manifest);
  });

  it("stores exactly the manifest's bytes, which decrypt to the manifest's plaintexts", async () => {
    const rows = rowsOf<{ id: string; wallet_id: string; b64: string; layout: string; key_version: number }>(
      await t.db.execute(sql`select id, wallet_id, encode(encrypted_key_shares, 'base64') as b64, layout, key_version
        from server_wallet_key_shares where wallet_id in (select jsonb_array_elements_text(${JSON.stringify(manifest.wallets.map((w) => w.walletId))}::jsonb))`),
    );
    expect(rows).toHaveLength(manifest.wallets.length);
    for (const [i, w] of manifest.wallets.entries()) {
      const row = rows.find((r) => r.wallet_id === w.walletId)!;
      const name = `marker-${i + 1} `;
      const stored = secretOf(name, "stored-bytes");
      expect(Buffer.from(row.b64.replace(/\s/g, ""), "base64").equals(stored)).toBe(true);
      expect(row).toMatchObject({ layout: w.layout, key_version: w.keyVersion });
      const plaintext = secretOf(name, "plaintext");
      const context = w.keyName === "wallet-shares-derived" ? w.walletId : undefined;
      const parsed = parseShareRecord(stored)!;
      if (parsed.layout === "direct") {
        expect((await transitDecrypt(transit.url, transit.token, w.keyName, parsed.transitCiphertext, context)).equals(plaintext)).toBe(true);
      } else {
        const dataKey = await transitDecrypt(transit.url, transit.token, w.keyName, parsed.envelope.wrapped_key, context);
        expect(dataKey.equals(secretOf(name, "data-key"))).toBe(true);
        expect(openShares(parsed.sealed, dataKey, w.walletId).equals(plaintext)).toBe(true);
      }
    }
  });

  it("the scanner catches a `select *` row however it is serialised, and every synthetic leak", async () => {
    const scanner = new LeakScanner(manifest.secrets);
    const rows = await t.db.execute(sql`select * from server_wallet_key_shares where account_address = ${manifest.wallets[1]!.accountAddress}`);
    const row = rowsOf<Record<string, unknown>>(rows)[0]!;
    const asJson = JSON.stringify(row);
    expect(scanner.scan(asJson).length).toBeGreaterThan(0);
    expect(scanner.scan(`id,ct\n1,${Buffer.from(row.encrypted_key_shares as Uint8Array).toString("base64")}`).length).toBeGreaterThan(0);
    for (const s of manifest.secrets) {
      for (const leak of syntheticLeaks(s)) {
        const found = scanner.scan(leak.body).filter((f) => f.label === s.label);
        expect(found.length, `${s.label} as ${leak.form}`).toBeGreaterThan(0);
      }
    }
  });

  it("does not flag what pages may show: metadata and the ciphertext fingerprint", async () => {
    const scanner = new LeakScanner(manifest.secrets);
    const dto = rowsOf<Record<string, unknown>>(
      await t.db.execute(sql`select id, wallet_id, account_address, encryption_key_id, key_version, layout, ciphertext_fingerprint,
        created_at, last_accessed_at, access_count from server_wallet_key_shares`),
    );
    expect(dto.length).toBeGreaterThan(0);
    expect(dto.every((r) => typeof r.ciphertext_fingerprint === "string")).toBe(true);
    expect(scanner.scan(JSON.stringify(dto))).toEqual([]);
    expect(scanner.scan(JSON.stringify(manifest.wallets))).toEqual([]);
  });
});
