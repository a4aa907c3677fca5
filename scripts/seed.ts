/**
 * `npm run seed -- --wallets N [--seed S] [--dev-transit] [--force]`
 *
 * Migrates, then adds N demo wallets to the configured database (DATABASE_URL, or PGlite under DATA_DIR),
 * encrypting with the configured Vault (VAULT_ADDR + VAULT_TOKEN/AppRole). `--dev-transit` starts an
 * in-memory dev Transit server instead (benchmarks: its keys vanish on exit, so the ciphertexts are not
 * decryptable afterwards). Refuses a non-empty database unless --force. Prints the timing.
 * PGlite is single-process: do not run this while the console has the same data folder open.
 */
import "./lib/server-only-hook";
import { parseArgs } from "node:util";


const { values: args } = parseArgs({
  options: {
    wallets: { type: "string", default: "2000" },
    seed: { type: "string" },
    "dev-transit": { type: "boolean", default: false },
    force: { type: "boolean", default: false },
  },
});
const wallets = Number(args.wallets);
if (!Number.isInteger(wallets) || wallets < 0) {
  console.error("--wallets must be a non-negative integer");
  process.exit(2);
}

const { getConfig } = await import("../lib/config/env");
const { createDb, migrate } = await import("../lib/db");
const { seedDemoData, isDatabaseEmpty } = await import("../lib/devstack/seed");
const { createVaultClient } = await import("../lib/vault");

const config = getConfig();
const handle = await createDb(config.database);
let transit: { url: string; token: string; close(): Promise<void> } | undefined;
let exitCode = 0;
try {
  await migrate(handle.db);
  if (!args.force && !(await isDatabaseEmpty(handle.db))) {
    console.error("The database already holds wallets; pass --force to add more.");
    exitCode = 1;
  } else {
    if (args["dev-transit"]) {
      const { startTransitServer } = await import("../lib/devstack/transit/server");
      transit = await startTransitServer({ port: 0, quiet: true });
    }
    const v = config.vault;
    const vault = transit
      ? createVaultClient({ addr: transit.url, token: transit.token })
      : createVaultClient({ addr: v.addr, token: v.token, appRole: v.appRole, transitMount: v.transitMount, namespace: v.namespace, timeoutMs: v.timeoutMs });
    try {
      let last = 0;
      const result = await seedDemoData(handle.db, vault, {
        wallets,
        seed: args.seed === undefined ? undefined : Number(args.seed),
        onProgress: (done, total) => {
          if (done - last >= 10_000 || done === total) {
            last = done;
            process.stdout.write(`  ${done}/${total}\n`);
          }
        },
      });
      const where = config.database.kind === "postgres" ? "PostgreSQL" : "PGlite";
      console.log(
        `${where}: ${result.wallets} wallets (${result.walletProperties} WalletProperties, ${result.shareRecords} share records) ` +
          `in ${(result.ms / 1000).toFixed(1)} s, seed ${result.seed}; keys ${result.keys.map((k) => `${k.name}@v${k.latestVersion}`).join(", ")}`,
      );
    } finally {
      vault.close();
    }
  }
} finally {
  await handle.close();
  await transit?.close();
}
process.exit(exitCode);
