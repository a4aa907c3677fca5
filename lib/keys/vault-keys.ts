import "server-only";
import { logger } from "@/lib/log";
import type { TransitKeyInfo, VaultClient } from "@/lib/vault";
import type { VaultState } from "./types";

/**
 * Vault's view of the Transit keys for the read pages. Pages poll (every browser, every 15 s), so answers are
 * shared for a few seconds per client and concurrent callers share one request in flight. A page must render
 * when Vault is down: failures come back as `{ keys: null, state }`, never thrown, and a hanging Vault is
 * cut off after a deadline well below the client's own timeout.
 */

const CACHE_MS = 5_000;
const DEADLINE_MS = 4_000;
const READ_CONCURRENCY = 8;

export type VaultKeysResult = { keys: TransitKeyInfo[]; state: VaultState } | { keys: null; state: VaultState };
export type VaultKeyResult = { info: TransitKeyInfo | null; state: VaultState } | { info: undefined; state: VaultState };

const UNAVAILABLE = "Vault could not be reached; key versions and ages are not shown. Record counts are current.";

class DeadlineError extends Error {}

// By name, not instanceof: the process-wide Vault client lives on globalThis and may have been created by
// another server bundle (route handlers, pages, instrumentation), whose error classes are other objects.
function vaultErrorName(err: unknown): string | undefined {
  return err instanceof Error && err.name.startsWith("Vault") && "operation" in err ? err.name : undefined;
}
const isVaultNotFound = (err: unknown) => vaultErrorName(err) === "VaultNotFoundError";

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError("deadline")), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

function stateOf(err: unknown): VaultState {
  if (vaultErrorName(err)) {
    const e = err as Error & { operation?: unknown; vaultStatus?: unknown };
    logger.warn({ operation: e.operation, vaultStatus: e.vaultStatus, errName: e.name }, "keys: Vault unavailable");
    // Vault error messages are built from safe fields only (lib/vault/errors.ts).
    return { available: false, message: `${UNAVAILABLE} (${e.message})` };
  }
  if (err instanceof DeadlineError) {
    logger.warn({ deadlineMs: DEADLINE_MS }, "keys: Vault did not answer in time");
    return { available: false, message: `${UNAVAILABLE} (no answer within ${DEADLINE_MS / 1000} s)` };
  }
  logger.error({ err }, "keys: unexpected error reading Vault");
  return { available: false, message: UNAVAILABLE };
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}

async function fetchAll(vault: VaultClient): Promise<TransitKeyInfo[]> {
  const names = await vault.listKeys();
  const infos = await mapLimited(names, READ_CONCURRENCY, async (name) => {
    try {
      return await vault.readKey(name);
    } catch (err) {
      // Deleted between list and read: it is simply gone.
      if (isVaultNotFound(err)) return null;
      throw err;
    }
  });
  return infos.filter((k): k is TransitKeyInfo => k !== null);
}

type Entry = { at: number; promise: Promise<TransitKeyInfo[]> };
const cache = new WeakMap<VaultClient, Entry>();

export async function readTransitKeys(vault: VaultClient, options: { fresh?: boolean } = {}): Promise<VaultKeysResult> {
  const now = Date.now();
  let entry = cache.get(vault);
  if (!entry || options.fresh || now - entry.at > CACHE_MS) {
    entry = { at: now, promise: withDeadline(fetchAll(vault), DEADLINE_MS) };
    cache.set(vault, entry);
    const mine = entry;
    // A failure is not cached: the next caller tries again.
    mine.promise.catch(() => {
      if (cache.get(vault) === mine) cache.delete(vault);
    });
  }
  try {
    return { keys: await entry.promise, state: { available: true } };
  } catch (err) {
    return { keys: null, state: stateOf(err) };
  }
}

/** One key; `info: null` when Vault does not have it, `undefined` when Vault is unreachable. */
export async function readTransitKey(vault: VaultClient, name: string): Promise<VaultKeyResult> {
  try {
    return { info: await withDeadline(vault.readKey(name), DEADLINE_MS), state: { available: true } };
  } catch (err) {
    if (isVaultNotFound(err)) return { info: null, state: { available: true } };
    return { info: undefined, state: stateOf(err) };
  }
}
