import "server-only";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { z } from "zod";

/**
 * The one place that reads process.env. Everything else asks `getConfig()`.
 *
 * Modes (DESIGN §3):
 * - embedded: `npm start` launches the dev stack (PGlite, dev Transit server, local IdP) and runs the app
 *   with KEYSHARE_EMBEDDED=1 and the addresses of those components. A DEV MODE banner shows.
 * - production: NODE_ENV=production without KEYSHARE_EMBEDDED. Every dev component is refused, and the
 *   settings a real deployment needs are required; a missing one fails start with a message naming it.
 *
 * `next start` always sets NODE_ENV=production, so the embedded launcher cannot rely on NODE_ENV to
 * mean "dev"; KEYSHARE_EMBEDDED is that explicit, visible opt-in. Because it switches the production checks
 * off, it is only accepted while every component is the launcher's own and on this machine: PGlite, the dev
 * Transit server and the demo IdP on loopback addresses, no AppRole, no remote Redis. A KEYSHARE_EMBEDDED=1
 * left over in a real deployment therefore stops start-up instead of running it as a demo.
 *
 * The demo role mapping (DEMO_ROLE_MAPPING) only ever applies to an issuer on a loopback address (the demo
 * IdP): its group names are guessable, so on a real IdP they could hand anyone in "keyshare-admins" the admin role.
 */

const ROLES = ["viewer", "auditor", "operator", "officer", "admin"] as const;
export type RoleName = (typeof ROLES)[number];

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

const positiveInt = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) {
        ctx.addIssue({ code: "custom", message: "must be a positive integer" });
        return z.NEVER;
      }
      return n;
    });

/** "group-a=officer,group-b=viewer" or a JSON object {"group-a":"officer"}. */
const mapping = <T extends string>(values: readonly T[] | null, fallback: Record<string, T>) =>
  z
    .string()
    .optional()
    .transform((raw, ctx): Record<string, T> => {
      if (raw === undefined || raw.trim() === "") return fallback;
      let entries: [string, string][];
      const text = raw.trim();
      if (text.startsWith("{")) {
        try {
          const parsed: unknown = JSON.parse(text);
          if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error();
          entries = Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [k, String(v)]);
        } catch {
          ctx.addIssue({ code: "custom", message: "is not a JSON object" });
          return z.NEVER;
        }
      } else {
        entries = [];
        for (const pair of text.split(",")) {
          const [k, v, ...rest] = pair.split("=").map((s) => s.trim());
          if (!k || !v || rest.length > 0) {
            ctx.addIssue({ code: "custom", message: `entry "${pair}" is not name=value` });
            return z.NEVER;
          }
          entries.push([k, v]);
        }
      }
      const out: Record<string, T> = {};
      for (const [k, v] of entries) {
        if (values && !(values as readonly string[]).includes(v)) {
          ctx.addIssue({ code: "custom", message: `"${v}" is not one of ${values.join(", ")}` });
          return z.NEVER;
        }
        out[k] = v as T;
      }
      return out;
    });

/** Comma-separated IPs or CIDR ranges (IPv4, IPv6) of the reverse proxies in front of the app (lib/auth/client-ip.ts). */
const trustedProxies = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const out: { address: string; prefix: number; family: "ipv4" | "ipv6" }[] = [];
    for (const item of (raw ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
      const [address = "", bits, ...rest] = item.split("/");
      const v = isIP(address);
      const max = v === 4 ? 32 : 128;
      const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
      if (v === 0 || address.includes("%") || rest.length > 0 || !(prefix >= 0 && prefix <= max)) {
        ctx.addIssue({ code: "custom", message: `"${item}" is not an IP address or CIDR range` });
        return z.NEVER;
      }
      out.push({ address, prefix, family: v === 4 ? "ipv4" : "ipv6" });
    }
    return out;
  });

