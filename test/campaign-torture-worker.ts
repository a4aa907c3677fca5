/**
 * A campaign worker process for the torture test (lib/campaigns/torture.test.ts): the production batch loop
 * (`runCampaignWorker`) with its phase hook printing `PHASE <phase>` lines, so the test can SIGKILL it at a
 * chosen point. Settings come from the environment: TORTURE_DB_URL, TORTURE_VAULT_ADDR, TORTURE_VAULT_TOKEN,
 * TORTURE_LEASE_MS, TORTURE_WORKER_ID.
 */
import "../scripts/lib/server-only-hook";

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

const { createDb } = await import("../lib/db/client");
const { createVaultClient } = await import("../lib/vault");
const { runCampaignWorker } = await import("../lib/campaigns/runner");

const handle = await createDb({ kind: "postgres", url: env("TORTURE_DB_URL"), max: 3, applicationName: "ks-torture-worker" });
const vault = createVaultClient({ addr: env("TORTURE_VAULT_ADDR"), token: env("TORTURE_VAULT_TOKEN"), retries: 1, retryBaseDelayMs: 20, timeoutMs: 5_000 });
const ac = new AbortController();
process.once("SIGTERM", () => ac.abort());

process.stdout.write("READY\n");
await runCampaignWorker({
  db: handle.db,
  vault,
  workerId: env("TORTURE_WORKER_ID"),
  environmentMapping: {},
  leaseMs: Number(env("TORTURE_LEASE_MS")),
  signal: ac.signal,
  concurrency: 1,
  idleMs: 100,
  onPhase: (phase) => process.stdout.write(`PHASE ${phase}\n`),
});
vault.close();
await handle.close();
process.stdout.write("STOPPED\n");
process.exit(0);
