import { asc, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, sanitizeDbError, type Db } from "@/lib/db/client";
import { auditEvents, serverWalletKeyShares } from "@/lib/db/schema";
import { testBackends, type TestDb } from "@/lib/db/testing";
import { ForbiddenError } from "@/lib/errors";
import { AUDIT_GENESIS_HASH } from "@/lib/db/schema/audit";
import { recordAuditEvent, verifyAuditChain, withAudit, type AuditEventInput } from "./index";

const service = { type: "service" } as const;
const event = (action: string, extra: Partial<AuditEventInput> = {}): AuditEventInput => ({
  actor: service,
  action,
  ...extra,
});

/** The database's own message (drizzle wraps it). */
async function dbError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return sanitizeDbError(err).message;
  }
  throw new Error("expected the database to refuse");
}

async function chain(db: Db) {
  return db
    .select({ seq: auditEvents.seq, prevHash: auditEvents.prevHash, hash: auditEvents.hash, action: auditEvents.action, outcome: auditEvents.outcome })
    .from(auditEvents)
    .orderBy(asc(auditEvents.seq));
}

function expectLinked(rows: { seq: number; prevHash: string; hash: string }[]) {
  rows.forEach((r, i) => {
    expect(r.seq).toBe(i + 1);
    expect(r.prevHash).toBe(i === 0 ? AUDIT_GENESIS_HASH : rows[i - 1]!.hash);
  });
}

async function shareCount(db: Db, walletId: string) {
  const rows = await db.select({ id: serverWalletKeyShares.id }).from(serverWalletKeyShares).where(eq(serverWalletKeyShares.walletId, walletId));
  return rows.length;
}

function insertShare(walletId: string) {
  return {
    id: crypto.randomUUID(),
    walletId,
    accountAddress: `0x${walletId}`,
    encryptedKeyShares: new TextEncoder().encode("vault:v1:dGVzdA=="),
    encryptionKeyId: "wallet-shares-dev",
  };
}

