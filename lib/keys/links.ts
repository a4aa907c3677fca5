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