/** Groups the embedded IdP's demo accounts carry; production must configure its own mapping. */
export const DEMO_ROLE_MAPPING: Record<string, RoleName> = {
  "keyshare-admins": "admin",
  "keyshare-officers": "officer",
  "keyshare-operators": "operator",
  "keyshare-auditors": "auditor",
  "keyshare-viewers": "viewer",
};

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  KEYSHARE_EMBEDDED: optionalString.transform((v) => v === "1" || v === "true"),
  DATA_DIR: optionalString.transform((v) => v ?? ".data"),
  DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  // The owner role `npm run db:migrate` connects as (it owns the tables and grants DATABASE_URL's role); unset:
  // one role does both, as in embedded mode.
  DATABASE_MIGRATION_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  VAULT_ADDR: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  VAULT_TOKEN: optionalString,
  VAULT_ROLE_ID: optionalString,
  VAULT_SECRET_ID: optionalString,
  VAULT_APPROLE_MOUNT: optionalString.transform((v) => v ?? "approle"),
  VAULT_TRANSIT_MOUNT: optionalString.transform((v) => v ?? "transit"),
  VAULT_NAMESPACE: optionalString,
  VAULT_TIMEOUT_MS: positiveInt(10_000),
  VAULT_CACERT: optionalString,
  AUTH_OIDC_ISSUER: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  AUTH_OIDC_CLIENT_ID: optionalString,
  AUTH_OIDC_CLIENT_SECRET: optionalString,
  AUTH_SECRET: optionalString,
  AUTH_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  AUTH_ROLE_MAPPING: mapping(ROLES, {}),
  AUTH_GROUPS_CLAIM: optionalString.transform((v) => v ?? "groups"),
  SESSION_MAX_AGE_SECONDS: positiveInt(8 * 3600),
  SESSION_IDLE_TIMEOUT_SECONDS: positiveInt(30 * 60),
  FRESH_SIGN_IN_MAX_AGE_SECONDS: positiveInt(300).pipe(z.number().max(3600, "must be at most 3600 (one hour)")),
  KEY_ENVIRONMENT_MAPPING: mapping(null, {}),
  KEY_MAX_AGE_DAYS: positiveInt(90),
  REDIS_URL: optionalString.pipe(z.url({ protocol: /^rediss?$/ }).optional()),
  REDIS_SYNC_INTERVAL_SECONDS: positiveInt(300),
  CAMPAIGN_BATCH_SIZE: positiveInt(500).pipe(z.number().max(1000, "must be at most 1000 (Vault batch size)")),
  CAMPAIGN_WORKER_CONCURRENCY: positiveInt(1).pipe(z.number().max(32, "must be at most 32")),
  CAMPAIGN_FAILURE_BUDGET: positiveInt(20),
  CAMPAIGN_LEASE_SECONDS: positiveInt(60),
  TRUSTED_PROXIES: trustedProxies,
  AUDIT_CHECKPOINT_EVERY_EVENTS: positiveInt(1000).pipe(z.number().max(100_000, "must be at most 100000")),
  AUDIT_CHECKPOINT_INTERVAL_MINUTES: positiveInt(10),
  AUDIT_CHECKPOINT_KEY: optionalString.transform((v) => v ?? "keyshare-audit-checkpoints"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  // Background jobs (lib/jobs): whether web instances run them too (embedded mode always does), and how long
  // a stopping process waits for a running job.
  KEYSHARE_RUN_JOBS_IN_WEB: optionalString.pipe(z.enum(["true", "false", "1", "0"]).optional()).transform((v) => v !== "false" && v !== "0"),
  WORKER_SHUTDOWN_TIMEOUT_MS: positiveInt(30_000),
});

/** The dev Transit server's address in embedded and development mode. */
const DEFAULT_VAULT_ADDR = "http://127.0.0.1:8200";

/**
 * 127.0.0.0/8, ::1 and `localhost`: addresses whose traffic never leaves the machine. Takes a hostname as the
 * WHATWG URL parser gives it, which has already turned 127.1, 0x7f.0.0.1 and the long IPv6 forms into
 * 127.0.0.1 and [::1]. Any other name (including *.localhost, which a resolver may send elsewhere) is not loopback.
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

function parseUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

export function isLoopbackUrl(value: string): boolean {
  const url = parseUrl(value);
  return url !== null && isLoopbackHost(url.hostname);
}

/** https, or any scheme on a loopback address (no network between the two ends to read or alter plain http). */
function isTlsOrLoopback(value: string): boolean {
  const url = parseUrl(value);
  return url !== null && (url.protocol === "https:" || isLoopbackHost(url.hostname));
}

const LOOPBACK = "a loopback address (127.0.0.0/8, ::1, localhost)";

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Keyshare Console configuration is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export type Config = ReturnType<typeof loadConfig>;