describe.each(testBackends())("audit trail on $name", (backend) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await backend.create();
  });
  afterAll(() => t.close());

  it("links each event to the previous hash, redacts details and verifies", async () => {
    await recordAuditEvent(t.db, event("demo.first", { details: { count: 1, ciphertext: "vault:v1:secret" } }));
    await recordAuditEvent(t.db, {
      actor: { type: "user", userId: "u-1", email: "o@example.com", role: "officer", ip: "10.0.0.1", userAgent: "ua" },
      action: "key.rotate",
      target: { type: "transit_key", id: "wallet-shares-prod" },
      outcome: "denied",
      reason: "not an officer",
      requestId: "req-1",
    });
    const rows = await chain(t.db);
    expect(rows).toHaveLength(2);
    expectLinked(rows);
    const [first] = await t.db.select({ details: auditEvents.details }).from(auditEvents).where(eq(auditEvents.seq, 1));
    expect(first?.details).toEqual({ count: 1, ciphertext: "[redacted]" });
    expect(await verifyAuditChain(t.db)).toMatchObject({ ok: true, checked: 2, lastSeq: 2, reachedHead: true });
  });

  it("withAudit commits the action and its event together", async () => {
    const before = (await chain(t.db)).length;
    const id = await withAudit(t.db, event("share.create", { target: { type: "wallet", id: "w-ok" } }), async (tx, audit) => {
      await tx.insert(serverWalletKeyShares).values(insertShare("w-ok"));
      audit.addDetails({ inserted: 1 });
      audit.set({ vaultRequestId: "vault-req-1" });
      return "done";
    });
    expect(id).toBe("done");
    expect(await shareCount(t.db, "w-ok")).toBe(1);
    const rows = await t.db.select().from(auditEvents).where(eq(auditEvents.action, "share.create"));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ outcome: "success", vaultRequestId: "vault-req-1", details: { inserted: 1 }, seq: before + 1 });
  });

  it("rolls the action back when it throws, and records the failure on its own", async () => {
    await expect(
      withAudit(t.db, event("share.create", { target: { type: "wallet", id: "w-throw" } }), async (tx) => {
        await tx.insert(serverWalletKeyShares).values(insertShare("w-throw"));
        throw new Error("vault said no: vault:v1:leak");
      }),
    ).rejects.toThrow("vault said no");
    expect(await shareCount(t.db, "w-throw")).toBe(0);
    const rows = await t.db.select().from(auditEvents).where(eq(auditEvents.targetId, "w-throw"));
    expect(rows.map((r) => r.outcome)).toEqual(["failure"]);
    expect(JSON.stringify(rows[0])).not.toContain("leak");

    await expect(
      withAudit(t.db, event("key.rotate", { target: { type: "transit_key", id: "k-denied" } }), async () => {
        throw new ForbiddenError();
      }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    const denied = await t.db.select().from(auditEvents).where(eq(auditEvents.targetId, "k-denied"));
    expect(denied.map((r) => r.outcome)).toEqual(["denied"]);
  });

  it("fails closed: when the event cannot be written the action does not happen", async () => {
    const before = await chain(t.db);
    // jsonb refuses \u0000: a real write failure of the audit insert, after the action ran.
    await expect(
      withAudit(t.db, event("share.create", { target: { type: "wallet", id: "w-audit-fails" }, details: { bad: "\u0000" } }), async (tx) => {
        await tx.insert(serverWalletKeyShares).values(insertShare("w-audit-fails"));
      }),
    ).rejects.toThrow();
    expect(await shareCount(t.db, "w-audit-fails")).toBe(0);
    expect(await chain(t.db)).toEqual(before);
    expect((await verifyAuditChain(t.db)).ok).toBe(true);
  });

  it("refuses UPDATE, DELETE and TRUNCATE of audit events", async () => {
    expect(await dbError(t.db.execute(sql`update audit_events set reason = 'edited' where seq = 1`))).toMatch(/append-only/);
    expect(await dbError(t.db.execute(sql`delete from audit_events where seq = 1`))).toMatch(/append-only/);
    expect(await dbError(t.db.execute(sql`truncate audit_events`))).toMatch(/append-only/);
    expect(await dbError(t.db.execute(sql`delete from audit_chain_head where id = 1`))).toMatch(/append-only/);
    expect((await verifyAuditChain(t.db)).ok).toBe(true);
  });

  it("refuses an insert that does not follow the chain head (a fork)", async () => {
    const rows = await chain(t.db);
    const last = rows.at(-1)!;
    const message = await dbError(
      t.db.execute(sql`
        insert into audit_events (seq, occurred_at, actor_type, action, outcome, details, prev_hash, hash)
        values (${last.seq}, now(), 'service', 'forged.fork', 'success', '{}', ${last.prevHash}, ${"f".repeat(64)})`),
    );
    expect(message).toMatch(/fork refused/);
  });

  it("verify detects a forged row appended with a valid link but a wrong hash", async () => {
    const rows = await chain(t.db);
    const last = rows.at(-1)!;
    await t.db.execute(sql`
      insert into audit_events (seq, occurred_at, actor_type, action, outcome, details, prev_hash, hash)
      values (${last.seq + 1}, now(), 'service', 'forged.append', 'success', '{}', ${last.hash}, ${"e".repeat(64)})`);
    expect(await verifyAuditChain(t.db)).toMatchObject({ ok: false, firstBrokenSeq: last.seq + 1, reason: "hash_mismatch" });
    expect(await verifyAuditChain(t.db, { limit: last.seq })).toMatchObject({ ok: true, lastSeq: last.seq });
  });

  it("verify detects a row edited with the append-only trigger disabled (superuser)", async () => {
    await t.db.transaction(async (tx) => {
      await tx.execute(sql`alter table audit_events disable trigger audit_events_append_only`);
      await tx.execute(sql`update audit_events set reason = 'rewritten history' where seq = 2`);
      await tx.execute(sql`alter table audit_events enable trigger audit_events_append_only`);
    });
    expect(await verifyAuditChain(t.db)).toMatchObject({ ok: false, firstBrokenSeq: 2, reason: "hash_mismatch" });
    expect(await verifyAuditChain(t.db, { fromSeq: 3, limit: 2 })).toMatchObject({ ok: true, checked: 2 });
  });
});

describe.runIf(testBackends().some((b) => b.name === "postgres"))("audit appends under concurrency (PostgreSQL)", () => {
  let t: TestDb;
  let extra: { db: Db; close(): Promise<void> } | undefined;
  beforeAll(async () => {
    t = await testBackends().find((b) => b.name === "postgres")!.create();
    extra = await createDb({ kind: "postgres", url: t.url!, max: 10 });
  });
  afterAll(async () => {
    await extra?.close();
    await t.close();
  });

  it("never forks with many parallel transactions from two pools", async () => {
    const n = 200;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        i % 3 === 0
          ? withAudit(i % 2 === 0 ? t.db : extra!.db, event("concurrent.with", { details: { i } }), async (tx) => {
              await tx.insert(serverWalletKeyShares).values(insertShare(`cc-${i}`));
            })
          : recordAuditEvent(i % 2 === 0 ? t.db : extra!.db, event("concurrent.record", { details: { i } })),
      ),
    );
    const rows = await chain(t.db);
    expect(rows).toHaveLength(n);
    expectLinked(rows);
    expect(new Set(rows.map((r) => r.hash)).size).toBe(n);
    expect(await verifyAuditChain(t.db)).toMatchObject({ ok: true, checked: n, reachedHead: true });
  });
});
