/**
 * DTOs of the Keys pages and the key part of the Overview: plain JSON-safe data (dates as ISO strings) with
 * metadata only — no share material, no key material. Types only, so client components may import them.
 */

export type RotationStatus = "ok" | "due" | "overdue" | "unknown";

export type KeyFlag =
  /** Records use this key name but Vault does not know it: those records cannot be decrypted or re-wrapped. */
  | "missing-in-vault"
  /** Records on versions below min_decryption_version (or trimmed): Vault refuses to decrypt them. */
  | "records-below-min-decryption"
  /** Records claiming a version newer than Vault's latest. */
  | "records-above-latest"
  /** Ciphertexts whose version could not be parsed. */
  | "unparsable-records"
  /** Key material can be exported from Vault. */
  | "exportable"
  | "plaintext-backup"
  | "deletion-allowed"
  /** Records of more than one environment share the key (the storage guide says: one key per environment). */
  | "multi-environment"
  | "overdue"
  | "due";

export interface KeyVersionDto {
  version: number;
  /** From Vault; null for versions Vault no longer lists (below min_decryption_version) or when Vault is down. */
  createdAt: string | null;
  ageDays: number | null;
  records: number;
  isLatest: boolean;
  /** Below min_decryption_version: Vault will not decrypt or re-wrap it. */
  belowMinDecryption: boolean;
  /** Trimmed from the keyring (below min_available_version). */
  trimmed: boolean;
}

export interface KeyEnvironmentCount {
  /** null: neither the record nor the key mapping says. */
  environment: string | null;
  records: number;
}

export interface KeySummaryDto {
  name: string;
  /** null: Vault unreachable, so unknown. */
  inVault: boolean | null;
  /** null when Vault does not know the key or is unreachable. */
  vault: {
    type: string;
    latestVersion: number;
    latestCreatedAt: string | null;
    minDecryptionVersion: number;
    minEncryptionVersion: number;
    minAvailableVersion: number;
    derived: boolean;
    exportable: boolean;
    allowPlaintextBackup: boolean;
    deletionAllowed: boolean;
    autoRotatePeriodSeconds: number;
    supportsEncryption: boolean;
  } | null;
  rotation: {
    status: RotationStatus;
    ageDays: number | null;
    maxAgeDays: number;
    policyDueAt: string | null;
    daysUntilDue: number | null;
    autoRotateDueAt: string | null;
    autoRotationMeetsPolicy: boolean;
  };
  records: number;
  /** Records below the latest version (null when the latest version is unknown: Vault down or key missing). */
  recordsBehind: number | null;
  recordsUnknownVersion: number;
  layouts: { direct: number; envelope: number; unknown: number };
  environments: KeyEnvironmentCount[];
  flags: KeyFlag[];
  versions: KeyVersionDto[];
}

export interface VaultState {
  available: boolean;
  /** Safe, user-facing reason when unavailable. */
  message?: string;
}

export interface KeyListDto {
  keys: KeySummaryDto[];
  vault: VaultState;
  maxAgeDays: number;
  generatedAt: string;
}

export interface KeyCensusCell {
  version: number | null;
  environment: string | null;
  layout: "direct" | "envelope" | null;
  records: number;
}

export interface KeyDetailDto {
  key: KeySummaryDto;
  /** Records per (version, environment, layout), for the breakdown table. */
  census: KeyCensusCell[];
  vault: VaultState;
  generatedAt: string;
}
