/** DTOs of the Overview: plain data, safe for the browser (no share material, no key material). */
import type { KeyFlag, RotationStatus } from "@/lib/keys/types";

export interface KeyVersionCount {
  keyName: string;
  keyVersion: number | null;
  records: number;
}

export interface OverviewKey {
  name: string;
  /** null: Vault unreachable. */
  inVault: boolean | null;
  latestVersion: number | null;
  latestCreatedAt: string | null;
  ageDays: number | null;
  status: RotationStatus;
  policyDueAt: string | null;
  daysUntilDue: number | null;
  autoRotatePeriodSeconds: number | null;
  autoRotateDueAt: string | null;
  autoRotationMeetsPolicy: boolean;
  records: number;
  recordsBehind: number | null;
  /** Environments of this key's records (row column, else the key mapping); unknown ones left out. */
  environments: string[];
  flags: KeyFlag[];
}

/** One bar segment of the re-encryption debt chart. */
export interface DebtBar {
  keyName: string;
  version: number | null;
  records: number;
  /** Below the key's latest version (false when unknown). */
  behind: boolean;
}

export interface TrendPoint {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  records: number;
  recordsBehind: number | null;
}

export interface RiskFigures {
  /** WalletProperties whose cached document carried plaintext key shares: the most severe risk. */
  plaintextSharesInCache: number;
  missingBackupInfo: number;
  cannotSign: number;
  twoOfTwoNotBackedUp: number;
  sharesWithoutProperties: number;
}

export interface OverviewFigures {
  wallets: number;
  shareRecords: number;
  transitKeys: number | null;
  recordsBehindLatest: number | null;
  /** Key names the share records use that Vault does not know (a red flag). */
  unknownKeys: string[];
  /** Keys whose records come from more than one environment. */
  multiEnvironmentKeys: string[];
  vaultAvailable: boolean;
  vaultMessage?: string;
  maxAgeDays: number;
  statusCounts: Record<RotationStatus, number>;
  keys: OverviewKey[];
  debt: DebtBar[];
  trend: TrendPoint[];
  risk: RiskFigures;
  generatedAt: string;
}
