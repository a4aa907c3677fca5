/**
 * Which Vault the conformance suite talks to.
 *
 * - `VAULT_ADDR` set: a real HashiCorp Vault or OpenBao, authenticated with `VAULT_TOKEN` (a root token or one
 *   that may enable/disable mounts), optionally in `VAULT_NAMESPACE`.
 * - otherwise: the project's dev Transit server, started in-process on a free port.
 *
 * `isRealVault` is computed synchronously from the environment because Vitest evaluates `it.skipIf(...)`
 * while collecting tests, before any hook has run.
 */
import type { RunningTransitServer } from "../server";

export const isRealVault = Boolean(process.env.VAULT_ADDR);

export interface Target {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:8200`. */
  url: string;
  token: string;
  namespace?: string;
  isRealVault: boolean;
  /** Present only for the in-process dev server (fault injection is dev-only). */
  dev?: RunningTransitServer;
  close(): Promise<void>;
}

export async function openTarget(): Promise<Target> {
  const addr = process.env.VAULT_ADDR;
  if (addr) {
    const token = process.env.VAULT_TOKEN;
    if (!token) throw new Error("VAULT_ADDR is set but VAULT_TOKEN is not: the conformance suite needs a token");
    const namespace = process.env.VAULT_NAMESPACE || undefined;
    return { url: addr.replace(/\/+$/, ""), token, namespace, isRealVault: true, close: async () => {} };
  }
  // Imported lazily so a run against a real Vault never loads the dev server.
  const { startTransitServer } = await import("../server");
  const dev = await startTransitServer({ port: 0, quiet: true });
  return {
    url: dev.url.replace(/\/+$/, ""),
    token: dev.token,
    isRealVault: false,
    dev,
    close: () => dev.close(),
  };
}
