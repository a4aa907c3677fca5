import type { Rng } from "./random";

/**
 * Demo inventory generation: pure, deterministic for a given Rng. No Vault, no database.
 * Share plaintexts are random bytes — never real key material.
 */

export type Environment = "dev" | "staging" | "prod";

export interface DemoKeyPlan {
  name: string;
  /** Versions the key is rotated to; records spread over them by age. */
  versions: number;
  derived: boolean;
  /** Environment implied by the name (for KEY_ENVIRONMENT_MAPPING); null for the key shared on purpose. */
  environment: Environment | null;
  weight: number;
  /** Fraction of this key's records in the envelope layout. */
  envelope: number;
}

export const DEMO_KEYS: readonly DemoKeyPlan[] = [
  { name: "wallet-shares-prod", versions: 4, derived: false, environment: "prod", weight: 40, envelope: 0.5 },
  { name: "wallet-shares-staging", versions: 3, derived: false, environment: "staging", weight: 15, envelope: 0.25 },
  { name: "wallet-shares-dev", versions: 2, derived: false, environment: "dev", weight: 10, envelope: 0.1 },
  // Used by prod and staging backends alike: the environment cannot come from the name, so rows carry it.
  { name: "wallet-shares-shared", versions: 3, derived: false, environment: null, weight: 15, envelope: 0.3 },
  // Derived key: Transit context = the wallet id (UTF-8).
  { name: "wallet-shares-derived", versions: 2, derived: true, environment: "prod", weight: 20, envelope: 0.4 },
];

/** The key name → environment mapping matching DEMO_KEYS (KEY_ENVIRONMENT_MAPPING format). */
export const DEMO_KEY_ENVIRONMENT_MAPPING: Record<string, Environment> = Object.fromEntries(
  DEMO_KEYS.filter((k) => k.environment !== null).map((k) => [k.name, k.environment as Environment]),
);

const CHAINS = [
  ["EVM", 40],
  ["SVM", 25],
  ["BTC", 12],
  ["SUI", 12],
  ["TON", 11],
] as const;
type Chain = (typeof CHAINS)[number][0];

const DERIVATION: Record<Chain, string> = {
  EVM: "m/44'/60'/0'/0/0",
  SVM: "m/44'/501'/0'/0'",
  BTC: "m/84'/0'/0'/0/0",
  SUI: "m/44'/784'/0'/0'/0'",
  TON: "m/44'/607'/0'",
};

const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function chars(rng: Rng, alphabet: string, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rng.next() * alphabet.length)];
  return s;
}

function address(rng: Rng, chain: Chain): string {
  switch (chain) {
    case "EVM": {
      const hex = rng.bytes(20).toString("hex");
      // Half mixed-case (checksummed-looking) to exercise case-insensitive search.
      return `0x${rng.chance(0.5) ? hex : [...hex].map((c) => (rng.chance(0.5) ? c.toUpperCase() : c)).join("")}`;
    }
    case "SVM":
      return chars(rng, BASE58, 44);
    case "BTC":
      return `bc1q${chars(rng, BECH32, 38)}`;
    case "SUI":
      return `0x${rng.bytes(32).toString("hex")}`;
    case "TON":
      return `EQ${chars(rng, B64URL, 46)}`;
  }
}

type BackupVariant = "dynamic" | "dynamic-password" | "cloud" | "none" | "missing";
const BACKUP_VARIANTS: readonly (readonly [BackupVariant, number])[] = [
  ["dynamic", 55],
  ["dynamic-password", 15],
  ["cloud", 12],
  ["none", 10],
  ["missing", 8],
];

