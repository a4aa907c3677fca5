import "server-only";
import { sql } from "drizzle-orm";
import { getConfig } from "@/lib/config/env";
import { getDb } from "@/lib/db";
import { getVaultClient } from "@/lib/vault";

export type ComponentStatus = "ok" | "down";
export interface HealthReport {
  status: "ok" | "degraded";
  db: ComponentStatus;
  vault: ComponentStatus;
  idp: ComponentStatus;
}

const CHECK_TIMEOUT_MS = 3_000;

function withTimeout<T>(p: Promise<T>): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error("health check timed out")), CHECK_TIMEOUT_MS).unref()),
  ]);
}

async function probe(check: () => Promise<boolean>): Promise<ComponentStatus> {
  try {
    return (await withTimeout(check())) ? "ok" : "down";
  } catch {
    return "down";
  }
}

/**
 * Liveness of the three things the console cannot work without. The answer is deliberately coarse
 * (ok/down, no error texts, versions or addresses): it is served without a session to load balancers.
 */
export async function checkHealth(): Promise<HealthReport> {
  const { auth } = getConfig();
  const [db, vault, idp] = await Promise.all([
    probe(async () => {
      await (await getDb()).execute(sql`select 1`);
      return true;
    }),
    probe(async () => {
      const h = await getVaultClient().health();
      return h.initialized && !h.sealed;
    }),
    probe(async () => {
      if (!auth.issuer) return false;
      const res = await fetch(new URL(".well-known/openid-configuration", auth.issuer.endsWith("/") ? auth.issuer : `${auth.issuer}/`), {
        signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
      });
      return res.ok;
    }),
  ]);
  return { status: db === "ok" && vault === "ok" && idp === "ok" ? "ok" : "degraded", db, vault, idp };
}
