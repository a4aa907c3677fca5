import { spawn } from "node:child_process";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCheckpoint, recordAuditEvent } from "@/lib/audit";
import { createTestPostgres, testPostgresUrl, type TestDb } from "@/lib/db/testing";
import { startTransitServer } from "@/lib/devstack/transit/server";
import { createVaultClient, type VaultClient } from "@/lib/vault";

/** `npm run audit:verify` as a real process against a throwaway PostgreSQL database and the dev Transit server. */

const ROOT = path.resolve(import.meta.dirname, "..");
const adminUrl = testPostgresUrl();
const KEY = "audit-verify-cli-test";

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    const child = spawn("npx", ["tsx", "scripts/audit-verify.ts", ...args], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: "test", LOG_LEVEL: "silent", AUDIT_CHECKPOINT_KEY: KEY, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe.runIf(adminUrl)("npm run audit:verify (PostgreSQL)", () => {
  let t: TestDb;
  let transit: Awaited<ReturnType<typeof startTransitServer>>;
  let vault: VaultClient;
  let env: Record<string, string>;

  beforeAll(async () => {
    t = await createTestPostgres(adminUrl!);
    transit = await startTransitServer({ port: 0, quiet: true });
    vault = createVaultClient({ addr: transit.url, token: transit.token, retries: 0 });
    for (let i = 0; i < 5; i++) await recordAuditEvent(t.db, { actor: { type: "service", userId: "test" }, action: "test.event", details: { i } });
    await createCheckpoint(t.db, vault, { keyName: KEY, everyEvents: 100, intervalMs: 600_000, createKey: true });
    env = { DATABASE_URL: t.url!, VAULT_ADDR: transit.url, VAULT_TOKEN: transit.token };
  }, 60_000);
  afterAll(async () => {
    vault?.close();
    await transit?.close();
    await t?.close();
  });

  it("exits 0 on an intact trail, prints the result with --json, and records the verification", async () => {
    const out = await run(["--json", "--full"], env);
    expect(out.code).toBe(0);
    const result = JSON.parse(out.stdout) as { ok: boolean; mode: string; headSeq: number; checkpoints: { verified: number } };
    expect(result).toMatchObject({ ok: true, mode: "full", headSeq: 6, checkpoints: { verified: 1 } });
    const [ev] = (await t.db.execute(sql`select outcome, actor_user_id from audit_events where action = 'audit.verify'`)) as unknown as {
      outcome: string;
      actor_user_id: string;
    }[];
    expect(ev).toMatchObject({ outcome: "success", actor_user_id: "audit-verify-cli" });
    // The next run starts at the checkpoint that one reached.
    const again = await run([], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^incremental verification: events 6\.\./);
    expect(again.stdout).toContain("Audit trail intact.");
  }, 60_000);

  it("exits 2 with a clear message when Vault is unreachable", async () => {
    const out = await run([], { ...env, VAULT_ADDR: "http://127.0.0.1:1" });
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/audit:verify could not complete: Vault/);
    expect(out.stderr).not.toContain(transit.token);
  }, 60_000);

  it("exits 2 on a bad option", async () => {
    const out = await run(["--from-checkpoint", "abc"], env);
    expect(out.code).toBe(2);
  }, 60_000);

  it("exits 1 and names the first bad seq after the owner rewrote an event", async () => {
    await t.db.transaction(async (tx) => {
      await tx.execute(sql`alter table audit_events disable trigger user`);
      await tx.execute(sql`update audit_events set reason = 'rewritten' where seq = 3`);
      await tx.execute(sql`alter table audit_events enable trigger user`);
    });
    const out = await run(["--full"], env);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain("DAMAGED: first bad seq 3 — modified");
  }, 60_000);
});
