import "server-only";
import { getConfig } from "@/lib/config/env";
import { createVaultClient, type VaultClient } from "./client";

export {
  createVaultClient,
  type BatchItemResult,
  type EncryptItem,
  type HmacAlgorithm,
  type RewrapItem,
  type TransitKeyInfo,
  type TransitKeyVersion,
  type VaultClient,
  type VaultClientOptions,
} from "./client";
export * from "./errors";

/**
 * Kept on globalThis so that Next's dev-mode module reloading does not leave orphaned clients with their
 * own renewal timers and AppRole logins behind.
 */
const SLOT = Symbol.for("keyshare-console.vault-client");
type Slot = { [SLOT]?: VaultClient };

/** The process-wide client, configured from `getConfig().vault`. */
export function getVaultClient(): VaultClient {
  const g = globalThis as Slot;
  if (!g[SLOT]) {
    const v = getConfig().vault;
    g[SLOT] = createVaultClient({
      addr: v.addr,
      token: v.token,
      appRole: v.appRole,
      transitMount: v.transitMount,
      namespace: v.namespace,
      caCert: v.caCert,
      timeoutMs: v.timeoutMs,
    });
  }
  return g[SLOT];
}
