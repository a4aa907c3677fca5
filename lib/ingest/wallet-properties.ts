import { z } from "zod";
import {
  BACKUP_LOCATIONS,
  type BackupLocation,
  type WalletBackupInfo,
  type WalletPropertiesSource,
} from "@/lib/db/schema/wallet-properties";

/**
 * WalletProperties as the backends cache it (DESIGN §1): JSON from the Node SDK (camelCase) or from the
 * Rust SDK (serde, snake_case). Keys are normalised to camelCase before validation, so both spellings — and
 * a mix — parse to one shape. Not secret; still validated because it comes from outside (Redis, a table).
 *
 * Pure (no server-only): used by ingest jobs, the seed and tests alike.
 */

const LOCATION_ALIASES: Record<string, BackupLocation> = {
  dynamic: "dynamic",
  googledrive: "googleDrive",
  icloud: "iCloud",
  user: "user",
  external: "external",
};

function camelKey(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function normaliseBackups(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const alias = LOCATION_ALIASES[k.replace(/[_-]/g, "").toLowerCase()];
    out[alias ?? camelKey(k)] = v;
  }
  return out;
}

function normaliseBackupInfo(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const key = camelKey(k);
    out[key] = key === "backups" ? normaliseBackups(v) : v;
  }
  return out;
}

/**
 * The Node SDK's WalletProperties object also carries `externalServerKeyShares` — the plaintext MPC shares —
 * and a backend that caches the object as is puts them in Redis (`external_server_key_shares` from Rust). Any
 * spelling of that key counts (case, `_`/`-` ignored).
 */
function isPlaintextSharesKey(key: string): boolean {
  return key.replace(/[^A-Za-z0-9]/g, "").toLowerCase() === "externalserverkeyshares";
}

/** A value that holds something: a non-blank string, a non-empty array or an object with a key. */
export function holdsKeyShares(value: unknown): boolean {
  if (typeof value === "string") return value.trim() !== "";
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object" && value !== null) return Object.keys(value).length > 0;
  return false;
}

/**
 * Whether a cached document (parsed JSON, any spelling) carries plaintext key shares. Looks at nothing else, so
 * it answers for documents that fail validation too. The value is never copied anywhere.
 */
export function documentHoldsPlaintextShares(doc: unknown): boolean {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return false;
  return Object.entries(doc).some(([k, v]) => isPlaintextSharesKey(k) && holdsKeyShares(v));
}

function normaliseTopLevel(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // Replaced by a boolean on the spot: the shares themselves go no further than this line.
    if (isPlaintextSharesKey(k)) {
      out.externalServerKeyShares = out.externalServerKeyShares === true || holdsKeyShares(v);
      continue;
    }
    const key = camelKey(k);
    out[key] = key === "externalServerKeySharesBackupInfo" ? normaliseBackupInfo(v) : v;
  }
  return out;
}

const backupEntriesSchema = z.union([z.array(z.unknown()), z.null()]).optional();

export const walletBackupInfoSchema = z.object({
  passwordEncrypted: z.boolean().default(false),
  backups: z
    .object(Object.fromEntries(BACKUP_LOCATIONS.map((l) => [l, backupEntriesSchema])) as Record<
      BackupLocation,
      typeof backupEntriesSchema
    >)
    .default({}),
});

export const walletPropertiesSchema = z.preprocess(
  normaliseTopLevel,
  z.object({
    walletId: z.string().min(1).max(255),
    accountAddress: z.string().min(1).max(255),
    chainName: z.string().min(1).max(32),
    thresholdSignatureScheme: z.string().min(1).max(32),
    // A string in the Node SDK; a list of indices in some serialisations: kept as text either way.
    derivationPath: z
      .union([z.string(), z.array(z.union([z.number(), z.string()]))])
      .nullish()
      .transform((v) => (v == null ? null : Array.isArray(v) ? JSON.stringify(v) : v)),
    externalServerKeySharesBackupInfo: walletBackupInfoSchema.nullish().transform((v) => v ?? null),
    // Only ever a boolean here (normaliseTopLevel), whatever the document held.
    externalServerKeyShares: z.unknown().optional(),
  }).transform(({ externalServerKeyShares, ...props }) => ({ ...props, plaintextSharesInCache: externalServerKeyShares === true })),
);

export type WalletProperties = z.output<typeof walletPropertiesSchema>;

export type ParseResult = { ok: true; value: WalletProperties } | { ok: false; error: string };

/** Accepts a JSON string or an already parsed object. Never throws; the error names fields, not values. */
export function parseWalletProperties(json: unknown): ParseResult {
  let input = json;
  if (typeof json === "string") {
    try {
      input = JSON.parse(json);
    } catch {
      return { ok: false, error: "not valid JSON" };
    }
  }
  const parsed = walletPropertiesSchema.safeParse(input);
  if (!parsed.success) {
    return { ok: false, error: parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ") };
  }
  return { ok: true, value: parsed.data };
}

/**
 * The wallet_properties row (minus id/timestamps) for parsed properties, with the derived filter columns.
 * Backup entries are counted per location and dropped: an entry is whatever the backend put there (a
 * password-encrypted share, say), and the console reads nothing of it but that it exists.
 */
export function toWalletPropertiesRow(props: WalletProperties, source: WalletPropertiesSource) {
  const info = props.externalServerKeySharesBackupInfo;
  const backupInfo: WalletBackupInfo | null = info
    ? {
        passwordEncrypted: info.passwordEncrypted,
        backups: Object.fromEntries(
          BACKUP_LOCATIONS.flatMap((l) => {
            const entries = info.backups[l];
            return Array.isArray(entries) ? [[l, entries.length]] : [];
          }),
        ) as WalletBackupInfo["backups"],
      }
    : null;
  const backupLocations = backupInfo
    ? BACKUP_LOCATIONS.filter((l) => (backupInfo.backups[l] ?? 0) > 0)
    : [];
  return {
    walletId: props.walletId,
    accountAddress: props.accountAddress,
    chainName: props.chainName,
    thresholdSignatureScheme: props.thresholdSignatureScheme,
    derivationPath: props.derivationPath,
    backupInfo,
    hasBackupInfo: backupInfo !== null,
    passwordEncrypted: backupInfo ? backupInfo.passwordEncrypted : null,
    backupLocations: [...backupLocations] as string[],
    backedUpAnywhere: backupLocations.length > 0,
    plaintextSharesInCache: props.plaintextSharesInCache,
    source,
  };
}

export type WalletPropertiesRow = ReturnType<typeof toWalletPropertiesRow>;

/**
 * A row as one snake_case JSON record, for set-based writes that send a batch as one JSON parameter and expand
 * it with `json(b)_to_recordset` (column types: varchar/text, backup_info jsonb, booleans, backup_locations
 * text[], source text).
 */
export function toWalletPropertiesRecord(r: WalletPropertiesRow) {
  return {
    wallet_id: r.walletId,
    account_address: r.accountAddress,
    chain_name: r.chainName,
    threshold_signature_scheme: r.thresholdSignatureScheme,
    derivation_path: r.derivationPath,
    backup_info: r.backupInfo,
    has_backup_info: r.hasBackupInfo,
    password_encrypted: r.passwordEncrypted,
    backup_locations: r.backupLocations,
    backed_up_anywhere: r.backedUpAnywhere,
    plaintext_shares_in_cache: r.plaintextSharesInCache,
    source: r.source,
  };
}
