import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAuditEvent, createCheckpoint, recordAuditEvent, verifyAuditChain, verifyAuditTrail } from "@/lib/audit";
import { DEFAULT_CAMPAIGN_SETTINGS, createCampaign } from "@/lib/campaigns/service";
import { startTransitServer } from "@/lib/devstack/transit/server";
import { createVaultClient, type VaultClient } from "@/lib/vault";
import { createKey, seedRecords } from "@/test/campaign-fixtures";
import { createDb, rowsOf, type DbHandle } from "./client";
import { grantRuntimePrivileges, roleOfUrl } from "./roles";
import { createTestPostgres, testPostgresUrl, type TestDb } from "./testing";
import { sessions, users } from "./schema/auth";

/**
 * The two-role split on PostgreSQL: the test database's creator (the owner, as `npm run db:migrate` with
 * DATABASE_MIGRATION_URL) grants a fresh login role the runtime privileges; connected as that role, the audit
 * trail can only be appended to and read, and the console's ordinary paths still work.
 */
const adminUrl = testPostgresUrl();

describe.runIf(adminUrl)("runtime database role (PostgreSQL)", () => {
  const role = `ks_runtime_${randomBytes(4).toString("hex")}`;
  let owner: TestDb;
  let runtime: DbHandle;
  let transit: Awaited<ReturnType<typeof startTransitServer>>;
  let vault: VaultClient;

  const errorOf = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause ?? err;
      return cause instanceof Error ? cause.message : String(cause);
    }
    return "no error";
  };
  const head = async () =>
    rowsOf<{ last_seq: string | number; last_hash: string }>(await owner.db.execute(sql`select last_seq, last_hash from audit_chain_head`))[0]!;

  beforeAll(async () => {
    owner = await createTestPostgres(adminUrl!);
    await owner.db.execute(sql.raw(`create role ${role} login`));
    expect(await grantRuntimePrivileges(owner.db, role)).toMatchObject({ role });
    const url = new URL(owner.url!);
    url.username = role;
    runtime = await createDb({ kind: "postgres", url: url.toString(), max: 2 });
    transit = await startTransitServer({ port: 0, quiet: true });
    vault = createVaultClient({ addr: transit.url, token: transit.token, retries: 0 });
    await recordAuditEvent(owner.db, { actor: { type: "service", userId: "test" }, action: "test.seed" });
  });
  afterAll(async () => {
    vault?.close();
    await transit?.close();
    await runtime?.close();
    if (owner) {
      await owner.db.execute(sql.raw(`drop owned by ${role}`));
      await owner.close();
      const { default: postgres } = await import("postgres");
      const admin = postgres(adminUrl!, { max: 1, onnotice: () => {} });
      await admin.unsafe(`drop role if exists ${role}`);
      await admin.end({ timeout: 5 });
    }
  });

  it("appends and reads the audit trail through the console's writer", async () => {
    const before = Number((await head()).last_seq);
    const appended = await recordAuditEvent(runtime.db, { actor: { type: "service", userId: "runtime" }, action: "test.runtime" });
    expect(appended.seq).toBe(before + 1);
    await runtime.db.transaction(async (tx) => {
      await appendAuditEvent(tx, { actor: { type: "service" }, action: "test.runtime.tx" });
    });
    expect(Number((await head()).last_seq)).toBe(before + 2);
    expect((await verifyAuditChain(runtime.db)).ok).toBe(true);
  });

  it("signs a checkpoint (insert into audit_checkpoints, append its event) and verifies the trail", async () => {
    const settings = { keyName: "roles-test-checkpoints", everyEvents: 100, intervalMs: 600_000, createKey: true };
    const out = await createCheckpoint(runtime.db, vault, settings);
    expect(out).toMatchObject({ created: true });
    const result = await verifyAuditTrail(runtime.db, vault, { keyName: settings.keyName, checkpointIntervalMs: settings.intervalMs });
    expect(result).toMatchObject({ ok: true, checkpoints: { verified: 1 } });
  });

  it("cannot update, delete or truncate audit events or checkpoints", async () => {
    expect(await errorOf(runtime.db.execute(sql`update audit_events set reason = 'x' where seq = 1`))).toMatch(/permission denied/);
    expect(await errorOf(runtime.db.execute(sql`delete from audit_events where seq = 1`))).toMatch(/permission denied/);
    expect(await errorOf(runtime.db.execute(sql`truncate audit_events`))).toMatch(/permission denied/);
    expect(await errorOf(runtime.db.execute(sql`delete from audit_checkpoints`))).toMatch(/permission denied/);
    expect(await errorOf(runtime.db.execute(sql`truncate audit_checkpoints`))).toMatch(/permission denied/);
  });

  it("cannot disable, drop or add triggers, nor bypass them with session_replication_role", async () => {
    expect(await errorOf(runtime.db.execute(sql`alter table audit_events disable trigger audit_events_append_only`))).toMatch(/must be owner/);
    expect(await errorOf(runtime.db.execute(sql`alter table audit_events disable trigger all`))).toMatch(/must be owner/);
    expect(await errorOf(runtime.db.execute(sql`drop trigger audit_events_link on audit_events`))).toMatch(/must be owner/);
    expect(await errorOf(runtime.db.execute(sql`alter table audit_chain_head disable trigger audit_chain_head_forward_only`))).toMatch(/must be owner/);
    expect(
      await errorOf(runtime.db.execute(sql`create trigger evil before insert on audit_events for each row execute function keyshare_refuse_change()`)),
    ).toMatch(/permission denied/);
    expect(await errorOf(runtime.db.execute(sql`set session_replication_role = replica`))).toMatch(/permission denied/);
    expect(await errorOf(runtime.db.execute(sql`create table public.evil (x int)`))).toMatch(/permission denied/);
  });

  it("cannot move the chain head outside an append", async () => {
    const before = await head();
    expect(await errorOf(runtime.db.execute(sql`update audit_chain_head set last_seq = last_seq + 1, last_hash = ${"a".repeat(64)}`))).toMatch(
      /permission denied/,
    );
    expect(await errorOf(runtime.db.execute(sql`delete from audit_chain_head`))).toMatch(/permission denied/);
    expect(await errorOf(runtime.db.execute(sql`insert into audit_chain_head values (2, 0, ${"0".repeat(64)})`))).toMatch(/permission denied/);
    expect(await head()).toEqual(before);
  });

  it("cannot insert an event that does not extend the head", async () => {
    const h = await head();
    const next = Number(h.last_seq) + 1;
    const insert = (seq: number, prev: string, hash: string) =>
      runtime.db.execute(sql`insert into audit_events (seq, occurred_at, actor_type, action, outcome, details, prev_hash, hash)
                             values (${seq}, now(), 'service', 'forged.event', 'success', '{}', ${prev}, ${hash})`);
    expect(await errorOf(insert(next + 5, h.last_hash, "b".repeat(64)))).toMatch(/audit chain fork refused/);
    expect(await errorOf(insert(next, "c".repeat(64), "b".repeat(64)))).toMatch(/audit chain fork refused/);
    expect(await errorOf(insert(1, "0".repeat(64), "b".repeat(64)))).toMatch(/audit chain fork refused/);
    expect(await errorOf(insert(next, h.last_hash, "not-a-hash"))).toMatch(/64 lower-case hex/);
    expect(rowsOf(await owner.db.execute(sql`select 1 from audit_events where action = 'forged.event'`))).toEqual([]);
    expect(await head()).toEqual(h);
    expect((await verifyAuditChain(owner.db)).ok).toBe(true);
  });

  it("still runs the console's other paths: a session, a campaign with its audit event", async () => {
    const userId = `u-${randomBytes(4).toString("hex")}`;
    await runtime.db.insert(users).values({ id: userId, email: `${userId}@example.test`, role: "operator" });
    await runtime.db.insert(sessions).values({ sessionToken: randomBytes(16).toString("hex"), userId, expires: new Date(Date.now() + 3600_000) });
    await runtime.db.update(users).set({ lastLoginAt: new Date() });
    await runtime.db.delete(sessions);

    const ep = { url: transit.url, token: transit.token };
    await createKey(ep, "roles-test-key");
    await seedRecords(runtime.db, ep, { key: "roles-test-key", count: 3, versions: [1] });
    await vault.rotateKey("roles-test-key");
    const before = Number((await head()).last_seq);
    const campaign = await runtime.db.transaction((tx) =>
      createCampaign(
        tx,
        { keyName: "roles-test-key" },
        { type: "user", userId, email: `${userId}@example.test`, role: "operator" },
        { vault, settings: { ...DEFAULT_CAMPAIGN_SETTINGS, environmentMapping: {} } },
      ),
    );
    expect(campaign.keyName).toBe("roles-test-key");
    expect(Number((await head()).last_seq)).toBeGreaterThan(before);
    expect((await verifyAuditChain(owner.db)).ok).toBe(true);
  });

  it("a role that was not granted cannot take the chain head's lock", async () => {
    const other = `ks_other_${randomBytes(4).toString("hex")}`;
    await owner.db.execute(sql.raw(`create role ${other} login`));
    const url = new URL(owner.url!);
    url.username = other;
    const h = await createDb({ kind: "postgres", url: url.toString(), max: 1 });
    try {
      expect(await errorOf(h.db.execute(sql`select * from public.keyshare_audit_lock_head()`))).toMatch(/permission denied/);
    } finally {
      await h.close();
      await owner.db.execute(sql.raw(`drop role ${other}`));
    }
  });

  it("refuses to grant a superuser or the owner itself", async () => {
    await expect(grantRuntimePrivileges(owner.db, roleOfUrl(adminUrl!)!)).rejects.toThrow(/must differ|superuser/);
    await expect(grantRuntimePrivileges(owner.db, "no_such_role_x")).rejects.toThrow(/does not exist/);
    await expect(grantRuntimePrivileges(owner.db, 'x"; drop table users; --')).rejects.toThrow(/unsupported role/);
  });
});
