import "server-only";
import type { InventoryRowDto } from "./types";

/**
 * CSV of the Wallets table (RFC 4180: CRLF, quotes doubled). Cells that a spreadsheet would treat as a
 * formula (starting with = + - @, or a tab/CR that some tools strip first) are prefixed with ' so opening the
 * export never runs anything (CSV/formula injection). Metadata only: the same DTO the table shows.
 */

export const CSV_COLUMNS: readonly [string, (r: InventoryRowDto) => string | number | boolean | null][] = [
  ["wallet_id", (r) => r.walletId],
  ["account_address", (r) => r.accountAddress],
  ["chain", (r) => r.chainName],
  ["threshold_scheme", (r) => r.thresholdSignatureScheme],
  ["environment", (r) => r.environment],
  ["transit_key", (r) => r.encryptionKeyId],
  ["key_version", (r) => r.keyVersion],
  ["latest_version", (r) => r.latestVersion],
  ["behind_latest", (r) => r.behindLatest],
  ["layout", (r) => r.layout],
  ["fingerprint", (r) => r.fingerprint],
  ["created_at", (r) => r.createdAt],
  ["last_accessed_at", (r) => r.lastAccessedAt],
  ["wrapped_at", (r) => r.wrappedAt],
  ["access_count", (r) => r.accessCount],
  ["backup_status", (r) => r.backupStatus],
  ["no_share_record", (r) => r.flags.noShare],
  ["no_wallet_properties", (r) => r.flags.noProperties],
  ["cannot_sign", (r) => r.flags.cannotSign],
  ["two_of_two_unbacked", (r) => r.flags.twoOfTwoUnbacked],
  ["stale_properties", (r) => r.flags.staleProperties],
  ["plaintext_shares_in_cache", (r) => r.flags.plaintextInCache],
];

export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return "";
  let s = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function csvHeader(): string {
  return CSV_COLUMNS.map(([name]) => name).join(",") + "\r\n";
}

export function csvRows(rows: readonly InventoryRowDto[]): string {
  let out = "";
  for (const r of rows) out += CSV_COLUMNS.map(([, get]) => csvCell(get(r))).join(",") + "\r\n";
  return out;
}
