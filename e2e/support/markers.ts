import "server-only";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { inArray } from "drizzle-orm";
import { sanitizeDbError, type Db } from "@/lib/db/client";
import { serverWalletKeyShares, walletProperties } from "@/lib/db/schema";
import { encodeDirect } from "@/lib/db/share-format";
import { encodeEnvelope, sealShares } from "@/lib/devstack/seed/envelope";
import { parseWalletProperties, toWalletPropertiesRow } from "@/lib/ingest/wallet-properties";
import type { VaultClient } from "@/lib/vault";

/**
 * Marker wallets for the leak-crawling end-to-end test (DESIGN §2, fifth layer). TEST ONLY: Playwright's web
 * server (./start-server.ts) seeds them when KEYSHARE_SEED_MARKERS names a file, and never in production mode.
 *
 * Each marker is an ordinary wallet (WalletProperties + one share record) whose share plaintext, stored
 * ciphertext, wrapped data key, data key and envelope document are written to that file, so that the test can
 * look for every one of them — in any encoding — in every response body and in the server log. The records go
 * through the real Vault client and the dev Transit server, in both layouts, on a plain and a derived key and on
 * the latest and an old key version, so they show up in every list, filter and key page the demo data does.
 *
 * The plaintexts are random bytes that never were key material.
 */

export const MARKER_MANIFEST_VERSION = 1;

/** One value the test must never find; `base64` holds its exact bytes. */
export interface MarkerSecret {
  /** e.g. "marker-2 (envelope) wrapped data key" — what the test reports. */
  label: string;
  kind:
    | "plaintext"
    | "plaintext-token"
    | "stored-bytes"
    | "transit-ciphertext"
    | "transit-payload"
    | "wrapped-key"
    | "data-key"
    | "gcm-ciphertext"
    | "gcm-tag"
    | "envelope-json";
  base64: string;
}

export interface MarkerWallet {
  walletId: string;
  accountAddress: string;
  shareId: string;
  keyName: string;
  keyVersion: number;
  layout: "direct" | "envelope";
  chainName: string;
}

export interface MarkerManifest {
  version: typeof MARKER_MANIFEST_VERSION;
  createdAt: string;
  wallets: MarkerWallet[];
  secrets: MarkerSecret[];
}

interface MarkerPlan {
  keyName: string;
  derived: boolean;
  layout: "direct" | "envelope";
  /** Pin key version 1 (a record behind the latest version); undefined = latest. */
  oldVersion: boolean;
}

const PLANS: readonly MarkerPlan[] = [
  { keyName: "wallet-shares-prod", derived: false, layout: "direct", oldVersion: false },
  { keyName: "wallet-shares-prod", derived: false, layout: "envelope", oldVersion: true },
  { keyName: "wallet-shares-derived", derived: true, layout: "direct", oldVersion: true },
  { keyName: "wallet-shares-derived", derived: true, layout: "envelope", oldVersion: false },
];

export type MarkerVault = Pick<VaultClient, "createKey" | "readKey" | "rotateKey" | "encrypt">;

const b64 = (b: Uint8Array | string) => Buffer.from(b).toString("base64");

/** A serialized ServerKeyShare look-alike: JSON as backends store it, with a distinctive random secret inside. */
function markerPlaintext(): { plaintext: Buffer; token: string } {
  const token = randomBytes(32).toString("hex");
  const doc = [{ pubkey: { pubkey: randomBytes(33).toString("hex") }, secretShare: token, marker: "keyshare-leak-marker" }];
  return { plaintext: Buffer.from(JSON.stringify(doc), "utf8"), token };
}

