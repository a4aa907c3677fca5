/** DTOs of the Overview: plain data, safe for the browser (no share material, no key material). */
export interface KeyVersionCount {
  keyName: string;
  keyVersion: number | null;
  records: number;
}

export interface OverviewFigures {
  wallets: number;
  shareRecords: number;
  transitKeys: number | null;
  recordsBehindLatest: number | null;
  /** Key names the share records use that Vault does not know (a red flag). */
  unknownKeys: string[];
  vaultAvailable: boolean;
  generatedAt: string;
}
