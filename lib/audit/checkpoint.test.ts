import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "@/lib/config/env";
import { rowsOf } from "@/lib/db/client";
import { testBackends, type TestDb } from "@/lib/db/testing";
import { startTransitServer } from "@/lib/devstack/transit/server";
import { captureLogger } from "@/lib/jobs/testing";
import { createVaultClient, VaultUnavailableError, type VaultClient } from "@/lib/vault";
import { auditCheckpointJob, createCheckpoint, type CheckpointSettings } from "./checkpoint";
import { recordAuditEvent } from "./writer";
import { verificationAuditEvent, verifyAuditTrail, type VerifyAuditTrailOptions } from "./trail";

const T = 10 * 60_000;
const KEY = "audit-checkpoint-test";

describe.each(testBackends())("audit checkpoints and verification on $name", (backend) => {
  let t: TestDb;
  let transit: Awaited<ReturnType<typeof startTransitServer>>;
  let vault: VaultClient;
  const settings: CheckpointSettings = { keyName: KEY, everyEvents: 5, intervalMs: T, createKey: true };
  const verifyOpts: VerifyAuditTrailOptions = { keyName: KEY, checkpointIntervalMs: T };
  const append = async (n: number, tag = "test.event") => {
    for (let i = 0; i < n; i++) await recordAuditEvent(t.db, { actor: { type: "service", userId: "test" }, action: tag, details: { i } });
  };
  const checkpointRows = async () =>
    rowsOf<{ seq: string | number; signature: string; key_version: number }>(
      await t.db.execute(sql`select seq, signature, key_version from audit_checkpoints order by seq`),
    ).map((r) => ({ seq: Number(r.seq), signature: r.signature, keyVersion: r.key_version }));

  beforeAll(async () => {
    t = await backend.create();
    transit = await startTransitServer({ port: 0, quiet: true });
    vault = createVaultClient({ addr: transit.url, token: transit.token, retries: 0 });
  });
  afterAll(async () => {
    vault?.close();
    await transit?.close();
    await t?.close();
  });

  it("an empty trail needs no checkpoint and verifies", async () => {
    expect(await createCheckpoint(t.db, vault, settings)).toEqual({ created: false, reason: "empty" });
    expect(await verifyAuditTrail(t.db, vault, verifyOpts)).toMatchObject({ ok: true, headSeq: 0, damage: null });
  });

  it("without the key and without permission to create it, the checkpoint fails and nothing is written", async () => {
    await append(3);
    await expect(createCheckpoint(t.db, vault, { ...settings, createKey: false })).rejects.toThrow(/key not found/);
    expect(await checkpointRows()).toEqual([]);
  });

  it("signs the first checkpoint at once (creating the key in dev), appends it as an event, and verifies", async () => {
    const out = await createCheckpoint(t.db, vault, settings);
    expect(out).toMatchObject({ created: true, seq: 3, from: 1, eventSeq: 4 });
    const [cp] = await checkpointRows();
    expect(cp).toMatchObject({ seq: 3, keyVersion: 1 });
    expect(cp!.signature).toMatch(/^vault:v1:/);
    // The Transit key may not be exported.
    expect((await vault.readKey(KEY)).name).toBe(KEY);
    const [ev] = rowsOf<{ action: string; actor_user_id: string; details: Record<string, unknown> }>(
      await t.db.execute(sql`select action, actor_user_id, details from audit_events where seq = 4`),
    );
    expect(ev).toMatchObject({ action: "audit.checkpoint", actor_user_id: "audit-checkpoint" });
    expect(ev!.details).toMatchObject({ seq: 3, from: 1, keyVersion: 1, keyName: KEY, mac: cp!.signature.replace(/^vault:v1:/, "") });
    expect(String(ev!.details.fingerprints)).toMatch(/^[0-9a-f]{48}$/);

    const result = await verifyAuditTrail(t.db, vault, verifyOpts);
    expect(result).toMatchObject({ ok: true, mode: "full", headSeq: 4, checkedEvents: 4, verifiedThroughCheckpointSeq: 3 });
    expect(result.checkpoints).toMatchObject({ total: 1, verified: 1, last: { seq: 3 } });
  });

  it("is not due again before N events or T minutes; then covers N events per checkpoint, chained", async () => {
    expect(await createCheckpoint(t.db, vault, settings)).toEqual({ created: false, reason: "not-due" });
    await append(12);
    // head 16: events 4..16 uncovered, more than N = 5: windows of 5.
    expect(await createCheckpoint(t.db, vault, settings)).toMatchObject({ created: true, from: 4, seq: 8, eventSeq: 17 });
    expect(await createCheckpoint(t.db, vault, settings)).toMatchObject({ created: true, from: 9, seq: 13, eventSeq: 18 });
    // head 18: 14..18 is N events, not more.
    expect(await createCheckpoint(t.db, vault, settings)).toEqual({ created: false, reason: "not-due" });
    // T later they are covered, and an idle trail still gets a checkpoint every T (over the previous one's event).
    const later = new Date(Date.now() + T + 1000);
    expect(await createCheckpoint(t.db, vault, settings, { now: later })).toMatchObject({ created: true, from: 14, seq: 18, eventSeq: 19 });
    const later2 = new Date(later.getTime() + T);
    expect(await createCheckpoint(t.db, vault, settings, { now: later2 })).toMatchObject({ created: true, from: 19, seq: 19, eventSeq: 20 });
    expect(await verifyAuditTrail(t.db, vault, { ...verifyOpts, now: new Date(later2.getTime() + 60_000) })).toMatchObject({
      ok: true,
      checkpoints: { total: 5, verified: 5 },
    });
  });

  it("verifies incrementally from the checkpoint the last successful verification recorded", async () => {
    const now = new Date(Date.now() + 2 * T + 60_000);
    const full = await verifyAuditTrail(t.db, vault, { ...verifyOpts, full: true, now });
    expect(full).toMatchObject({ ok: true, mode: "full", fromSeq: 1, verifiedThroughCheckpointSeq: 19 });
    await recordAuditEvent(t.db, verificationAuditEvent(full, { type: "service", userId: "test" }));
    await append(2);
    const inc = await verifyAuditTrail(t.db, vault, { ...verifyOpts, now });
    expect(inc).toMatchObject({ ok: true, mode: "incremental", fromSeq: 20, checkedEvents: 4, checkpoints: { verified: 1 } });
  });

  it("reports a last checkpoint older than T as missing, and the tail as where the damage starts", async () => {
    const result = await verifyAuditTrail(t.db, vault, { ...verifyOpts, now: new Date(Date.now() + 5 * T) });
    expect(result.ok).toBe(false);
    expect(result.damage).toMatchObject({ kind: "checkpoint_missing", seq: result.headSeq + 1 });
  });

  it("a Vault outage fails the checkpoint run without blocking appends; the next run catches up", async () => {
    const down = createVaultClient({ addr: "http://127.0.0.1:1", token: "x", retries: 0, timeoutMs: 500 });
    try {
      await append(6);
      const before = await checkpointRows();
      await expect(createCheckpoint(t.db, down, settings)).rejects.toBeInstanceOf(VaultUnavailableError);
      await append(1);
      expect(await checkpointRows()).toEqual(before);
      // Through the job, as the runner calls it: it throws (the runner logs it) and writes nothing.
      const cfg = loadConfig({ NODE_ENV: "test", AUDIT_CHECKPOINT_EVERY_EVENTS: "5", AUDIT_CHECKPOINT_KEY: KEY });
      const { logger } = captureLogger();
      const ctx = { db: t.db, logger, signal: new AbortController().signal };
      await expect(auditCheckpointJob(cfg, { vault: () => down }).run(ctx)).rejects.toBeInstanceOf(VaultUnavailableError);
      expect(await checkpointRows()).toEqual(before);
      await auditCheckpointJob(cfg, { vault: () => vault }).run(ctx);
      const after = await checkpointRows();
      expect(after.length).toBeGreaterThan(before.length);
    } finally {
      down.close();
    }
    expect(await verifyAuditTrail(t.db, vault, verifyOpts)).toMatchObject({ ok: true });
  });
});
