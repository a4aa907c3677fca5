/**
 * `npm start`: the embedded mode (DESIGN §3). With nothing configured it runs, on this machine only:
 * the dev Transit server, the demo OIDC identity provider, PGlite under DATA_DIR (migrated, and seeded with
 * demo data on first start), and the console itself (`next start`, built first when the sources changed).
 *
 * Everything here is a dev component. The launcher refuses to run with NODE_ENV=production unless
 * KEYSHARE_EMBEDDED=1 is set explicitly — production runs `next start` against real services instead.
 */
import "./lib/server-only-hook";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    dev: { type: "boolean", default: false },
    rebuild: { type: "boolean", default: false },
    wallets: { type: "string" },
  },
});

if (process.env.NODE_ENV === "production" && process.env.KEYSHARE_EMBEDDED !== "1") {
  console.error(
    "Refusing to start the embedded dev stack with NODE_ENV=production. Production runs `next start` with " +
      "DATABASE_URL, VAULT_ADDR and AUTH_OIDC_* set (see README); set KEYSHARE_EMBEDDED=1 only for a demo.",
  );
  process.exit(1);
}

const ROOT = path.resolve(import.meta.dirname, "..");
const DATA_DIR = path.resolve(ROOT, process.env.DATA_DIR ?? ".data");
const APP_PORT = Number(process.env.PORT ?? 3000);
const IDP_PORT = Number(process.env.KEYSHARE_IDP_PORT ?? 3001);
const TRANSIT_PORT = Number(process.env.KEYSHARE_TRANSIT_PORT ?? 8200);
const APP_URL = `http://localhost:${APP_PORT}`;
const ISSUER = `http://localhost:${IDP_PORT}`;
const SEED_WALLETS = Number(args.wallets ?? process.env.KEYSHARE_SEED_WALLETS ?? 2000);
const OIDC_CLIENT_ID = "keyshare-console";

interface DevSecrets {
  authSecret: string;
  transitToken: string;
  oidcClientSecret: string;
}

