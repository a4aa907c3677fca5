import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowsOf } from "@/lib/db/client";
import { createTestPostgres, testPostgresUrl, type TestDb } from "@/lib/db/testing";
import { startTransitServer } from "@/lib/devstack/transit/server";
import { createKey, rotateKey, seedRecords } from "@/test/campaign-fixtures";

const run = promisify(execFile);
const pgUrl = testPostgresUrl();

/** The CLI as an operator runs it: a separate process reading the console's settings from the environment. */
describe.skipIf(!pgUrl)("npm run campaign (PostgreSQL: the CLI is its own process, PGlite allows one)", () => {
  let t: TestDb;
  let transit: Awaited<ReturnType<typeof startTransitServer>>;

  beforeAll(async () => {
    t = await createTestPostgres(pgUrl!);
    transit = await startTransitServer({ port: 0, quiet: true });
    const ep = { url: transit.url, token: transit.token };
    await createKey(ep, "cli-key");
    await seedRecords(t.db, ep, { key: "cli-key", count: 120, versions: [1] });
    await rotateKey(ep, "cli-key");
  });
  afterAll(async () => {
    await transit?.close();
    await t?.close();
  });

  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await run(process.execPath, ["--import", "tsx", "scripts/campaign.ts", ...args], {
        env: { ...process.env, NODE_ENV: "development", DATABASE_URL: t.url, VAULT_ADDR: transit.url, VAULT_TOKEN: transit.token, LOG_LEVEL: "warn" },
        timeout: 60_000,
      });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    }
  }

  it("creates, reports, pauses, resumes and runs a campaign to completion; bad input exits non-zero with a message", async () => {
    const created = await cli("create", "--key", "cli-key", "--batch-size", "50", "--reason", "quarterly rotation");
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const status = await cli("status", id, "--json");
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ id, state: "pending", keyName: "cli-key", targetVersion: 2, remaining: 120, rewrapped: 0 });

    expect((await cli("create", "--key", "cli-key"))).toMatchObject({ code: 3 });
    expect((await cli("create", "--key", "missing-key"))).toMatchObject({ code: 2, stderr: expect.stringContaining('Vault has no Transit key "missing-key"') });
    expect((await cli("create"))).toMatchObject({ code: 2, stderr: expect.stringContaining("needs --key") });
    expect((await cli("status", "00000000-0000-4000-8000-000000000000"))).toMatchObject({ code: 4 });
    expect((await cli("resume", id))).toMatchObject({ code: 3, stderr: expect.stringContaining("Cannot resume a pending campaign") });

    expect((await cli("pause", id, "--reason", "freeze"))).toMatchObject({ code: 0 });
    expect((await cli("resume", id))).toMatchObject({ code: 0 });
    const done = await cli("run", id, "--json");
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ state: "completed", rewrapped: 120, remaining: 0 });
    expect((await cli("pause", id))).toMatchObject({ code: 3, stderr: expect.stringContaining("Cannot pause a completed campaign") });

    const listed = await cli("list", "--json");
    expect(JSON.parse(listed.stdout).map((c: { id: string }) => c.id)).toContain(id);

    const actors = rowsOf<{ action: string; actor_user_id: string; actor_type: string }>(
      await t.db.execute(sql`select action, actor_user_id, actor_type from audit_events where target_id = ${id} order by seq`),
    );
    expect(actors.map((a) => a.action)).toEqual(expect.arrayContaining(["campaign.create", "campaign.pause", "campaign.resume", "campaign.start", "campaign.batch", "campaign.complete"]));
    expect(actors.find((a) => a.action === "campaign.create")).toMatchObject({ actor_type: "service", actor_user_id: expect.stringMatching(/^cli:/) });
    // Nothing the CLI printed holds a ciphertext.
    for (const out of [created, status, done, listed]) expect(out.stdout + out.stderr).not.toMatch(/vault:v[0-9]+:/);
  }, 240_000);
});
