import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditChain } from "@/lib/audit";
import { rowsOf, type Db } from "@/lib/db/client";
import { testBackends, type TestDb } from "@/lib/db/testing";
import { startTransitServer } from "@/lib/devstack/transit/server";
import { ConflictError, NotFoundError, ValidationError } from "@/lib/errors";
import { createVaultClient, type VaultClient } from "@/lib/vault";
import { createKey, encryptMany, openRecord, rotateKey, seedRecords, type FixtureRecord } from "@/test/campaign-fixtures";
import type { CampaignActor } from "./actor";
import { runNextBatch, type BatchResult, type RunnerOptions } from "./runner";
import {
  acknowledgeQuarantined,
  cancelCampaign,
  createCampaign,
  DEFAULT_CAMPAIGN_SETTINGS,
  getCampaignStatus,
  listQuarantined,
  pauseCampaign,
  resumeCampaign,
  retryQuarantined,
  type CampaignSettings,
  type CreateCampaignInput,
} from "./service";

const operator: CampaignActor = { type: "user", userId: "u-op", email: "operator@example.test", role: "operator" };
const settings: CampaignSettings = { ...DEFAULT_CAMPAIGN_SETTINGS, environmentMapping: {} };

async function counts(db: Db) {
  const [r] = rowsOf<{ campaigns: string | number; events: string | number }>(
    await db.execute(sql`select (select count(*) from rewrap_campaigns) as campaigns, (select count(*) from audit_events) as events`),
  );
  return { campaigns: Number(r!.campaigns), events: Number(r!.events) };
}

async function versionsOf(db: Db, key: string): Promise<Map<number, number>> {
  const rows = rowsOf<{ v: number; n: string | number }>(
    await db.execute(sql`select key_version as v, count(*) as n from server_wallet_key_shares where encryption_key_id = ${key} group by 1`),
  );
  return new Map(rows.map((r) => [Number(r.v), Number(r.n)]));
}

async function storedOf(db: Db, ids: string[]) {
  const rows = rowsOf<{ id: string; wallet_id: string; encrypted_key_shares: Uint8Array; key_version: number; access_count: number; row_version: number; rewrap_campaign_id: string | null }>(
    await db.execute(sql`
      select id, wallet_id, encrypted_key_shares, key_version, access_count, row_version, rewrap_campaign_id
      from server_wallet_key_shares where id in (select (e #>> '{}')::uuid from jsonb_array_elements(${JSON.stringify(ids)}::jsonb) e)`),
  );
  return new Map(rows.map((r) => [r.id, r]));
}

