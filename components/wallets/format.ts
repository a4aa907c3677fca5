import type { BackupStatus, InventoryFlags, WalletIntegrityFlag } from "@/lib/inventory/types";

/** Display helpers of the Wallets pages: pure and client-safe. */

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  return iso.slice(0, 16).replace("T", " ");
}

export function ageDays(iso: string, now: number): number {
  return Math.max(0, Math.floor((now - Date.parse(iso)) / 86_400_000));
}

export function formatAgeDays(days: number): string {
  if (days < 1) return "today";
  if (days < 60) return `${days} d`;
  if (days < 730) return `${Math.floor(days / 30)} mo`;
  return `${(days / 365).toFixed(1)} y`;
}

/** 0x1234…abcd: enough to recognise, short enough for a table cell (the full address is in the title). */
export function shortAddress(a: string): string {
  return a.length > 18 ? `${a.slice(0, 10)}…${a.slice(-6)}` : a;
}

export const BACKUP_LABELS: Record<BackupStatus, string> = {
  backed_up: "Backed up",
  password_encrypted: "Backed up, password-encrypted",
  none: "No backup",
  missing_info: "Missing backup info",
  unknown: "No WalletProperties",
};

export const BACKUP_COLORS: Record<BackupStatus, string> = {
  backed_up: "green",
  password_encrypted: "teal",
  none: "orange",
  missing_info: "red",
  unknown: "gray",
};

export const ROW_FLAG_LABELS: Record<keyof InventoryFlags, string> = {
  plaintextInCache: "plaintext shares in cache",
  noShare: "no share record",
  noProperties: "no WalletProperties",
  cannotSign: "cannot sign",
  twoOfTwoUnbacked: "2-of-2, no backup",
  staleProperties: "StaleWalletProperties",
};

export const INTEGRITY_FLAG_TEXT: Record<WalletIntegrityFlag, string> = {
  "plaintext-in-cache":
    "The backend's WalletProperties cache held this wallet's plaintext key shares (externalServerKeyShares): the backend caches the SDK object as is. The console kept none of it; fix the backend and purge the cache entry.",
  "stale-properties": "WalletProperties have no backup info: the SDK will fail with StaleWalletProperties.",
  "cannot-sign": "No stored share and no backup: this wallet cannot sign.",
  "two-of-two-unbacked": "TWO_OF_TWO with no backup anywhere: losing the server share loses the wallet.",
  "share-without-properties": "A share record has no WalletProperties (the backend's cache has no entry for its address).",
  "unparsable-share": "A share record's ciphertext format was not recognised (key version unknown).",
  "behind-latest": "A share record is wrapped with an older key version than Vault's latest: re-wrap pending.",
};

export const FILTER_FLAG_LABELS: Record<string, string> = {
  plaintext_in_cache: "Plaintext shares in cache",
  no_share: "No share record",
  no_properties: "No WalletProperties",
  cannot_sign: "Cannot sign",
  two_of_two_unbacked: "2-of-2 without backup",
};