export function loadConfig(env: Record<string, string | undefined> = process.env) {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  }
  const e = parsed.data;
  const production = e.NODE_ENV === "production" && !e.KEYSHARE_EMBEDDED;
  const problems: string[] = [];

  if (production) {
    if (!e.DATABASE_URL) problems.push("DATABASE_URL is required in production (the embedded PGlite database is a dev component)");
    if (!e.VAULT_ADDR) problems.push("VAULT_ADDR is required in production (the dev Transit server is a dev component)");
    if (!e.VAULT_TOKEN && !(e.VAULT_ROLE_ID && e.VAULT_SECRET_ID))
      problems.push("VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID, are required in production");
    if (!e.AUTH_OIDC_ISSUER) problems.push("AUTH_OIDC_ISSUER is required in production (the local IdP is a dev component)");
    if (!e.AUTH_OIDC_CLIENT_ID) problems.push("AUTH_OIDC_CLIENT_ID is required in production");
    if (!e.AUTH_OIDC_CLIENT_SECRET) problems.push("AUTH_OIDC_CLIENT_SECRET is required in production");
    if (!e.AUTH_SECRET || e.AUTH_SECRET.length < 32) problems.push("AUTH_SECRET is required in production (at least 32 characters)");
    if (Object.keys(e.AUTH_ROLE_MAPPING).length === 0)
      problems.push("AUTH_ROLE_MAPPING is required in production (IdP group → role, e.g. sec-officers=officer)");
    if (e.VAULT_ADDR && !isTlsOrLoopback(e.VAULT_ADDR))
      problems.push(`VAULT_ADDR must be https:// in production (plain http carries the Vault token in clear); only ${LOOPBACK} may use http`);
    if (e.AUTH_OIDC_ISSUER && !isTlsOrLoopback(e.AUTH_OIDC_ISSUER))
      problems.push(`AUTH_OIDC_ISSUER must be https:// in production (the IdP's keys and tokens travel over it); only ${LOOPBACK} may use http`);
    if (!e.AUTH_URL)
      problems.push("AUTH_URL is required in production (the console's public URL; without it the request's Host header would decide redirects and the allowed origin)");
    else if (!isTlsOrLoopback(e.AUTH_URL))
      problems.push(`AUTH_URL must be https:// in production (session cookies travel over it); only ${LOOPBACK} may use http`);
  }
  if (e.KEYSHARE_EMBEDDED) {
    const embedded = "in embedded mode (KEYSHARE_EMBEDDED=1 runs the launcher's dev components only; unset it for production)";
    if (e.DATABASE_URL) problems.push(`DATABASE_URL must be unset ${embedded}: the database is the launcher's PGlite`);
    if (e.DATABASE_MIGRATION_URL) problems.push(`DATABASE_MIGRATION_URL must be unset ${embedded}: the database is the launcher's PGlite`);
    if (e.VAULT_ADDR && !(e.VAULT_ADDR.startsWith("http:") && isLoopbackUrl(e.VAULT_ADDR)))
      problems.push(`VAULT_ADDR must be the dev Transit server at an http:// loopback address ${embedded}`);
    if (e.VAULT_ROLE_ID || e.VAULT_SECRET_ID) problems.push(`VAULT_ROLE_ID and VAULT_SECRET_ID (AppRole) must be unset ${embedded}`);
    if (e.AUTH_OIDC_ISSUER && !isLoopbackUrl(e.AUTH_OIDC_ISSUER))
      problems.push(`AUTH_OIDC_ISSUER must be the demo IdP at ${LOOPBACK} ${embedded}`);
    if (e.AUTH_URL && !(e.AUTH_URL.startsWith("http:") && isLoopbackUrl(e.AUTH_URL)))
      problems.push(`AUTH_URL must be an http:// loopback address ${embedded}`);
    if (e.REDIS_URL && !isLoopbackUrl(e.REDIS_URL)) problems.push(`REDIS_URL must be ${LOOPBACK} ${embedded}`);
  }
  const demoIssuer = !e.AUTH_OIDC_ISSUER || isLoopbackUrl(e.AUTH_OIDC_ISSUER);
  if (!demoIssuer && Object.keys(e.AUTH_ROLE_MAPPING).length === 0 && !production)
    problems.push("AUTH_ROLE_MAPPING is required with an AUTH_OIDC_ISSUER that is not on a loopback address (the demo mapping only applies to the local demo IdP)");
  if (e.DATABASE_MIGRATION_URL && !e.DATABASE_URL)
    problems.push("DATABASE_MIGRATION_URL needs DATABASE_URL (the runtime role it grants privileges to)");
  if ((e.VAULT_ROLE_ID && !e.VAULT_SECRET_ID) || (!e.VAULT_ROLE_ID && e.VAULT_SECRET_ID))
    problems.push("VAULT_ROLE_ID and VAULT_SECRET_ID must be set together");
  const vaultCaCert = e.VAULT_CACERT ? readCaCert(e.VAULT_CACERT, problems) : undefined;
  if (e.VAULT_CACERT && new URL(e.VAULT_ADDR ?? DEFAULT_VAULT_ADDR).protocol !== "https:")
    problems.push("VAULT_CACERT is set but VAULT_ADDR is not https:// (the CA would never be used)");
  if (problems.length > 0) throw new ConfigError(problems);

  const roleMapping: Record<string, RoleName> =
    Object.keys(e.AUTH_ROLE_MAPPING).length > 0 ? e.AUTH_ROLE_MAPPING : demoIssuer ? DEMO_ROLE_MAPPING : {};

  return {
    nodeEnv: e.NODE_ENV,
    /** True when any dev component is in use; drives the DEV MODE banner. */
    devMode: !production,
    embedded: e.KEYSHARE_EMBEDDED,
    dataDir: e.DATA_DIR,
    database: e.DATABASE_URL
      ? ({ kind: "postgres", url: e.DATABASE_URL } as const)
      : ({ kind: "pglite", dataDir: `${e.DATA_DIR}/pglite` } as const),
    /** The owner role's connection for `npm run db:migrate`; undefined: DATABASE_URL's role does both. */
    migrationDatabaseUrl: e.DATABASE_MIGRATION_URL,
    vault: {
      addr: e.VAULT_ADDR ?? DEFAULT_VAULT_ADDR,
      token: e.VAULT_TOKEN,
      appRole: e.VAULT_ROLE_ID && e.VAULT_SECRET_ID
        ? { roleId: e.VAULT_ROLE_ID, secretId: e.VAULT_SECRET_ID, mount: e.VAULT_APPROLE_MOUNT }
        : undefined,
      transitMount: e.VAULT_TRANSIT_MOUNT,
      namespace: e.VAULT_NAMESPACE,
      timeoutMs: e.VAULT_TIMEOUT_MS,
      /** PEM text read from VAULT_CACERT at start (public certificates, not a secret). */
      caCert: vaultCaCert,
    },
    auth: {
      issuer: e.AUTH_OIDC_ISSUER,
      clientId: e.AUTH_OIDC_CLIENT_ID,
      clientSecret: e.AUTH_OIDC_CLIENT_SECRET,
      secret: e.AUTH_SECRET,
      url: e.AUTH_URL,
      groupsClaim: e.AUTH_GROUPS_CLAIM,
      roleMapping,
      sessionMaxAgeSeconds: e.SESSION_MAX_AGE_SECONDS,
      sessionIdleTimeoutSeconds: e.SESSION_IDLE_TIMEOUT_SECONDS,
      /** How recent the IdP sign-in must be for commands that demand a fresh one (approvals, exports, …). */
      freshSignInMaxAgeSeconds: e.FRESH_SIGN_IN_MAX_AGE_SECONDS,
    },
    keys: {
      environmentMapping: e.KEY_ENVIRONMENT_MAPPING,
      maxAgeDays: e.KEY_MAX_AGE_DAYS,
    },
    campaigns: {
      /** Default records per Transit call for new campaigns (each campaign stores its own). */
      batchSize: e.CAMPAIGN_BATCH_SIZE,
      /** Batches in flight at once per worker process. */
      concurrency: e.CAMPAIGN_WORKER_CONCURRENCY,
      /** Consecutive failed Vault calls after which a campaign pauses itself. */
      failureBudget: e.CAMPAIGN_FAILURE_BUDGET,
      /** How long a claimed range stays reserved for a worker that went silent. */
      leaseSeconds: e.CAMPAIGN_LEASE_SECONDS,
    },
    audit: {
      /** A checkpoint at the latest after this many events… */
      checkpointEveryEvents: e.AUDIT_CHECKPOINT_EVERY_EVENTS,
      /** …or this long after the previous one (also when idle: a missing checkpoint then means a deleted tail). */
      checkpointIntervalMs: e.AUDIT_CHECKPOINT_INTERVAL_MINUTES * 60_000,
      /** Transit key the checkpoints are HMACed with (usable by the console, never exportable). */
      checkpointKey: e.AUDIT_CHECKPOINT_KEY,
    },
    redisUrl: e.REDIS_URL,
    redisSyncIntervalSeconds: e.REDIS_SYNC_INTERVAL_SECONDS,
    logLevel: e.LOG_LEVEL,
    jobs: { runInWeb: e.KEYSHARE_RUN_JOBS_IN_WEB, shutdownTimeoutMs: e.WORKER_SHUTDOWN_TIMEOUT_MS },
    /** Empty: client addresses are not recorded (lib/auth/client-ip.ts). */
    trustedProxies: e.TRUSTED_PROXIES,
  };
}

/** The PEM file VAULT_CACERT names, read once at start; a missing or non-PEM file is a start-up problem. */
function readCaCert(path: string, problems: string[]): string | undefined {
  let pem: string;
  try {
    pem = readFileSync(path, "utf8");
  } catch (err) {
    problems.push(`VAULT_CACERT: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
    return undefined;
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    problems.push(`VAULT_CACERT: ${path} holds no PEM certificate`);
    return undefined;
  }
  return pem;
}

let cached: Config | undefined;

export function getConfig(): Config {
  cached ??= loadConfig();
  return cached;
}
