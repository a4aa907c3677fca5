import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { DEV_SIGN_IN_FILE, type DevSignIn } from "@/app/login/dev-sign-in";
import type { Db } from "@/lib/db/client";
import type { VaultClient } from "@/lib/vault";
import { DEMO_ACCOUNTS, DEMO_PASSWORD, startDevIdp, type DevIdp } from "./idp/server";
import { startTransitServer, type RunningTransitServer } from "./transit/server";

/**
 * The embedded mode (DESIGN §3), as `npm start` / `npm run dev` run it: with nothing configured it runs, on
 * this machine only, the dev Transit server, the demo OIDC identity provider, PGlite under DATA_DIR (migrated,
 * and seeded with demo data on first start), and the console itself (`next start`, built first when the
 * sources changed; `next dev` with --dev).
 *
 * Everything here is a dev component; production runs `next start` against real services and never imports
 * lib/devstack (test/production-imports.test.ts). The launcher refuses NODE_ENV=production unless
 * KEYSHARE_EMBEDDED=1 is set explicitly. What the console needs to know about the dev stack reaches it as
 * environment (addresses, secrets) or as a file in DATA_DIR (the sign-in page's demo accounts).
 */

export const REPO_ROOT = path.resolve(import.meta.dirname, "..", "..");
const OIDC_CLIENT_ID = "keyshare-console";

type Env = Record<string, string | undefined>;

export interface LauncherOptions {
  /** `next dev` instead of `next build` + `next start`. */
  dev: boolean;
  /** Build even when the sources did not change. */
  rebuild: boolean;
  /** Demo wallets seeded into an empty database. */
  wallets: number;
}

/** `--dev`, `--rebuild`, `--wallets N` (else KEYSHARE_SEED_WALLETS, else 2000). */
export function parseLauncherArgs(argv: string[] = process.argv.slice(2), env: Env = process.env): LauncherOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      dev: { type: "boolean", default: false },
      rebuild: { type: "boolean", default: false },
      wallets: { type: "string" },
    },
  });
  return { dev: values.dev, rebuild: values.rebuild, wallets: Number(values.wallets ?? env.KEYSHARE_SEED_WALLETS ?? 2000) };
}

/** Exits when NODE_ENV=production without the explicit KEYSHARE_EMBEDDED=1 opt-in. */
export function refuseProductionMode(env: Env = process.env): void {
  if (env.NODE_ENV === "production" && env.KEYSHARE_EMBEDDED !== "1") {
    console.error(
      "Refusing to start the embedded dev stack with NODE_ENV=production. Production runs `next start` with " +
        "DATABASE_URL, VAULT_ADDR and AUTH_OIDC_* set (see README); set KEYSHARE_EMBEDDED=1 only for a demo.",
    );
    process.exit(1);
  }
}

export interface LauncherSettings {
  root: string;
  dataDir: string;
  appPort: number;
  idpPort: number;
  transitPort: number;
  appUrl: string;
  issuer: string;
}

export function launcherSettings(env: Env = process.env, root = REPO_ROOT): LauncherSettings {
  const appPort = Number(env.PORT ?? 3000);
  const idpPort = Number(env.KEYSHARE_IDP_PORT ?? 3001);
  return {
    root,
    dataDir: path.resolve(root, env.DATA_DIR ?? ".data"),
    appPort,
    idpPort,
    transitPort: Number(env.KEYSHARE_TRANSIT_PORT ?? 8200),
    appUrl: `http://localhost:${appPort}`,
    issuer: `http://localhost:${idpPort}`,
  };
}

export interface DevSecrets {
  authSecret: string;
  transitToken: string;
  oidcClientSecret: string;
}

