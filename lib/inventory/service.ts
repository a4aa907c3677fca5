import "server-only";
import { getConfig } from "@/lib/config/env";
import { getDb } from "@/lib/db";
import { readTransitKeys } from "@/lib/keys/vault-keys";
import { getVaultClient } from "@/lib/vault";
import type { InventoryContext } from "./queries";

/**
 * What the Wallets queries need besides the database: the configured key → environment mapping and Vault's
 * latest version per key ("behind latest"). Vault answers are shared for a few seconds across requests
 * (lib/keys/vault-keys: short cache, one request in flight, deadline); when Vault is down the list still
 * renders, with behind-latest unknown, and only the "behind latest" filter is refused.
 */
export async function getInventoryContext(): Promise<InventoryContext> {
  const { keys } = await readTransitKeys(getVaultClient());
  return {
    environmentMapping: getConfig().keys.environmentMapping,
    latestVersions: keys ? new Map(keys.map((k) => [k.name, k.latestVersion])) : null,
  };
}

export async function getInventoryDeps() {
  const [db, ctx] = await Promise.all([getDb(), getInventoryContext()]);
  return { db, ctx };
}

/** Environments offered in the filter: the configured mapping's values plus the usual names. */
export function environmentOptions(): string[] {
  return [...new Set(["dev", "staging", "prod", ...Object.values(getConfig().keys.environmentMapping)])].sort();
}
