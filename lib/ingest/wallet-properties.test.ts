import { describe, expect, it } from "vitest";
import { documentHoldsPlaintextShares, parseWalletProperties, toWalletPropertiesRecord, toWalletPropertiesRow } from "./wallet-properties";

const nodeJson = {
  walletId: "w-1",
  accountAddress: "0xAbCdEf0000000000000000000000000000000001",
  chainName: "EVM",
  thresholdSignatureScheme: "TWO_OF_TWO",
  derivationPath: "m/44'/60'/0'/0/0",
  externalServerKeySharesBackupInfo: {
    passwordEncrypted: true,
    backups: { dynamic: [{ location: "dynamic", keyShareId: "ks-1" }], googleDrive: [], iCloud: [] },
  },
};

const rustJson = {
  wallet_id: "w-1",
  account_address: "0xAbCdEf0000000000000000000000000000000001",
  chain_name: "EVM",
  threshold_signature_scheme: "TWO_OF_TWO",
  derivation_path: "m/44'/60'/0'/0/0",
  external_server_key_shares_backup_info: {
    password_encrypted: true,
    backups: { dynamic: [{ location: "dynamic", key_share_id: "ks-1" }], google_drive: [], i_cloud: [] },
  },
};

describe("parseWalletProperties", () => {
  it("parses Node SDK camelCase JSON", () => {
    const r = parseWalletProperties(JSON.stringify(nodeJson));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({ walletId: "w-1", chainName: "EVM", thresholdSignatureScheme: "TWO_OF_TWO" });
    expect(r.value.externalServerKeySharesBackupInfo?.passwordEncrypted).toBe(true);
  });

  it("parses Rust SDK snake_case JSON to the same shape", () => {
    const a = parseWalletProperties(nodeJson);
    const b = parseWalletProperties(rustJson);
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    const rowA = toWalletPropertiesRow(a.value, "redis");
    const rowB = toWalletPropertiesRow(b.value, "redis");
    expect(rowB.backupLocations).toEqual(rowA.backupLocations);
    expect(rowB).toMatchObject({
      walletId: "w-1",
      derivationPath: "m/44'/60'/0'/0/0",
      hasBackupInfo: true,
      passwordEncrypted: true,
      backupLocations: ["dynamic"],
      backedUpAnywhere: true,
    });
    expect(Object.keys(rowB.backupInfo?.backups ?? {}).sort()).toEqual(["dynamic", "googleDrive", "iCloud"]);
  });

  it("flags missing backup info (StaleWalletProperties) and empty backups", () => {
    const { externalServerKeySharesBackupInfo: _, ...stale } = nodeJson;
    const r = parseWalletProperties(stale);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(toWalletPropertiesRow(r.value, "redis")).toMatchObject({
      backupInfo: null,
      hasBackupInfo: false,
      passwordEncrypted: null,
      backupLocations: [],
      backedUpAnywhere: false,
    });
    const none = parseWalletProperties({ ...nodeJson, externalServerKeySharesBackupInfo: { passwordEncrypted: false, backups: {} } });
    expect(none.ok && toWalletPropertiesRow(none.value, "redis")).toMatchObject({ hasBackupInfo: true, backedUpAnywhere: false });
  });

  it("rejects invalid input without echoing values", () => {
    expect(parseWalletProperties("{not json")).toEqual({ ok: false, error: "not valid JSON" });
    const r = parseWalletProperties({ ...nodeJson, walletId: 42, accountAddress: "" });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toContain("walletId");
    expect(r.error).toContain("accountAddress");
    expect(parseWalletProperties(null).ok).toBe(false);
  });

  it("keeps an index-list derivation path as text", () => {
    const r = parseWalletProperties({ ...rustJson, derivation_path: [44, 60, 0, 0, 0] });
    expect(r.ok && r.value.derivationPath).toBe("[44,60,0,0,0]");
  });

  it("keeps only the number of backup entries per location, never an entry's content", () => {
    const marker = "ENTRY-CONTENT-3f9a1c";
    const r = parseWalletProperties({
      ...rustJson,
      external_server_key_shares_backup_info: {
        password_encrypted: true,
        backups: {
          dynamic: [{ location: "dynamic", key_share_id: "ks-1", encrypted_share: marker }, { location: "dynamic", key_share_id: "ks-2" }],
          google_drive: [],
          user: [{ password_encrypted_share: marker }],
        },
      },
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const row = toWalletPropertiesRow(r.value, "redis");
    expect(row.backupInfo).toEqual({ passwordEncrypted: true, backups: { dynamic: 2, googleDrive: 0, user: 1 } });
    expect(row).toMatchObject({ backupLocations: ["dynamic", "user"], backedUpAnywhere: true, hasBackupInfo: true });
    expect(JSON.stringify(toWalletPropertiesRecord(row))).not.toContain(marker);
  });

  it("detects plaintext key shares in either spelling and keeps only that they were there", () => {
    const marker = "PLAINTEXT-SHARE-8c21d0";
    const withShares = [
      { ...nodeJson, externalServerKeyShares: [{ share: marker }] },
      { ...rustJson, external_server_key_shares: [marker] },
      { ...nodeJson, ExternalServerKeyShares: marker },
      { ...nodeJson, "external-server-key-shares": { 0: marker } },
      // Two spellings, one empty: still there.
      { ...nodeJson, externalServerKeyShares: [], external_server_key_shares: marker },
    ];
    for (const doc of withShares) {
      expect(documentHoldsPlaintextShares(doc)).toBe(true);
      const r = parseWalletProperties(JSON.stringify(doc));
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.value.plaintextSharesInCache).toBe(true);
      expect(JSON.stringify(r.value)).not.toContain(marker);
      const row = toWalletPropertiesRow(r.value, "redis");
      expect(row.plaintextSharesInCache).toBe(true);
      expect(toWalletPropertiesRecord(row)).toMatchObject({ plaintext_shares_in_cache: true });
      expect(JSON.stringify(toWalletPropertiesRecord(row))).not.toContain(marker);
    }
    for (const empty of [[], "", "  ", {}, null, 0, false, true]) {
      const doc = { ...nodeJson, externalServerKeyShares: empty };
      expect(documentHoldsPlaintextShares(doc)).toBe(false);
      const r = parseWalletProperties(doc);
      expect(r.ok && r.value.plaintextSharesInCache).toBe(false);
    }
    const plain = parseWalletProperties(nodeJson);
    expect(plain.ok && plain.value.plaintextSharesInCache).toBe(false);
    // Also for a document that is otherwise invalid (the sync still counts it).
    expect(documentHoldsPlaintextShares({ externalServerKeyShares: marker })).toBe(true);
    expect(documentHoldsPlaintextShares([marker])).toBe(false);
  });
});