/** Secrets of the dev stack, kept so that a second start reuses sessions and Transit keys. Mode 0600. */
function loadDevSecrets(): DevSecrets {
  const file = path.join(DATA_DIR, "dev-secrets.json");
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

function buildIsStale(): boolean {
  const buildId = path.join(ROOT, ".next", "BUILD_ID");
  if (!existsSync(buildId)) return true;
  const built = statSync(buildId).mtimeMs;
  const sources = ["app", "components", "lib", "proxy.ts", "next.config.js", "package-lock.json", "tsconfig.json"];
  return sources.some((s) => newestMtime(path.join(ROOT, s)) > built);
}

async function main() {
  mkdirSync(DATA_DIR, { recursive: true, mode: 0o700 });
  const secrets = loadDevSecrets();

  const { startTransitServer } = await import("../lib/devstack/transit/server");
  const transit = await startTransitServer({
    port: TRANSIT_PORT,
    rootToken: secrets.transitToken,
    dataDir: path.join(DATA_DIR, "transit"),
    quiet: true,
  }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "EADDRINUSE") throw err;
    // Another Vault (or a second console) owns 8200: any free port will do, the app is told which.
    return startTransitServer({ port: 0, rootToken: secrets.transitToken, dataDir: path.join(DATA_DIR, "transit"), quiet: true });
  });

  const { startDevIdp, DEMO_PASSWORD, DEMO_ACCOUNTS } = await import("../lib/devstack/idp/server");
  const idp = await startDevIdp({
    port: IDP_PORT,
    issuer: ISSUER,
    clients: [
      {
        client_id: OIDC_CLIENT_ID,
        client_secret: secrets.oidcClientSecret,
        redirect_uris: [`${APP_URL}/api/auth/callback/oidc`],
        post_logout_redirect_uris: [`${APP_URL}/signed-out`, `${APP_URL}/login`],
      },
    ],
  });

  const { DEMO_KEY_ENVIRONMENT_MAPPING } = await import("../lib/devstack/seed");
  const appEnv: NodeJS.ProcessEnv = {
    ...process.env,
    KEYSHARE_EMBEDDED: "1",
    DATA_DIR,
    DATABASE_URL: "",
    VAULT_ADDR: transit.url,
    VAULT_TOKEN: transit.token,
    VAULT_ROLE_ID: "",
    VAULT_SECRET_ID: "",
    AUTH_OIDC_ISSUER: idp.issuer,
    AUTH_OIDC_CLIENT_ID: OIDC_CLIENT_ID,
    AUTH_OIDC_CLIENT_SECRET: secrets.oidcClientSecret,
    AUTH_SECRET: secrets.authSecret,
    AUTH_URL: APP_URL,
    AUTH_TRUST_HOST: "true",
    AUTH_ROLE_MAPPING: "",
    // The demo keys' environments, unless the operator of this demo says otherwise.
    KEY_ENVIRONMENT_MAPPING:
      process.env.KEY_ENVIRONMENT_MAPPING ||
      Object.entries(DEMO_KEY_ENVIRONMENT_MAPPING)
        .map(([key, env]) => `${key}=${env}`)
        .join(","),
  };
  Object.assign(process.env, appEnv);

  // PGlite is single-process: the launcher migrates and seeds, then closes it before Next opens it.
  {
    const { createDb, migrate } = await import("../lib/db");
    const { createVaultClient } = await import("../lib/vault");
    const { seedDemoData, isDatabaseEmpty } = await import("../lib/devstack/seed");
    const handle = await createDb({ kind: "pglite", dataDir: path.join(DATA_DIR, "pglite") });
    try {
      await migrate(handle.db);
      if (await isDatabaseEmpty(handle.db)) {
        const vault = createVaultClient({ addr: transit.url, token: transit.token });
        const started = Date.now();
        console.log(`First start: creating demo data (${SEED_WALLETS} wallets)…`);
        await seedDemoData(handle.db, vault, { wallets: SEED_WALLETS });
        vault.close();
        console.log(`Demo data ready in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
      }
      // ── leak-guard markers (e2e; e2e/support/markers.ts) ─────────────────────────────────────────────────
      // KEYSHARE_SEED_MARKERS=<file>: add marker wallets with known share plaintext and ciphertext and write
      // them to <file> for e2e/leak.spec.ts. Dev only, never with NODE_ENV=production.
      if (process.env.KEYSHARE_SEED_MARKERS && process.env.NODE_ENV !== "production") {
        const { ensureMarkerWallets } = await import("../e2e/support/markers");
        const vault = createVaultClient({ addr: transit.url, token: transit.token });
        try {
          const file = path.resolve(ROOT, process.env.KEYSHARE_SEED_MARKERS);
          const { manifest, created } = await ensureMarkerWallets(handle.db, vault, file);
          console.log(`Leak-test markers: ${manifest.wallets.length} wallets ${created ? "seeded" : "kept"} (${path.relative(ROOT, file)}).`);
        } finally {
          vault.close();
        }
      }
      // ── end leak-guard markers ─────────────────────────────────────────────────────────────────────────
    } finally {
      await handle.close();
    }
  }

  const nextBin = path.join(ROOT, "node_modules", "next", "dist", "bin", "next");
  if (!args.dev && (args.rebuild || buildIsStale())) {
    console.log("Building the console (next build)…");
    const build = spawnSync(process.execPath, [nextBin, "build"], { cwd: ROOT, env: { ...appEnv, NODE_ENV: "production" }, stdio: "inherit" });
    if (build.status !== 0) {
      await Promise.allSettled([transit.close(), idp.close()]);
      process.exit(build.status ?? 1);
    }
  }

  // ── leak-guard log tee (e2e) ───────────────────────────────────────────────────────────────────────────
  // KEYSHARE_LOG_FILE=<file>: the console's stdout/stderr also go to <file>, which e2e/leak.spec.ts scans.
  const logFile = process.env.KEYSHARE_LOG_FILE ? path.resolve(ROOT, process.env.KEYSHARE_LOG_FILE) : undefined;
  const childOutput = logFile ? "pipe" : "inherit";
  // ── end leak-guard log tee ─────────────────────────────────────────────────────────────────────────────
  const child: ChildProcess = spawn(
    process.execPath,
    [nextBin, args.dev ? "dev" : "start", "-p", String(APP_PORT), "-H", "127.0.0.1"],
    { cwd: ROOT, env: { ...appEnv, NODE_ENV: args.dev ? "development" : "production" }, stdio: ["ignore", childOutput, childOutput] },
  );
  // ── leak-guard log tee (e2e) ───────────────────────────────────────────────────────────────────────────
  if (logFile) {
    const { createWriteStream } = await import("node:fs");
    mkdirSync(path.dirname(logFile), { recursive: true });
    const out = createWriteStream(logFile, { flags: "a", mode: 0o600 });
    child.stdout?.on("data", (chunk: Buffer) => void (process.stdout.write(chunk), out.write(chunk)));
    child.stderr?.on("data", (chunk: Buffer) => void (process.stderr.write(chunk), out.write(chunk)));
  }
  // ── end leak-guard log tee ─────────────────────────────────────────────────────────────────────────────

  const accounts = DEMO_ACCOUNTS.map((a) => `${a.username} (${a.description})`).join(", ");
  console.log(
    [
      "",
      `Keyshare Console (DEV MODE) — ${APP_URL}`,
      `  Sign in with one of: ${accounts}`,
      `  Demo password: ${DEMO_PASSWORD}`,
      `  Dev Transit server: ${transit.url}   Demo IdP: ${idp.issuer}   Data: ${DATA_DIR}`,
      "",
    ].join("\n"),
  );

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    child.kill("SIGTERM");
    await Promise.allSettled([transit.close(), idp.close()]);
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  child.on("exit", (code) => void stop(code ?? 1));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