/** Secrets of the dev stack, kept so that a second start reuses sessions and Transit keys. Mode 0600. */
export function loadDevSecrets(dataDir: string): DevSecrets {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, "dev-secrets.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as DevSecrets;
  const secrets: DevSecrets = {
    authSecret: randomBytes(32).toString("base64url"),
    transitToken: `dev-root-${randomBytes(12).toString("hex")}`,
    oidcClientSecret: randomBytes(24).toString("base64url"),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
  return secrets;
}

export interface DevServices {
  transit: RunningTransitServer;
  idp: DevIdp;
  close(): Promise<void>;
}

/** The dev Transit server (any free port when its own is taken) and the demo IdP with the console as client. */
export async function startDevServices(settings: LauncherSettings, secrets: DevSecrets): Promise<DevServices> {
  const transitDir = path.join(settings.dataDir, "transit");
  const transit = await startTransitServer({ port: settings.transitPort, rootToken: secrets.transitToken, dataDir: transitDir, quiet: true }).catch(
    (err: NodeJS.ErrnoException) => {
      if (err.code !== "EADDRINUSE") throw err;
      // Another Vault (or a second console) owns the port: any free port will do, the app is told which.
      return startTransitServer({ port: 0, rootToken: secrets.transitToken, dataDir: transitDir, quiet: true });
    },
  );
  const { appUrl } = settings;
  const idp = await startDevIdp({
    port: settings.idpPort,
    issuer: settings.issuer,
    clients: [
      {
        client_id: OIDC_CLIENT_ID,
        client_secret: secrets.oidcClientSecret,
        redirect_uris: [`${appUrl}/api/auth/callback/oidc`],
        post_logout_redirect_uris: [`${appUrl}/signed-out`, `${appUrl}/login`],
      },
    ],
  }).catch(async (err: unknown) => {
    await transit.close();
    throw err;
  });
  return { transit, idp, close: async () => void (await Promise.allSettled([transit.close(), idp.close()])) };
}

/** The console's environment: the dev components' addresses and secrets, nothing from a real deployment. */
export async function consoleEnv(settings: LauncherSettings, secrets: DevSecrets, services: DevServices, env: NodeJS.ProcessEnv = process.env): Promise<NodeJS.ProcessEnv> {
  const { DEMO_KEY_ENVIRONMENT_MAPPING } = await import("./seed/demo-data");
  return {
    ...env,
    KEYSHARE_EMBEDDED: "1",
    DATA_DIR: settings.dataDir,
    DATABASE_URL: "",
    VAULT_ADDR: services.transit.url,
    VAULT_TOKEN: services.transit.token,
    VAULT_ROLE_ID: "",
    VAULT_SECRET_ID: "",
    AUTH_OIDC_ISSUER: services.idp.issuer,
    AUTH_OIDC_CLIENT_ID: OIDC_CLIENT_ID,
    AUTH_OIDC_CLIENT_SECRET: secrets.oidcClientSecret,
    AUTH_SECRET: secrets.authSecret,
    AUTH_URL: settings.appUrl,
    AUTH_TRUST_HOST: "true",
    AUTH_ROLE_MAPPING: "",
    // The demo keys' environments, unless the operator of this demo says otherwise.
    KEY_ENVIRONMENT_MAPPING:
      env.KEY_ENVIRONMENT_MAPPING ||
      Object.entries(DEMO_KEY_ENVIRONMENT_MAPPING)
        .map(([key, environment]) => `${key}=${environment}`)
        .join(","),
  };
}

/** The sign-in page's demo account list (app/login/dev-sign-in.ts reads it), for this start's IdP. Mode 0600. */
export function writeDevSignIn(dataDir: string, issuer: string): void {
  const doc: DevSignIn = {
    issuer,
    password: DEMO_PASSWORD,
    accounts: DEMO_ACCOUNTS.map((a) => ({ username: a.username, description: a.description })),
  };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, DEV_SIGN_IN_FILE);
  writeFileSync(file, JSON.stringify(doc, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
}

export interface DatabaseHookContext {
  db: Db;
  vault: VaultClient;
  settings: LauncherSettings;
}

export interface LauncherHooks {
  /**
   * Runs on the launcher's database handle after migration and demo seeding, before the handle is closed
   * (PGlite is single-process: the console opens the database only afterwards).
   */
  prepareDatabase?: (ctx: DatabaseHookContext) => Promise<void>;
  /** Sees the console's stdout and stderr, which still reach this terminal. */
  consoleOutput?: (chunk: Buffer, stream: "stdout" | "stderr") => void;
}

/** Migrates PGlite under DATA_DIR and seeds demo data when it holds no wallets; then the hook, then closes it. */
export async function prepareDatabase(
  settings: LauncherSettings,
  transit: Pick<RunningTransitServer, "url" | "token">,
  wallets: number,
  hook?: LauncherHooks["prepareDatabase"],
): Promise<void> {
  // Loaded only now: the console's environment is in process.env by then, for modules that read it.
  const { createDb, migrate } = await import("@/lib/db");
  const { createVaultClient } = await import("@/lib/vault");
  const { seedDemoData, isDatabaseEmpty } = await import("./seed");
  const handle = await createDb({ kind: "pglite", dataDir: path.join(settings.dataDir, "pglite") });
  const vault = createVaultClient({ addr: transit.url, token: transit.token });
  try {
    await migrate(handle.db);
    if (await isDatabaseEmpty(handle.db)) {
      const started = Date.now();
      console.log(`First start: creating demo data (${wallets} wallets)…`);
      await seedDemoData(handle.db, vault, { wallets });
      console.log(`Demo data ready in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    }
    await hook?.({ db: handle.db, vault, settings });
  } finally {
    vault.close();
    await handle.close();
  }
}

function newestMtime(target: string): number {
  if (!existsSync(target)) return 0;
  const st = statSync(target);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(target)) {
    if (entry === "node_modules" || entry.startsWith(".")) continue;
    newest = Math.max(newest, newestMtime(path.join(target, entry)));
  }
  return newest;
}

/** True when `.next` is missing or older than any source the build reads. */
export function buildIsStale(root: string): boolean {
  const buildId = path.join(root, ".next", "BUILD_ID");
  if (!existsSync(buildId)) return true;
  const built = statSync(buildId).mtimeMs;
  const sources = ["app", "components", "lib", "proxy.ts", "next.config.js", "package-lock.json", "tsconfig.json"];
  return sources.some((s) => newestMtime(path.join(root, s)) > built);
}

const nextBin = (root: string) => path.join(root, "node_modules", "next", "dist", "bin", "next");

/** `next build` when not in dev mode and the build is stale (or --rebuild); false when the build failed. */
export function buildConsoleIfStale(settings: LauncherSettings, env: NodeJS.ProcessEnv, options: LauncherOptions): { ok: boolean; status: number } {
  if (options.dev || !(options.rebuild || buildIsStale(settings.root))) return { ok: true, status: 0 };
  console.log("Building the console (next build)…");
  const build = spawnSync(process.execPath, [nextBin(settings.root), "build"], { cwd: settings.root, env: { ...env, NODE_ENV: "production" }, stdio: "inherit" });
  return { ok: build.status === 0, status: build.status ?? 1 };
}

/** `next start` (or `next dev`) on loopback; its output goes to this terminal and, when given, to the hook. */
export function startConsole(settings: LauncherSettings, env: NodeJS.ProcessEnv, options: LauncherOptions, onOutput?: LauncherHooks["consoleOutput"]): ChildProcess {
  const output = onOutput ? "pipe" : "inherit";
  const child = spawn(
    process.execPath,
    [nextBin(settings.root), options.dev ? "dev" : "start", "-p", String(settings.appPort), "-H", "127.0.0.1"],
    { cwd: settings.root, env: { ...env, NODE_ENV: options.dev ? "development" : "production" }, stdio: ["ignore", output, output] },
  );
  if (onOutput) {
    child.stdout?.on("data", (chunk: Buffer) => void (process.stdout.write(chunk), onOutput(chunk, "stdout")));
    child.stderr?.on("data", (chunk: Buffer) => void (process.stderr.write(chunk), onOutput(chunk, "stderr")));
  }
  return child;
}

export function printBanner(settings: LauncherSettings, services: DevServices): void {
  const accounts = DEMO_ACCOUNTS.map((a) => `${a.username} (${a.description})`).join(", ");
  console.log(
    [
      "",
      `Keyshare Console (DEV MODE) — ${settings.appUrl}`,
      `  Sign in with one of: ${accounts}`,
      `  Demo password: ${DEMO_PASSWORD}`,
      `  Dev Transit server: ${services.transit.url}   Demo IdP: ${services.idp.issuer}   Data: ${settings.dataDir}`,
      "",
    ].join("\n"),
  );
}

/** SIGINT/SIGTERM or the console's exit stop the console and the dev services, then this process. */
export function stopTogether(child: ChildProcess, services: DevServices): void {
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    child.kill("SIGTERM");
    await services.close();
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  child.on("exit", (code) => void stop(code ?? 1));
}

/** The whole embedded console: services, database, build, console, banner. `hooks` are for test harnesses. */
export async function runEmbeddedConsole(options: LauncherOptions, hooks: LauncherHooks = {}): Promise<void> {
  refuseProductionMode();
  const settings = launcherSettings();
  const secrets = loadDevSecrets(settings.dataDir);
  const services = await startDevServices(settings, secrets);
  const env = await consoleEnv(settings, secrets, services);
  Object.assign(process.env, env);

  await prepareDatabase(settings, services.transit, options.wallets, hooks.prepareDatabase);
  writeDevSignIn(settings.dataDir, services.idp.issuer);

  const build = buildConsoleIfStale(settings, env, options);
  if (!build.ok) {
    await services.close();
    process.exit(build.status);
  }
  const child = startConsole(settings, env, options, hooks.consoleOutput);
  printBanner(settings, services);
  stopTogether(child, services);
}
