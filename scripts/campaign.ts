/**
 * `npm run campaign -- <command> [options]` — re-wrap campaigns without the UI, over the same domain services.
 *
 *   create --key K [--target N] [--versions 1,2] [--environment E] [--batch-size N] [--failure-budget N]
 *          [--max-item-attempts N] [--reason TEXT]          prints the new campaign's id (or the campaign, --json)
 *   status ID                                               state, counters, remaining records
 *   list [--state S] [--key K] [--limit N]
 *   pause ID [--reason TEXT] | resume ID | cancel ID [--reason TEXT]
 *   quarantine ID                                           records that failed, with Vault's reason
 *   retry ID [--records id,id] | ack ID [--records id,id] --reason TEXT
 *   run [ID]                                                work campaigns in this process until done/paused
 *
 * Reads the console's settings (DATABASE_URL, VAULT_ADDR, VAULT_TOKEN or AppRole, KEY_ENVIRONMENT_MAPPING,
 * CAMPAIGN_*). Acts as a service identity `cli:<os user>@<host>`; every change is an audit event. With no
 * DATABASE_URL it opens the embedded PGlite folder, which only works while the console is not running.
 * Exit codes: 0 ok, 1 unexpected failure, 2 invalid input, 3 conflict (state does not allow it), 4 not found.
 */
import "./lib/server-only-hook";
import { parseArgs } from "node:util";

const USAGE = "usage: npm run campaign -- create|status|list|pause|resume|cancel|quarantine|retry|ack|run … [--json] (see scripts/campaign.ts)";

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    key: { type: "string" },
    target: { type: "string" },
    versions: { type: "string" },
    environment: { type: "string" },
    "batch-size": { type: "string" },
    "failure-budget": { type: "string" },
    "max-item-attempts": { type: "string" },
    reason: { type: "string" },
    state: { type: "string" },
    limit: { type: "string" },
    records: { type: "string" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
const [command, id] = positionals;
if (o.help || !command) {
  console.log(USAGE);
  process.exit(o.help ? 0 : 2);
}

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v)) fail(2, `--${name} must be a whole number`);
  return Number(v);
}
function list(v: string | undefined): string[] | undefined {
  return v === undefined ? undefined : v.split(",").map((s) => s.trim()).filter(Boolean);
}
function fail(code: number, message: string): never {
  console.error(message);
  process.exit(code);
}
function needId(): string {
  if (!id) fail(2, `${command} needs a campaign id`);
  return id;
}

const { getConfig } = await import("../lib/config/env");
const { createDb, sanitizeDbError } = await import("../lib/db");
const { getVaultClient } = await import("../lib/vault");
const svc = await import("../lib/campaigns/service");
const { cliActor, defaultWorkerId } = await import("../lib/campaigns/actor");
const { DomainError } = await import("../lib/errors");

const config = getConfig();
const settings = svc.campaignSettingsFrom(config);
const handle = await createDb(config.database.kind === "postgres" ? { ...config.database, max: 4 } : config.database);
const db = handle.db;
const actor = cliActor();

function print(value: unknown, human: () => string): void {
  console.log(o.json ? JSON.stringify(value, null, 2) : human());
}

function describe(c: Awaited<ReturnType<typeof svc.getCampaignStatus>>): string {
  const done = c.recordsAtStart > 0 ? Math.min(100, (100 * c.rewrapped) / c.recordsAtStart).toFixed(1) : "100.0";
  return [
    `campaign ${c.id}`,
    `  key ${c.keyName} → v${c.targetVersion}${c.scopeVersions ? ` (from v${c.scopeVersions.join(", v")})` : ""}${c.scopeEnvironment ? ` in ${c.scopeEnvironment}` : ""}`,
    `  state ${c.state}${c.stateReason ? ` — ${c.stateReason}` : ""}`,
    `  re-wrapped ${c.rewrapped} of ${c.recordsAtStart} at start (${done} %), remaining ${c.remaining}, skipped (backend rewrote) ${c.skippedConflict}`,
    `  batches ${c.batches}, failed Vault calls ${c.failedCalls}, item failures ${c.itemFailures}, quarantined ${c.quarantined} (${c.quarantinedUnacknowledged} unacknowledged), pass ${c.pass}`,
    `  created ${c.createdAt} by ${c.createdBy}${c.finishedAt ? `, finished ${c.finishedAt}` : ""}`,
  ].join("\n");
}

