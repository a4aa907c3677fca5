import "server-only";
import { getConfig } from "@/lib/config/env";

export interface SettingsSummary {
  mode: "embedded" | "production" | "development";
  database: string;
  vaultAddress: string;
  transitMount: string;
  vaultAuth: "token" | "approle";
  /** How the connection to Vault is protected. */
  vaultTls: string;
  identityProvider: string;
  groupsClaim: string;
  roleMapping: { group: string; role: string }[];
  sessionMaxAgeMinutes: number;
  sessionIdleTimeoutMinutes: number;
  keyMaxAgeDays: number;
  keyEnvironmentMapping: { key: string; environment: string }[];
}

/** What an admin may see of the configuration: addresses and policies, never a token, secret or password. */
export function getSettingsSummary(): SettingsSummary {
  const c = getConfig();
  const dbUrl = c.database.kind === "postgres" ? new URL(c.database.url) : null;
  return {
    mode: c.embedded ? "embedded" : c.devMode ? "development" : "production",
    database: dbUrl ? `PostgreSQL at ${dbUrl.hostname}:${dbUrl.port || "5432"}${dbUrl.pathname}` : `PGlite (embedded) in ${c.database.kind === "pglite" ? c.database.dataDir : ""}`,
    vaultAddress: c.vault.addr,
    transitMount: c.vault.transitMount,
    vaultAuth: c.vault.appRole ? "approle" : "token",
    vaultTls: new URL(c.vault.addr).protocol !== "https:"
      ? "none: plain http (use https outside a dev machine)"
      : `verified against ${c.vault.caCert ? "the private CA in VAULT_CACERT" : "the system CAs"}; redirects never followed`,
    identityProvider: c.auth.issuer ?? "not configured",
    groupsClaim: c.auth.groupsClaim,
    roleMapping: Object.entries(c.auth.roleMapping).map(([group, role]) => ({ group, role })),
    sessionMaxAgeMinutes: Math.round(c.auth.sessionMaxAgeSeconds / 60),
    sessionIdleTimeoutMinutes: Math.round(c.auth.sessionIdleTimeoutSeconds / 60),
    keyMaxAgeDays: c.keys.maxAgeDays,
    keyEnvironmentMapping: Object.entries(c.keys.environmentMapping).map(([key, environment]) => ({ key, environment })),
  };
}
