/**
 * `npm run audit:verify [-- --json] [--full] [--from-checkpoint SEQ]` — verifies the audit trail: recomputes the
 * hash chain (from the checkpoint the last successful verification reached, or from the start with --full),
 * checks every checkpoint's HMAC with Vault, and names the first damaged sequence number and the kind of damage.
 * The run itself is recorded as an `audit.verify` event (service actor `audit-verify-cli`).
 *
 * Reads DATABASE_URL, VAULT_* and AUDIT_CHECKPOINT_* like the console. With no DATABASE_URL it opens the
 * embedded PGlite folder, which only works while the console is not running.
 * Exit codes: 0 intact, 1 damage found, 2 invalid input or verification impossible (database or Vault unreachable).
 */
import "./lib/server-only-hook";
import { parseArgs } from "node:util";

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      json: { type: "boolean", default: false },
      full: { type: "boolean", default: false },
      "from-checkpoint": { type: "string" },
      help: { type: "boolean", default: false },
    },
  }).values;
}
try {
  args = parse();
} catch (err) {
  console.error(`${(err as Error).message}\nusage: npm run audit:verify -- [--json] [--full] [--from-checkpoint SEQ]`);
  process.exit(2);
}
if (args.help) {
  console.log("usage: npm run audit:verify -- [--json] [--full] [--from-checkpoint SEQ]  (exit 0 only when the trail is intact)");
  process.exit(0);
}
const fromCheckpoint = args["from-checkpoint"];
if (fromCheckpoint !== undefined && !/^[1-9][0-9]*$/.test(fromCheckpoint)) {
  console.error("--from-checkpoint must be a positive whole number (a checkpoint's seq)");
  process.exit(2);
}

const { getConfig } = await import("../lib/config/env");
const { createDb, sanitizeDbError } = await import("../lib/db");
const { getVaultClient, VaultError } = await import("../lib/vault");
const { verifyAuditTrail, verificationAuditEvent, recordAuditEvent } = await import("../lib/audit");

const cfg = getConfig();
const handle = await createDb(cfg.database.kind === "postgres" ? { ...cfg.database, max: 2, applicationName: "keyshare-audit-verify" } : cfg.database);
let vault: ReturnType<typeof getVaultClient> | undefined;
let code = 2;
try {
  vault = getVaultClient();
  const result = await verifyAuditTrail(handle.db, vault, {
    keyName: cfg.audit.checkpointKey,
    checkpointIntervalMs: cfg.audit.checkpointIntervalMs,
    full: args.full,
    fromCheckpointSeq: fromCheckpoint === undefined ? undefined : Number(fromCheckpoint),
  });
  await recordAuditEvent(handle.db, verificationAuditEvent(result, { type: "service", userId: "audit-verify-cli" }));
  code = result.ok ? 0 : 1;
  if (args.json) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    const cps = result.checkpoints;
    console.log(
      `${result.mode} verification: events ${result.fromSeq}..${result.headSeq} (${result.checkedEvents} recomputed, ${result.eventsPerSecond}/s), ` +
        `checkpoints ${cps.verified}/${cps.total} verified${cps.last ? `, last at seq ${cps.last.seq} (${cps.last.at})` : ""}.`,
    );
    if (result.ok) console.log("Audit trail intact.");
    else {
      console.log(`DAMAGED: first bad seq ${result.firstBadSeq} — ${result.damage!.kind}: ${result.damage!.message}`);
      for (const f of result.findings.slice(1)) console.log(`  also: seq ${f.seq} — ${f.kind}: ${f.message}`);
    }
  }
} catch (err) {
  const message =
    err instanceof VaultError ? `Vault: ${err.message}` : err instanceof TypeError ? err.message : sanitizeDbError(err).message;
  if (args.json) console.log(JSON.stringify({ ok: false, error: message }));
  console.error(`audit:verify could not complete: ${message}`);
  code = 2;
} finally {
  vault?.close();
  await handle.close();
}
process.exit(code);
