/**
 * Links from the key pages into the Wallets inventory (its URL filters: `key`, `version`, `behind=1`).
 * Pure and client-safe; the inventory validates these parameters itself.
 */
export function inventoryHref(filter: { key: string; version?: number; behind?: boolean }): string {
  const params = new URLSearchParams({ key: filter.key });
  if (filter.version !== undefined) params.set("version", String(filter.version));
  if (filter.behind) params.set("behind", "1");
  return `/wallets?${params.toString()}`;
}

export function keyHref(name: string): string {
  return `/keys/${encodeURIComponent(name)}`;
}

/**
 * The Wallets list behind each Overview risk counter (its URL filters: `backup`, `flag`). The list shows share
 * records (one row per record, plus one per wallet without a record), so a wallet holding several records of
 * the same risk appears once per record there.
 */
export const RISK_LIST_HREF = {
  missingBackupInfo: "/wallets?backup=missing_info",
  cannotSign: "/wallets?flag=cannot_sign",
  twoOfTwoNotBackedUp: "/wallets?flag=two_of_two_unbacked",
  sharesWithoutProperties: "/wallets?flag=no_properties",
} as const;
