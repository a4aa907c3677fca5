/**
 * DTOs of the Wallets pages: JSON-safe (dates as ISO strings), metadata only — never share material or
 * ciphertext; `fingerprint` is the first 8 bytes of SHA-256 of the stored bytes, hex. Types only, so client
 * components may import them.
 */

export type BackupStatus = "backed_up" | "password_encrypted" | "none" | "missing_info" | "unknown";

export interface InventoryFlags {
  /** The wallet's cached WalletProperties carried plaintext key shares (externalServerKeyShares). */
  plaintextInCache: boolean;
  /** WalletProperties without a share record. */
  noShare: boolean;
  /** Share record whose address has no WalletProperties. */
  noProperties: boolean;
  /** No share record and no backup anywhere. */
  cannotSign: boolean;
  /** TWO_OF_TWO with no backup anywhere. */
  twoOfTwoUnbacked: boolean;
  /** WalletProperties without backup info: the SDK fails with StaleWalletProperties. */
  staleProperties: boolean;
}

export interface InventoryRowDto {
  /** Share record id, or the WalletProperties id for a wallet without a share record. */
  id: string;
  walletId: string;
  accountAddress: string;
  chainName: string | null;
  thresholdSignatureScheme: string | null;
  /** The record's environment column, else the configured key → environment mapping; null when unknown. */
  environment: string | null;
  encryptionKeyId: string | null;
  keyVersion: number | null;
  /** Vault's latest version of the key, when known. */
  latestVersion: number | null;
  behindLatest: boolean | null;
  layout: string | null;
  fingerprint: string | null;
  createdAt: string;
  lastAccessedAt: string | null;
  /** Last re-wrap, or creation when never re-wrapped. */
  wrappedAt: string;
  accessCount: number | null;
  backupStatus: BackupStatus;
  flags: InventoryFlags;
}

export interface InventoryPageDto {
  rows: InventoryRowDto[];
  /** Cursor of the next page, or null on the last page. */
  nextCursor: string | null;
  limit: number;
}

export interface ShareRecordDto {
  id: string;
  accountAddress: string;
  encryptionKeyId: string;
  keyVersion: number | null;
  latestVersion: number | null;
  behindLatest: boolean | null;
  layout: string | null;
  fingerprint: string | null;
  environment: string | null;
  encryptionAlgorithm: string | null;
  createdAt: string;
  lastAccessedAt: string | null;
  lastRewrappedAt: string | null;
  wrappedAt: string;
  wrapAgeDays: number;
  accessCount: number | null;
}

export interface WalletPropertiesDto {
  walletId: string;
  accountAddress: string;
  chainName: string;
  thresholdSignatureScheme: string;
  derivationPath: string | null;
  hasBackupInfo: boolean;
  passwordEncrypted: boolean | null;
  backupLocations: string[];
  backedUpAnywhere: boolean;
  /** The cached document carried plaintext key shares (never their content). */
  plaintextSharesInCache: boolean;
  source: string;
  createdAt: string;
  updatedAt: string;
}

export type WalletIntegrityFlag =
  | "plaintext-in-cache"
  | "stale-properties"
  | "cannot-sign"
  | "two-of-two-unbacked"
  | "share-without-properties"
  | "unparsable-share"
  | "behind-latest";

export interface WalletAuditEventDto {
  seq: number;
  occurredAt: string;
  action: string;
  outcome: string;
  actor: string;
  targetType: string | null;
  targetId: string | null;
}

export interface WalletDetailDto {
  walletId: string;
  properties: WalletPropertiesDto[];
  shares: ShareRecordDto[];
  flags: WalletIntegrityFlag[];
  backupStatus: BackupStatus;
  /** The audit events naming this wallet; null when the viewer's role may not read the audit trail. */
  auditEvents: WalletAuditEventDto[] | null;
  /** Vault could not be asked for latest versions (behind-latest unknown). */
  vaultUnavailable: boolean;
}