/** Raw WalletProperties JSON as a backend would cache it: Node (camelCase) or Rust (snake_case) style. */
function propertiesJson(rng: Rng, w: { walletId: string; accountAddress: string; chainName: Chain; scheme: string }): Record<string, unknown> {
  const variant = rng.weighted(BACKUP_VARIANTS);
  const entry = (location: string) => ({ location, keyShareId: rng.uuid() });
  let backupInfo: { passwordEncrypted: boolean; backups: Record<string, unknown[]> } | undefined;
  if (variant === "dynamic") backupInfo = { passwordEncrypted: false, backups: { dynamic: [entry("dynamic")] } };
  if (variant === "dynamic-password") backupInfo = { passwordEncrypted: true, backups: { dynamic: [entry("dynamic")] } };
  if (variant === "cloud") {
    const loc = rng.pick(["googleDrive", "iCloud", "user", "external"] as const);
    backupInfo = { passwordEncrypted: rng.chance(0.7), backups: { [loc]: [entry(loc)], ...(rng.chance(0.4) ? { dynamic: [entry("dynamic")] } : {}) } };
  }
  if (variant === "none") backupInfo = { passwordEncrypted: false, backups: { dynamic: [], googleDrive: [] } };

  if (rng.chance(0.7)) {
    return {
      walletId: w.walletId,
      accountAddress: w.accountAddress,
      chainName: w.chainName,
      thresholdSignatureScheme: w.scheme,
      derivationPath: DERIVATION[w.chainName],
      ...(backupInfo ? { externalServerKeySharesBackupInfo: backupInfo } : {}),
    };
  }
  const snakeLoc: Record<string, string> = { dynamic: "dynamic", googleDrive: "google_drive", iCloud: "i_cloud", user: "user", external: "external" };
  return {
    wallet_id: w.walletId,
    account_address: w.accountAddress,
    chain_name: w.chainName,
    threshold_signature_scheme: w.scheme,
    derivation_path: DERIVATION[w.chainName],
    ...(backupInfo
      ? {
          external_server_key_shares_backup_info: {
            password_encrypted: backupInfo.passwordEncrypted,
            backups: Object.fromEntries(
              Object.entries(backupInfo.backups).map(([k, v]) => [
                snakeLoc[k] ?? k,
                v.map((e) => ({ location: snakeLoc[(e as { location: string }).location], key_share_id: (e as { keyShareId: string }).keyShareId })),
              ]),
            ),
          },
        }
      : {}),
  };
}

export interface DemoShare {
  id: string;
  keyName: string;
  keyVersion: number;
  derived: boolean;
  layout: "direct" | "envelope";
  plaintext: Buffer;
  createdAt: Date;
  lastAccessedAt: Date | null;
  accessCount: number;
  environment: Environment | null;
  lastRewrappedAt: Date | null;
}

export interface DemoWallet {
  walletId: string;
  accountAddress: string;
  /** null: a share record without WalletProperties (integrity flag). */
  properties: Record<string, unknown> | null;
  /** null: WalletProperties without a stored share (integrity flag). */
  share: DemoShare | null;
}

const DAY = 86_400_000;
export const DEMO_HISTORY_DAYS = 540;

/** Version i of a planned key becomes current at start + (i-1)/versions of the history window. */
export function rotationTimes(plan: DemoKeyPlan, now: Date): Date[] {
  const start = now.getTime() - DEMO_HISTORY_DAYS * DAY;
  return Array.from({ length: plan.versions }, (_, i) => new Date(start + (i * DEMO_HISTORY_DAYS * DAY) / plan.versions));
}

export function generateDemoWallet(rng: Rng, now: Date): DemoWallet {
  const chainName = rng.weighted(CHAINS);
  const scheme = rng.weighted([
    ["TWO_OF_TWO", 65],
    ["TWO_OF_THREE", 35],
  ] as const);
  const walletId = rng.uuid();
  const accountAddress = address(rng, chainName);
  const kind = rng.weighted([
    ["both", 97],
    ["no-share", 2],
    ["no-properties", 1],
  ] as const);
  const properties = kind === "no-properties" ? null : propertiesJson(rng, { walletId, accountAddress, chainName, scheme });
  if (kind === "no-share") return { walletId, accountAddress, properties, share: null };

  const plan = rng.weighted(DEMO_KEYS.map((k) => [k, k.weight] as const));
  const times = rotationTimes(plan, now);
  const createdAt = new Date(now.getTime() - rng.next() * DEMO_HISTORY_DAYS * DAY);
  let keyVersion = 1;
  for (let i = 0; i < times.length; i++) if (createdAt >= times[i]!) keyVersion = i + 1;
  let lastRewrappedAt: Date | null = null;
  if (keyVersion < plan.versions && rng.chance(0.15)) {
    // Already re-wrapped by an earlier campaign after the last rotation.
    const latestAt = times[plan.versions - 1]!.getTime();
    lastRewrappedAt = new Date(latestAt + rng.next() * (now.getTime() - latestAt));
    keyVersion = plan.versions;
  }
  const accessed = rng.chance(0.6);
  const environment = plan.environment === null ? rng.pick(["prod", "staging"] as const) : rng.chance(0.05) ? plan.environment : null;
  return {
    walletId,
    accountAddress,
    properties,
    share: {
      id: rng.uuid(),
      keyName: plan.name,
      keyVersion,
      derived: plan.derived,
      layout: rng.chance(plan.envelope) ? "envelope" : "direct",
      plaintext: rng.bytes(rng.int(160, 320)),
      createdAt,
      lastAccessedAt: accessed ? new Date(createdAt.getTime() + rng.next() * (now.getTime() - createdAt.getTime())) : null,
      accessCount: accessed ? rng.int(1, 500) : 0,
      environment,
      lastRewrappedAt,
    },
  };
}