describe.each(testBackends())("re-wrap campaigns on $name", (backend) => {
  let t: TestDb;
  let transit: Awaited<ReturnType<typeof startTransitServer>>;
  let vault: VaultClient;
  let rewrapCalls = 0;
  let ep: { url: string; token: string };

  beforeAll(async () => {
    t = await backend.create();
    transit = await startTransitServer({ port: 0, quiet: true });
    ep = { url: transit.url, token: transit.token };
    const inner = createVaultClient({ addr: transit.url, token: transit.token, retries: 0 });
    vault = {
      ...inner,
      rewrapBatch: (...args) => {
        rewrapCalls += 1;
        return inner.rewrapBatch(...args);
      },
    };
  });
  afterAll(async () => {
    vault?.close();
    await transit?.close();
    await t?.close();
  });

  const create = (input: CreateCampaignInput, actor = operator) => t.db.transaction((tx) => createCampaign(tx, input, actor, { vault, settings }));
  const runner = (extra: Partial<RunnerOptions> = {}): RunnerOptions => ({ db: t.db, vault, workerId: "worker:test", environmentMapping: {}, ...extra });
  async function drain(campaignId: string, extra: Partial<RunnerOptions> = {}, max = 500): Promise<BatchResult[]> {
    const out: BatchResult[] = [];
    for (let i = 0; i < max; i++) {
      const r = await runNextBatch(runner({ campaignId, ...extra }));
      out.push(r);
      if (r.kind === "completed" || r.kind === "paused" || r.kind === "nothing") return out;
    }
    throw new Error("campaign did not finish");
  }

  it("refuses bad input with a clear error and writes nothing", async () => {
    await createKey(ep, "bad-input-key");
    await rotateKey(ep, "bad-input-key");
    await seedRecords(t.db, ep, { key: "bad-input-key", count: 10, versions: [1] });
    const before = await counts(t.db);

    await expect(create({ keyName: "no-such-key" })).rejects.toThrow(ValidationError);
    await expect(create({ keyName: "no-such-key" })).rejects.toThrow('Vault has no Transit key "no-such-key"');
    await expect(create({ keyName: "bad-input-key", targetVersion: 3 })).rejects.toThrow("above the latest version");
    await expect(create({ keyName: "bad-input-key", targetVersion: 1 })).rejects.toThrow("nothing to re-wrap");
    await expect(create({ keyName: "bad-input-key", scopeVersions: [2] })).rejects.toThrow("not below the target");
    await expect(create({ keyName: "bad key/../x" })).rejects.toThrow("must be a Transit key name");
    await expect(create({ keyName: "bad-input-key", batchSize: 0 })).rejects.toThrow(ValidationError);
    await expect(create({ keyName: "bad-input-key", scopeEnvironment: "prod" })).rejects.toThrow("nothing to re-wrap");
    expect(await counts(t.db)).toEqual(before);

    // Below min_decryption_version.
    await rotateKey(ep, "bad-input-key");
    await fetch(`${ep.url}/v1/transit/keys/bad-input-key/config`, {
      method: "POST",
      headers: { "X-Vault-Token": ep.token },
      body: JSON.stringify({ min_decryption_version: 2 }),
    });
    await expect(create({ keyName: "bad-input-key", targetVersion: 1 })).rejects.toThrow("below the key's min_decryption_version");
    expect(await counts(t.db)).toEqual(before);

    // One active campaign per key; the second is refused, nothing written.
    const first = await create({ keyName: "bad-input-key", targetVersion: 3 });
    const mid = await counts(t.db);
    await expect(create({ keyName: "bad-input-key" })).rejects.toThrow(ConflictError);
    expect(await counts(t.db)).toEqual(mid);
    await t.db.transaction((tx) => cancelCampaign(tx, { campaignId: first.id }, operator));
    await expect(t.db.transaction((tx) => pauseCampaign(tx, { campaignId: first.id }, operator))).rejects.toThrow("Cannot pause a cancelled campaign");
    await expect(t.db.transaction((tx) => resumeCampaign(tx, { campaignId: first.id }, operator))).rejects.toThrow(ConflictError);
    await expect(t.db.transaction((tx) => pauseCampaign(tx, { campaignId: "00000000-0000-4000-8000-000000000000" }, operator))).rejects.toThrow(NotFoundError);
    await expect(t.db.transaction((tx) => pauseCampaign(tx, { campaignId: "not-a-uuid" }, operator))).rejects.toThrow(ValidationError);
  });

  it("the database allows one active campaign per key whatever the app checks", async () => {
    await t.db.execute(sql`insert into rewrap_campaigns (id, key_name, target_version, state, batch_size, failure_budget, max_item_attempts, created_by, records_at_start)
      values (gen_random_uuid(), 'race-key', 2, 'running', 10, 5, 3, 'x', 1)`);
    await expect(
      t.db.execute(sql`insert into rewrap_campaigns (id, key_name, target_version, state, batch_size, failure_budget, max_item_attempts, created_by, records_at_start)
        values (gen_random_uuid(), 'race-key', 2, 'paused', 10, 5, 3, 'x', 1)`),
    ).rejects.toThrow();
    await t.db.execute(sql`insert into rewrap_campaigns (id, key_name, target_version, state, batch_size, failure_budget, max_item_attempts, created_by, records_at_start)
      values (gen_random_uuid(), 'race-key', 2, 'completed', 10, 5, 3, 'x', 1)`);
    await t.db.execute(sql`update rewrap_campaigns set state = 'cancelled' where key_name = 'race-key'`);
  });

  it("re-wraps every record of both layouts onto the pinned version, losing nothing, one audit event per batch", async () => {
    await createKey(ep, "full-key");
    await rotateKey(ep, "full-key");
    await rotateKey(ep, "full-key");
    const records = await seedRecords(t.db, ep, { key: "full-key", count: 1100, versions: [1, 2, 3], envelopeEvery: 4 });
    const onTarget = records.filter((_, i) => i % 3 === 2).length;
    const c = await create({ keyName: "full-key", batchSize: 200 });
    expect(c.targetVersion).toBe(3);
    expect(c.state).toBe("pending");
    expect(c.recordsAtStart).toBe(records.length - onTarget);

    const callsBefore = rewrapCalls;
    const results = await drain(c.id);
    expect(results.at(-1)?.kind).toBe("completed");
    expect(await versionsOf(t.db, "full-key")).toEqual(new Map([[3, records.length]]));

    const stored = await storedOf(t.db, records.map((r) => r.id));
    for (const r of records) {
      const s = stored.get(r.id)!;
      expect((await openRecord(ep, "full-key", s.encrypted_key_shares, r.walletId)).equals(r.plaintext)).toBe(true);
    }
    const status = await getCampaignStatus(t.db, c.id, {});
    expect(status.state).toBe("completed");
    expect(status.remaining).toBe(0);
    expect(status.rewrapped).toBe(c.recordsAtStart);
    const [fresh] = rowsOf<{ n: string | number }>(await t.db.execute(sql`select count(*) as n from server_wallet_key_shares where rewrap_campaign_id = ${c.id}`));
    expect(Number(fresh!.n)).toBe(status.rewrapped);
    const committed = results.filter((r) => r.kind === "committed").length;
    expect(status.batches).toBe(committed);
    expect(rewrapCalls - callsBefore).toBe(committed);
    const [ev] = rowsOf<{ n: string | number }>(
      await t.db.execute(sql`select count(*) as n from audit_events where action = 'campaign.batch' and outcome = 'success' and target_id = ${c.id}`),
    );
    expect(Number(ev!.n)).toBe(committed);
    expect((await verifyAuditChain(t.db)).ok).toBe(true);
    // The read table, written in place by the re-wraps, equals a rebuild.
    const inventory = async () =>
      rowsOf<{ k: string }>(await t.db.execute(sql`select md5(string_agg(i::text, '|' order by i.id)) as k from inventory_wallets i`))[0]?.k;
    const before = await inventory();
    await t.db.execute(sql`select keyshare_inventory_rebuild()`);
    expect(await inventory()).toBe(before);

    // Finished: running again sends nothing to Vault.
    const calls = rewrapCalls;
    expect((await runNextBatch(runner({ campaignId: c.id }))).kind).toBe("nothing");
    expect((await runNextBatch(runner())).kind).toBe("nothing");
    expect(rewrapCalls).toBe(calls);
    await expect(create({ keyName: "full-key" })).rejects.toThrow("nothing to re-wrap");
  });

  it("never overwrites what the backend wrote meanwhile and keeps its bookkeeping", async () => {
    await createKey(ep, "cas-key");
    const records = await seedRecords(t.db, ep, { key: "cas-key", count: 60, versions: [1] });
    await rotateKey(ep, "cas-key");
    const c = await create({ keyName: "cas-key", batchSize: 100 });
    const rewritten = records.slice(0, 5);
    const touched = records.slice(10, 20);
    const newPlain = new Map<string, Buffer>();
    let done = false;
    const onPhase = async (phase: string) => {
      if (phase !== "commit" || done) return;
      done = true;
    };
    // Between the Vault answer and the write-back the backend rewrites 5 records and signs with 10 others.
    const r = await runNextBatch(
      runner({
        campaignId: c.id,
        onPhase: (phase) => void onPhase(phase),
        vault: {
          ...vault,
          rewrapBatch: async (...args) => {
            const res = await vault.rewrapBatch(...args);
            const cts = await encryptMany(ep, "cas-key", rewritten.map(() => ({ plaintext: Buffer.from("backend-new-share") })));
            for (const [i, rec] of rewritten.entries()) {
              newPlain.set(rec.id, Buffer.from("backend-new-share"));
              await t.db.execute(sql`update server_wallet_key_shares set encrypted_key_shares = convert_to(${cts[i]!}, 'UTF8') where id = ${rec.id}`);
            }
            for (const rec of touched) {
              await t.db.execute(sql`update server_wallet_key_shares set access_count = access_count + 7, last_accessed_at = now() where id = ${rec.id}`);
            }
            return res;
          },
        },
      }),
    );
    expect(r).toMatchObject({ kind: "committed", rewrapped: 55, conflicts: 5 });
    const stored = await storedOf(t.db, records.map((x) => x.id));
    for (const rec of rewritten) {
      const s = stored.get(rec.id)!;
      expect(s.rewrap_campaign_id).toBeNull();
      expect((await openRecord(ep, "cas-key", s.encrypted_key_shares, rec.walletId)).equals(newPlain.get(rec.id)!)).toBe(true);
    }
    for (const rec of touched) {
      const s = stored.get(rec.id)!;
      expect(s.access_count).toBe(7);
      expect(s.key_version).toBe(2);
      expect((await openRecord(ep, "cas-key", s.encrypted_key_shares, rec.walletId)).equals(rec.plaintext)).toBe(true);
    }
    const status = await getCampaignStatus(t.db, c.id, {});
    expect(status.skippedConflict).toBe(5);
    expect((await drain(c.id)).at(-1)?.kind).toBe("completed");
  });

  it("fences off a worker whose lease was taken over: its write-back writes nothing", async () => {
    await createKey(ep, "fence-key");
    const records = await seedRecords(t.db, ep, { key: "fence-key", count: 30, versions: [1] });
    await rotateKey(ep, "fence-key");
    const c = await create({ keyName: "fence-key", batchSize: 50 });
    let inner: BatchResult | undefined;
    const slow = await runNextBatch(
      runner({
        campaignId: c.id,
        workerId: "worker:slow",
        leaseMs: 1,
        vault: {
          ...vault,
          rewrapBatch: async (...args) => {
            const res = await vault.rewrapBatch(...args);
            await new Promise((r) => setTimeout(r, 20));
            inner = await runNextBatch(runner({ campaignId: c.id, workerId: "worker:fast" }));
            return res;
          },
        },
      }),
    );
    expect(inner).toMatchObject({ kind: "committed", rewrapped: records.length });
    expect(slow.kind).toBe("fenced");
    const status = await getCampaignStatus(t.db, c.id, {});
    expect(status.rewrapped).toBe(records.length);
    expect(status.skippedConflict).toBe(0);
    expect(status.batches).toBe(1);
    expect((await drain(c.id)).at(-1)?.kind).toBe("completed");
  });

  it("quarantines records that keep failing, pauses, and completes once they are acknowledged", async () => {
    await createKey(ep, "q-key");
    const good = await seedRecords(t.db, ep, { key: "q-key", count: 20, versions: [1] });
    await rotateKey(ep, "q-key");
    const badId = "11111111-2222-4333-8444-555555555555";
    await t.db.execute(sql`insert into server_wallet_key_shares (id, wallet_id, account_address, encrypted_key_shares, encryption_key_id)
      values (${badId}, 'w-bad', '0xbad', convert_to('vault:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'UTF8'), 'q-key')`);
    const c = await create({ keyName: "q-key", batchSize: 100, maxItemAttempts: 2 });
    const results = await drain(c.id);
    expect(results.at(-1)).toMatchObject({ kind: "paused" });
    let status = await getCampaignStatus(t.db, c.id, {});
    expect(status.state).toBe("paused");
    expect(status.stateReason).toContain("quarantined");
    expect(status.rewrapped).toBe(good.length);
    expect(status.quarantinedUnacknowledged).toBe(1);
    const [q] = await listQuarantined(t.db, c.id);
    expect(q).toMatchObject({ recordId: badId, attempts: 2, reasonCode: "bad_ciphertext", quarantined: true });
    expect(q!.error).not.toContain("AAAAAAAA");

    // Retry puts it back for another round of tries; it fails again and is quarantined again.
    expect((await t.db.transaction((tx) => retryQuarantined(tx, { campaignId: c.id }, operator))).retried).toBe(1);
    await t.db.transaction((tx) => resumeCampaign(tx, { campaignId: c.id }, operator));
    expect((await drain(c.id)).at(-1)).toMatchObject({ kind: "paused" });

    expect((await t.db.transaction((tx) => acknowledgeQuarantined(tx, { campaignId: c.id, reason: "record is corrupt at the source" }, operator))).acknowledged).toBe(1);
    await t.db.transaction((tx) => resumeCampaign(tx, { campaignId: c.id }, operator));
    expect((await drain(c.id)).at(-1)?.kind).toBe("completed");
    status = await getCampaignStatus(t.db, c.id, {});
    // The record stays below the target: the census still counts it, so retiring v1 stays refused.
    expect(status.remaining).toBe(1);
  });

  it("backs off on whole-call failures, honours Retry-After and pauses itself after the failure budget", async () => {
    await createKey(ep, "fault-key");
    await seedRecords(t.db, ep, { key: "fault-key", count: 10, versions: [1] });
    await rotateKey(ep, "fault-key");
    const c = await create({ keyName: "fault-key", failureBudget: 2 });
    transit.setFaults({ rateLimitRate: 1 });
    try {
      const r1 = await runNextBatch(runner({ campaignId: c.id }));
      expect(r1.kind).toBe("vault-failed");
      expect(r1.kind === "vault-failed" && r1.delayMs).toBeGreaterThanOrEqual(1000);
      // Backoff: nothing is claimed before not_before.
      expect((await runNextBatch(runner({ campaignId: c.id }))).kind).toBe("nothing");
      await t.db.execute(sql`update rewrap_campaigns set not_before = null where id = ${c.id}`);
      const r2 = await runNextBatch(runner({ campaignId: c.id }));
      expect(r2.kind).toBe("paused");
    } finally {
      transit.setFaults({});
    }
    const status = await getCampaignStatus(t.db, c.id, {});
    expect(status).toMatchObject({ state: "paused", failedCalls: 2, rewrapped: 0, activeLeases: 1 });
    expect(status.stateReason).toContain("2 consecutive failed Vault calls");
    const [ev] = rowsOf<{ n: string | number }>(
      await t.db.execute(sql`select count(*) as n from audit_events where target_id = ${c.id} and action = 'campaign.batch' and outcome = 'failure'`),
    );
    expect(Number(ev!.n)).toBe(2);
    await t.db.transaction((tx) => resumeCampaign(tx, { campaignId: c.id }, operator));
    expect((await drain(c.id)).at(-1)?.kind).toBe("completed");
  });

  it("writes nothing of a batch when its audit event cannot be written (fail closed)", async () => {
    await createKey(ep, "audit-key");
    const records = await seedRecords(t.db, ep, { key: "audit-key", count: 15, versions: [1] });
    await rotateKey(ep, "audit-key");
    const c = await create({ keyName: "audit-key" });
    await t.db.execute(sql.raw(`
      create or replace function test_refuse_batch_audit() returns trigger language plpgsql as $$
      begin if new.action = 'campaign.batch' then raise exception 'audit store refused'; end if; return new; end $$`));
    await t.db.execute(sql.raw(`create trigger test_refuse_batch_audit before insert on audit_events for each row execute function test_refuse_batch_audit()`));
    try {
      await expect(runNextBatch(runner({ campaignId: c.id }))).rejects.toThrow("audit store refused");
    } finally {
      await t.db.execute(sql.raw(`drop trigger test_refuse_batch_audit on audit_events`));
    }
    expect(await versionsOf(t.db, "audit-key")).toEqual(new Map([[1, records.length]]));
    const status = await getCampaignStatus(t.db, c.id, {});
    expect(status).toMatchObject({ rewrapped: 0, batches: 0 });
    expect((await drain(c.id)).at(-1)?.kind).toBe("completed");
    expect(await versionsOf(t.db, "audit-key")).toEqual(new Map([[2, records.length]]));
  });

  it("keeps the pinned target when the key is rotated mid-campaign, with derived keys and scopes", async () => {
    await createKey(ep, "derived-key", { derived: true });
    await rotateKey(ep, "derived-key");
    const recs: FixtureRecord[] = [
      ...(await seedRecords(t.db, ep, { key: "derived-key", count: 40, versions: [1], derived: true, envelopeEvery: 2, environment: "prod" })),
      ...(await seedRecords(t.db, ep, { key: "derived-key", count: 10, versions: [1], derived: true, environment: "dev" })),
    ];
    await rotateKey(ep, "derived-key");
    // Target 2, scope v1 of prod only; the key then moves on to v4 during the campaign.
    const c = await create({ keyName: "derived-key", targetVersion: 2, scopeVersions: [1], scopeEnvironment: "prod", batchSize: 15 });
    expect(c.derived).toBe(true);
    expect(c.recordsAtStart).toBe(40);
    const r = await runNextBatch(runner({ campaignId: c.id }));
    expect(r.kind).toBe("committed");
    await rotateKey(ep, "derived-key");
    expect((await drain(c.id)).at(-1)?.kind).toBe("completed");
    const stored = await storedOf(t.db, recs.map((x) => x.id));
    for (const rec of recs) {
      const s = stored.get(rec.id)!;
      const prod = recs.indexOf(rec) < 40;
      expect(s.key_version).toBe(prod ? 2 : 1);
      expect((await openRecord(ep, "derived-key", s.encrypted_key_shares, rec.walletId, true)).equals(rec.plaintext)).toBe(true);
    }
  });

  it("pause stops claims, cancel fences batches in flight", async () => {
    await createKey(ep, "pause-key");
    await seedRecords(t.db, ep, { key: "pause-key", count: 30, versions: [1] });
    await rotateKey(ep, "pause-key");
    const c = await create({ keyName: "pause-key", batchSize: 10 });
    await t.db.transaction((tx) => pauseCampaign(tx, { campaignId: c.id, reason: "change window closed" }, operator));
    expect((await runNextBatch(runner({ campaignId: c.id }))).kind).toBe("nothing");
    await t.db.transaction((tx) => resumeCampaign(tx, { campaignId: c.id }, operator));
    const r = await runNextBatch(
      runner({
        campaignId: c.id,
        vault: {
          ...vault,
          rewrapBatch: async (...args) => {
            const res = await vault.rewrapBatch(...args);
            await t.db.transaction((tx) => cancelCampaign(tx, { campaignId: c.id }, operator));
            return res;
          },
        },
      }),
    );
    expect(r.kind).toBe("fenced");
    expect(await versionsOf(t.db, "pause-key")).toEqual(new Map([[1, 30]]));
    const status = await getCampaignStatus(t.db, c.id, {});
    expect(status).toMatchObject({ state: "cancelled", rewrapped: 0, activeLeases: 0 });
    const actions = rowsOf<{ action: string }>(
      await t.db.execute(sql`select action from audit_events where target_id = ${c.id} order by seq`),
    ).map((x) => x.action);
    expect(actions).toEqual(["campaign.create", "campaign.pause", "campaign.resume", "campaign.start", "campaign.cancel"]);
  });
});
