import "server-only";
import { getConfig } from "@/lib/config/env";
import type { DbOrTx } from "@/lib/db";
import { NotFoundError } from "@/lib/errors";
import type { VaultClient } from "@/lib/vault";
import { listCensus, listCensusByKey } from "./census";
import { isValidKeyName } from "./status";
import { buildKeySummaries, buildKeySummary, toCensusCells, type KeyPolicy } from "./summaries";
import type { KeyDetailDto, KeyListDto } from "./types";
import { readTransitKey, readTransitKeys } from "./vault-keys";

export function keyPolicyFromConfig(): KeyPolicy {
  const { maxAgeDays, environmentMapping } = getConfig().keys;
  return { maxAgeDays, environmentMapping };
}

/** Every Transit key Vault knows plus every key name the records use. Vault down: DB figures and a state. */
export async function listKeySummaries(
  db: DbOrTx,
  vault: VaultClient,
  options: { now?: Date; policy?: KeyPolicy } = {},
): Promise<KeyListDto> {
  const policy = options.policy ?? keyPolicyFromConfig();
  const [census, vaultKeys] = await Promise.all([listCensus(db), readTransitKeys(vault)]);
  const now = options.now ?? new Date();
  return {
    keys: buildKeySummaries(census, vaultKeys.keys, policy, now),
    vault: vaultKeys.state,
    maxAgeDays: policy.maxAgeDays,
    generatedAt: now.toISOString(),
  };
}

export class KeyNotFoundError extends NotFoundError {
  override name = "KeyNotFoundError";
}

/**
 * One key: its summary and records per (version, environment, layout). The name comes from a URL: anything
 * that is not a valid Transit key name is refused before it reaches SQL or Vault.
 */
export async function getKeyDetail(
  db: DbOrTx,
  vault: VaultClient,
  name: string,
  options: { now?: Date; policy?: KeyPolicy } = {},
): Promise<KeyDetailDto> {
  if (!isValidKeyName(name)) throw new KeyNotFoundError("That is not a valid Transit key name.");
  const policy = options.policy ?? keyPolicyFromConfig();
  const [rows, vaultKey] = await Promise.all([listCensusByKey(db, name), readTransitKey(vault, name)]);
  if (vaultKey.info === null && rows.length === 0) {
    throw new KeyNotFoundError("Neither Vault nor any share record knows a Transit key by that name.");
  }
  if (vaultKey.info === undefined && rows.length === 0) {
    throw new KeyNotFoundError("No share record uses a key by that name, and Vault could not be asked.");
  }
  const now = options.now ?? new Date();
  return {
    key: buildKeySummary(name, rows, vaultKey.info, policy, now),
    census: toCensusCells(rows, policy),
    vault: vaultKey.state,
    generatedAt: now.toISOString(),
  };
}