let exitCode = 0;
try {
  switch (command) {
    case "create": {
      if (!o.key) fail(2, "create needs --key");
      const c = await db.transaction((tx) =>
        svc.createCampaign(
          tx,
          {
            keyName: o.key!,
            targetVersion: int("target", o.target),
            scopeVersions: list(o.versions)?.map((v) => int("versions", v)!),
            scopeEnvironment: o.environment,
            batchSize: int("batch-size", o["batch-size"]),
            failureBudget: int("failure-budget", o["failure-budget"]),
            maxItemAttempts: int("max-item-attempts", o["max-item-attempts"]),
            reason: o.reason,
          },
          actor,
          { vault: getVaultClient(), settings },
        ),
      );
      print(c, () => c.id);
      break;
    }
    case "status": {
      const c = await svc.getCampaignStatus(db, needId(), settings.environmentMapping);
      print(c, () => describe(c));
      break;
    }
    case "list": {
      const { CAMPAIGN_STATES } = await import("../lib/db/schema/campaigns");
      const state = CAMPAIGN_STATES.find((s) => s === o.state);
      if (o.state !== undefined && !state) fail(2, `--state must be one of ${CAMPAIGN_STATES.join(", ")}`);
      const rows = await svc.listCampaigns(db, { state, keyName: o.key, limit: int("limit", o.limit) });
      print(rows, () =>
        rows.length === 0
          ? "no campaigns"
          : rows.map((c) => `${c.id}  ${c.state.padEnd(9)}  ${c.keyName} → v${c.targetVersion}  ${c.rewrapped}/${c.recordsAtStart}  ${c.createdAt}`).join("\n"),
      );
      break;
    }
    case "pause":
    case "resume":
    case "cancel": {
      const fn = { pause: svc.pauseCampaign, resume: svc.resumeCampaign, cancel: svc.cancelCampaign }[command];
      const c = await db.transaction((tx) => fn(tx, { campaignId: needId(), reason: o.reason }, actor));
      print(c, () => `campaign ${c.id} is ${c.state}`);
      break;
    }
    case "quarantine": {
      const rows = await svc.listQuarantined(db, needId(), int("limit", o.limit) ?? 100);
      print(rows, () =>
        rows.length === 0
          ? "no failed records"
          : rows.map((r) => `${r.recordId}  ${r.quarantined ? (r.acknowledgedAt ? "acknowledged" : "QUARANTINED ") : "retrying    "}  ${r.reasonCode}  tries ${r.attempts}  ${r.error}`).join("\n"),
      );
      break;
    }
    case "retry":
    case "ack": {
      const input = { campaignId: needId(), recordIds: list(o.records), reason: o.reason };
      if (command === "ack" && !o.reason) fail(2, "ack needs --reason (why these records may stay on their old version)");
      const r: object = await db.transaction((tx): Promise<object> =>
        command === "retry" ? svc.retryQuarantined(tx, input, actor) : svc.acknowledgeQuarantined(tx, input, actor),
      );
      print(r, () => JSON.stringify(r));
      break;
    }
    case "run": {
      const { runCampaignWorker, runNextBatch } = await import("../lib/campaigns/runner");
      const ac = new AbortController();
      process.once("SIGINT", () => ac.abort());
      process.once("SIGTERM", () => ac.abort());
      const opts = {
        db,
        vault: getVaultClient(),
        workerId: `${defaultWorkerId()}:cli`,
        environmentMapping: settings.environmentMapping,
        leaseMs: config.campaigns.leaseSeconds * 1000,
        campaignId: id,
      };
      if (!id) {
        await runCampaignWorker({ ...opts, signal: ac.signal, concurrency: config.campaigns.concurrency });
        break;
      }
      // One campaign: run until it completes, pauses or fails, printing progress.
      let last = 0;
      for (;;) {
        if (ac.signal.aborted) break;
        const r = await runNextBatch(opts);
        if (Date.now() - last > 2_000 || r.kind === "completed" || r.kind === "paused") {
          last = Date.now();
          const s = await svc.getCampaignStatus(db, id, settings.environmentMapping);
          console.error(`${s.state}: ${s.rewrapped} re-wrapped, ${s.remaining} remaining`);
          if (s.state !== "running" && s.state !== "pending") {
            print(s, () => describe(s));
            break;
          }
        }
        if (r.kind === "nothing" || r.kind === "waiting" || r.kind === "vault-failed") await new Promise((res) => setTimeout(res, 500));
      }
      break;
    }
    default:
      fail(2, USAGE);
  }
} catch (err) {
  if (err instanceof DomainError) {
    console.error(err.message);
    exitCode = err.status === 404 ? 4 : err.status === 409 ? 3 : err.status === 400 ? 2 : 1;
  } else {
    // Driver messages can carry bound parameters: only the database's own message and code go out.
    const e = err instanceof Error && /Drizzle|Postgres|Database/i.test(err.name) ? sanitizeDbError(err) : err;
    console.error(`campaign ${command} failed: ${e instanceof Error ? e.message : "unknown error"}`);
    exitCode = 1;
  }
} finally {
  await handle.close();
  getVaultClient().close();
}
process.exit(exitCode);
