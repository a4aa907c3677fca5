/**
 * `npm run transit:dev -- --port <p> --token <t> [--data <dir>] [fault flags]`
 * Starts the dev Vault Transit server (development and tests only; see server.ts).
 */
import { parseArgs } from "node:util";
import { startTransitServer, type TransitFaults } from "./server.js";

const FAULT_FLAGS: Record<string, keyof TransitFaults> = {
  "latency-ms": "latencyMs",
  "sealed-rate": "sealedRate",
  "rate-limit-rate": "rateLimitRate",
  "error-rate": "errorRate",
  "reset-rate": "resetRate",
  "batch-item-failure-rate": "batchItemFailureRate",
};

function fail(msg: string): never {
  console.error(`transit:dev: ${msg}`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      token: { type: "string" },
      data: { type: "string" },
      ...Object.fromEntries(Object.keys(FAULT_FLAGS).map((k) => [k, { type: "string" as const }])),
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      "Usage: npm run transit:dev -- [--port 8200] [--token <root token>] [--data <dir>]\n" +
        "  [--latency-ms N] [--sealed-rate R] [--rate-limit-rate R] [--error-rate R] [--reset-rate R] [--batch-item-failure-rate R]",
    );
    return;
  }
  const port = values.port === undefined ? 8200 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid --port ${values.port}`);
  const faults: TransitFaults = {};
  for (const [flag, key] of Object.entries(FAULT_FLAGS)) {
    const raw = (values as Record<string, string | boolean | undefined>)[flag];
    if (typeof raw !== "string") continue;
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n)) fail(`invalid --${flag} ${raw}`);
    faults[key] = n;
  }
  let server;
  try {
    server = await startTransitServer({ port, rootToken: values.token, dataDir: values.data, faults, quiet: false });
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  if (values.token === undefined) console.log(`Root token: ${server.token}`);
  if (values.data === undefined) console.log("Storage: in memory (keys are lost on exit; use --data <dir> to keep them)");
  console.log(`Transit dev server listening on ${server.url}`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

void main();
