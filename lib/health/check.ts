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

/** One probe of the three components, uncached. */
export async function probeHealth(): Promise<HealthReport> {
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

/** How long an answer is reused. Short enough for a load balancer to notice an outage within seconds. */
export const HEALTH_CACHE_MS = 5_000;

/**
 * `check` with its answer shared: concurrent callers wait for one probe in flight, and later callers reuse
 * the answer for `ttlMs` after it arrived. Without this, every anonymous request to /api/health would make
 * a database query, a Vault request and an IdP request.
 */
export function cachedCheck<T>(check: () => Promise<T>, ttlMs: number, now: () => number = () => Date.now()): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  let last: { at: number; value: T } | undefined;
  return () => {
    if (last && now() - last.at < ttlMs) return Promise.resolve(last.value);
    inFlight ??= check()
      .then((value) => {
        last = { at: now(), value };
        return value;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}

/**
 * Liveness of the three things the console cannot work without. The answer is deliberately coarse
 * (ok/down, no error texts, versions or addresses): it is served without a session to load balancers.
 * Probed at most once per HEALTH_CACHE_MS per process.
 */
export const checkHealth: () => Promise<HealthReport> = cachedCheck(probeHealth, HEALTH_CACHE_MS);