/** Seeds fresh marker wallets and returns the manifest (not written anywhere). */
export async function seedMarkerWallets(db: Db, vault: MarkerVault): Promise<MarkerManifest> {
  const wallets: MarkerWallet[] = [];
  const secrets: MarkerSecret[] = [];
  const propertyRows: ReturnType<typeof toWalletPropertiesRow>[] = [];
  const shareRows: (typeof serverWalletKeyShares.$inferInsert)[] = [];

  for (const [i, plan] of PLANS.entries()) {
    await vault.createKey(plan.keyName, { type: "aes256-gcm96", derived: plan.derived });
    let info = await vault.readKey(plan.keyName);
    if (plan.oldVersion && info.latestVersion < 2) info = await vault.rotateKey(plan.keyName);
    const keyVersion = plan.oldVersion ? 1 : info.latestVersion;

    const walletId = randomUUID();
    const accountAddress = `0x${randomBytes(20).toString("hex")}`;
    const shareId = randomUUID();
    const name = `marker-${i + 1} (${plan.layout}, ${plan.keyName} v${keyVersion})`;
    const context = plan.derived ? Buffer.from(walletId, "utf8") : undefined;
    const { plaintext, token } = markerPlaintext();
    secrets.push({ label: `${name} share plaintext`, kind: "plaintext", base64: b64(plaintext) });
    secrets.push({ label: `${name} share secret token`, kind: "plaintext-token", base64: b64(token) });

    let stored: Buffer;
    if (plan.layout === "direct") {
      const [r] = await vault.encrypt(plan.keyName, [{ plaintext, context }], { keyVersion });
      if (!r || "error" in r) throw new Error(`marker encrypt failed on ${plan.keyName}`);
      stored = encodeDirect(r.ciphertext);
      secrets.push({ label: `${name} Transit ciphertext`, kind: "transit-ciphertext", base64: b64(r.ciphertext) });
      secrets.push({ label: `${name} Transit ciphertext payload`, kind: "transit-payload", base64: r.ciphertext.split(":")[2]! });
    } else {
      const dataKey = randomBytes(32);
      const [r] = await vault.encrypt(plan.keyName, [{ plaintext: dataKey, context }], { keyVersion });
      if (!r || "error" in r) throw new Error(`marker encrypt failed on ${plan.keyName}`);
      const sealed = sealShares(plaintext, dataKey, walletId);
      stored = encodeEnvelope(r.ciphertext, sealed);
      secrets.push({ label: `${name} data key`, kind: "data-key", base64: b64(dataKey) });
      secrets.push({ label: `${name} wrapped data key`, kind: "wrapped-key", base64: b64(r.ciphertext) });
      secrets.push({ label: `${name} wrapped data key payload`, kind: "transit-payload", base64: r.ciphertext.split(":")[2]! });
      secrets.push({ label: `${name} AES-GCM ciphertext`, kind: "gcm-ciphertext", base64: b64(sealed.ciphertext) });
      secrets.push({ label: `${name} AES-GCM tag`, kind: "gcm-tag", base64: b64(sealed.tag) });
      secrets.push({ label: `${name} envelope JSON`, kind: "envelope-json", base64: b64(stored) });
    }
    secrets.push({ label: `${name} stored bytes`, kind: "stored-bytes", base64: b64(stored) });

    const props = parseWalletProperties({
      walletId,
      accountAddress,
      chainName: "EVM",
      thresholdSignatureScheme: "TWO_OF_TWO",
      derivationPath: "m/44'/60'/0'/0/0",
      externalServerKeySharesBackupInfo: { passwordEncrypted: true, backups: { dynamic: [{ location: "dynamic", keyShareId: randomUUID() }] } },
    });
    if (!props.ok) throw new Error(props.error);
    propertyRows.push(toWalletPropertiesRow(props.value, "seed"));
    shareRows.push({
      id: shareId,
      walletId,
      accountAddress,
      encryptedKeyShares: stored,
      encryptionKeyId: plan.keyName,
      createdAt: new Date(),
      lastAccessedAt: new Date(),
      accessCount: 1,
      environment: "prod",
    });
    wallets.push({ walletId, accountAddress, shareId, keyName: plan.keyName, keyVersion, layout: plan.layout, chainName: "EVM" });
  }

  try {
    await db.transaction(async (tx) => {
      await tx.insert(walletProperties).values(propertyRows);
      await tx.insert(serverWalletKeyShares).values(shareRows);
    });
  } catch (err) {
    throw sanitizeDbError(err);
  }
  return { version: MARKER_MANIFEST_VERSION, createdAt: new Date().toISOString(), wallets, secrets };
}

/**
 * Keeps the markers of an earlier start when the manifest's wallets are still in the database, so a restart on
 * the same data folder does not pile up markers; otherwise seeds new ones and (re)writes the manifest (0600).
 */
export async function ensureMarkerWallets(db: Db, vault: MarkerVault, file: string): Promise<{ manifest: MarkerManifest; created: boolean }> {
  if (existsSync(file)) {
    try {
      const manifest = JSON.parse(readFileSync(file, "utf8")) as MarkerManifest;
      const ids = manifest.wallets.map((w) => w.shareId);
      if (manifest.version === MARKER_MANIFEST_VERSION && ids.length > 0) {
        const found = await db.select({ id: serverWalletKeyShares.id }).from(serverWalletKeyShares).where(inArray(serverWalletKeyShares.id, ids));
        if (found.length === ids.length) return { manifest, created: false };
      }
    } catch {
      // An unreadable manifest is replaced below.
    }
  }
  const manifest = await seedMarkerWallets(db, vault);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(manifest, null, 2), { mode: 0o600 });
  return { manifest, created: true };
}
