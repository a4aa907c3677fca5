import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowsOf, type Tx } from "@/lib/db/client";
import { auditCheckpoints } from "@/lib/db/schema/audit";
import { createTestPglite, type TestDb } from "@/lib/db/testing";
import { startTransitServer } from "@/lib/devstack/transit/server";
import { createVaultClient, type VaultClient } from "@/lib/vault";
import { readChainPage, type ChainRow } from "./chain-rows";
import { createCheckpoint, type CheckpointSettings } from "./checkpoint";
import { computeAuditHash } from "./hash";
import { verifyAuditTrail, type AuditDamageKind, type VerifyAuditTrailOptions } from "./trail";
import { recordAuditEvent } from "./writer";

/**
 * The strongest attacker without Vault: the database owner. Each mutation runs on the same seeded trail
 * (300 events, a signed checkpoint every ~50) inside a transaction that disables the triggers, rewrites rows,
 * recomputes hashes and moves the head as the mutation needs, runs the verifier there, and rolls back.
 * Every mutation must be detected, at the right sequence number and with the right kind of damage.
 *
 * Events after the last checkpoint are out of scope for recomputed changes: nothing signed covers them yet
 * (the interval rule bounds that window); unrecomputed changes there are in scope.
 */

const MUTATIONS = Number(process.env.AUDIT_PROPERTY_MUTATIONS ?? 1000);
const SEED = Number(process.env.AUDIT_PROPERTY_SEED ?? 0x5eed_a0d1);
const T = 10 * 60_000;
const KEY = "audit-property-test";

/** mulberry32: a small seeded PRNG, so a failure can be replayed with AUDIT_PROPERTY_SEED. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T,>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    hex: (n: number) => Array.from({ length: n }, () => "0123456789abcdef"[Math.floor(next() * 16)]).join(""),
  };
}

class Rollback extends Error {}

interface Expectation {
  seq: number;
  kinds: AuditDamageKind[];
}

interface CheckpointSnapshot {
  seq: number;
  hash: string;
  signature: string;
  keyName: string;
  keyVersion: number;
  createdAt: Date;
}

describe("audit trail against a database owner's tampering (PGlite, property test)", () => {
  let t: TestDb;
  let transit: Awaited<ReturnType<typeof startTransitServer>>;
  let vault: VaultClient;
  let original: ChainRow[];
  let checkpoints: CheckpointSnapshot[];
  /** Last event covered by the last checkpoint. */
  let H: number;
  /** Seq of each checkpoint's own event, by checkpoint seq. */
  const eventOf = new Map<number, number>();
  let now: Date;
  const verifyOpts = (): VerifyAuditTrailOptions => ({ keyName: KEY, checkpointIntervalMs: T, full: true, now });

  beforeAll(async () => {
    t = await createTestPglite();
    transit = await startTransitServer({ port: 0, quiet: true });
    vault = createVaultClient({ addr: transit.url, token: transit.token, retries: 0 });
    const r = prng(SEED ^ 0xabcdef);
    const settings: CheckpointSettings = { keyName: KEY, everyEvents: 1000, intervalMs: T, createKey: true };
    now = new Date();
    // Six checkpoints 20 minutes apart (twice the interval), the last one a minute ago: without the last one
    // the trail would look abandoned for longer than the interval allows.
    const cpTime = (k: number) => new Date(now.getTime() - (5 - k) * 2 * T - 60_000);
    let sinceCheckpoint = 0;
    let k = 0;
    for (let i = 1; i <= 300; i++) {
      await recordAuditEvent(t.db, {
        actor: r.next() < 0.7 ? { type: "user", userId: `u-${r.int(1, 9)}`, email: `user${r.int(1, 9)}@example.test`, role: r.pick(["viewer", "auditor", "operator"]), ip: `10.0.0.${r.int(1, 250)}` } : { type: "service", userId: "worker" },
        action: r.pick(["auth.signin", "inventory.view", "key.rotate", "campaign.rewrap.batch", "audit.export"]),
        target: r.next() < 0.6 ? { type: r.pick(["wallet", "key", "campaign"]), id: `t-${r.int(1, 99)}` } : null,
        outcome: r.pick(["success", "success", "failure", "denied"]),
        reason: `event ${i} ${r.hex(8)}`,
        requestId: `req-${r.hex(10)}`,
        details: { n: i, tag: r.hex(6), nested: { ok: r.next() < 0.5 } },
      });
      if (++sinceCheckpoint === 50) {
        const out = await createCheckpoint(t.db, vault, settings, { now: cpTime(k++) });
        if (!out.created) throw new Error("seed: checkpoint not created");
        eventOf.set(out.seq, out.eventSeq);
        sinceCheckpoint = 0;
      }
    }
    original = await readChainPage(t.db, 1, 10_000);
    checkpoints = (await t.db.select().from(auditCheckpoints).orderBy(auditCheckpoints.seq)).map((c) => ({
      seq: c.seq,
      hash: c.hash,
      signature: c.signature,
      keyName: c.keyName,
      keyVersion: c.keyVersion,
      createdAt: c.createdAt,
    }));
    H = checkpoints[checkpoints.length - 1]!.seq;
  }, 120_000);
  afterAll(async () => {
    vault?.close();
    await transit?.close();
    await t?.close();
  });

  it("the seeded trail is intact: 6 checkpoints, 306 events", async () => {
    expect(checkpoints.length).toBe(6);
    expect(original.length).toBe(306);
    expect(H).toBe(305);
    const result = await verifyAuditTrail(t.db, vault, verifyOpts());
    expect(result).toMatchObject({ ok: true, headSeq: 306, checkedEvents: 306, checkpoints: { total: 6, verified: 6 } });
  });

  /** Rewrites events from `from` on as `rows` (already numbered and hashed as the attacker wants). */
  async function rewriteFrom(tx: Tx, from: number, rows: ChainRow[], moveHead: boolean) {
    await tx.execute(sql`delete from audit_events where seq >= ${from}`);
    const tail = rows.filter((r) => r.seq >= from);
    if (tail.length > 0) {
      // One parameter for the whole tail: much cheaper than a multi-row VALUES list with 18 parameters per row.
      const json = JSON.stringify(
        tail.map((r) => ({
          seq: r.seq,
          occurred_at: r.occurredAt.toISOString(),
          actor_type: r.actorType,
          actor_user_id: r.actorUserId,
          actor_email: r.actorEmail,
          actor_role: r.actorRole,
          actor_ip: r.actorIp,
          actor_user_agent: r.actorUserAgent,
          action: r.action,
          target_type: r.targetType,
          target_id: r.targetId,
          outcome: r.outcome,
          reason: r.reason,
          request_id: r.requestId,
          vault_request_id: r.vaultRequestId,
          details: r.details,
          prev_hash: r.prevHash,
          hash: r.hash,
        })),
      );
      await tx.execute(sql`
        insert into audit_events (seq, occurred_at, actor_type, actor_user_id, actor_email, actor_role, actor_ip, actor_user_agent,
                                  action, target_type, target_id, outcome, reason, request_id, vault_request_id, details, prev_hash, hash)
        select seq, occurred_at, actor_type, actor_user_id, actor_email, actor_role, actor_ip, actor_user_agent,
               action, target_type, target_id, outcome, reason, request_id, vault_request_id, details, prev_hash, hash
        from jsonb_to_recordset(${json}::jsonb) as x(seq bigint, occurred_at timestamptz, actor_type text, actor_user_id text,
          actor_email text, actor_role text, actor_ip text, actor_user_agent text, action text, target_type text, target_id text,
          outcome text, reason text, request_id text, vault_request_id text, details jsonb, prev_hash text, hash text)`);
    }
    if (moveHead) {
      const last = rows[rows.length - 1];
      await tx.execute(sql`update audit_chain_head set last_seq = ${last?.seq ?? 0}, last_hash = ${last?.hash ?? "0".repeat(64)}`);
    }
  }

  /** Renumbers from index i on and recomputes every hash after it: a consistent chain. */
  function recompute(rows: ChainRow[], fromIndex: number): ChainRow[] {
    const out = rows.map((r) => ({ ...r }));
    for (let i = fromIndex; i < out.length; i++) {
      out[i]!.seq = i + 1;
      out[i]!.prevHash = i === 0 ? "0".repeat(64) : out[i - 1]!.hash;
      out[i]!.hash = computeAuditHash(out[i]!);
    }
    return out;
  }

  function tamperContent(r: ReturnType<typeof prng>, row: ChainRow): ChainRow {
    const c = { ...row, details: { ...row.details } };
    switch (r.int(0, 6)) {
      case 0:
        c.reason = `${row.reason ?? ""} (edited ${r.hex(4)})`;
        break;
      case 1:
        c.actorEmail = `someone-else-${r.hex(4)}@example.test`;
        break;
      case 2:
        c.action = row.action === "audit.export" ? "inventory.view" : "audit.export";
        break;
      case 3:
        c.outcome = row.outcome === "success" ? "denied" : "success";
        break;
      case 4:
        c.details = { ...row.details, injected: r.hex(6) };
        break;
      case 5:
        c.occurredAt = new Date(row.occurredAt.getTime() + r.int(1, 86_400_000));
        break;
      default:
        c.targetId = `${row.targetId ?? "none"}-${r.hex(3)}`;
    }
    return c;
  }

  const forged = (r: ReturnType<typeof prng>, at: Date): ChainRow => ({
    ...original[0]!,
    occurredAt: at,
    actorType: "service",
    actorUserId: "intruder",
    actorEmail: null,
    action: "key.rotate",
    reason: `forged ${r.hex(6)}`,
    details: { forged: true },
  });

  type Mutation = { name: string; apply(tx: Tx, r: ReturnType<typeof prng>): Promise<Expectation> };
  const cpAt = (r: ReturnType<typeof prng>, exceptLast = false) => r.pick(exceptLast ? checkpoints.slice(0, -1) : checkpoints);

  const mutations: Mutation[] = [
    {
      name: "modify an event, recompute the chain, move the head",
      async apply(tx, r) {
        const s = r.int(1, H);
        const rows = original.slice();
        rows[s - 1] = tamperContent(r, rows[s - 1]!);
        await rewriteFrom(tx, s, recompute(rows, s - 1), true);
        return { seq: s, kinds: ["modified"] };
      },
    },
    {
      name: "modify an event in place",
      async apply(tx, r) {
        const s = r.int(1, original.length);
        const rows = original.slice();
        rows[s - 1] = tamperContent(r, rows[s - 1]!);
        await rewriteFrom(tx, s, rows, false);
        return { seq: s, kinds: ["modified"] };
      },
    },
    {
      name: "overwrite an event's stored hash",
      async apply(tx, r) {
        const s = r.int(1, original.length);
        await tx.execute(sql`update audit_events set hash = ${r.hex(64)} where seq = ${s}`);
        return { seq: s, kinds: ["modified"] };
      },
    },
    {
      name: "delete an event, renumber, recompute, move the head",
      async apply(tx, r) {
        const s = r.int(1, H);
        const rows = original.filter((x) => x.seq !== s);
        await rewriteFrom(tx, s, recompute(rows, s - 1), true);
        return { seq: s, kinds: ["deleted"] };
      },
    },
    {
      name: "delete an event, leaving a gap",
      async apply(tx, r) {
        const s = r.int(1, original.length - 1);
        await tx.execute(sql`delete from audit_events where seq = ${s}`);
        return { seq: s, kinds: ["deleted"] };
      },
    },
    {
      name: "insert a forged event, renumber, recompute, move the head",
      async apply(tx, r) {
        const s = r.int(1, H);
        const rows = original.slice();
        rows.splice(s - 1, 0, forged(r, original[s - 1]!.occurredAt));
        await rewriteFrom(tx, s, recompute(rows, s - 1), true);
        return { seq: s, kinds: ["inserted"] };
      },
    },
    {
      name: "swap two neighbours, recompute, move the head",
      async apply(tx, r) {
        const s = r.int(1, H - 1);
        const rows = original.slice();
        [rows[s - 1], rows[s]] = [rows[s]!, rows[s - 1]!];
        await rewriteFrom(tx, s, recompute(rows, s - 1), true);
        return { seq: s, kinds: ["reordered"] };
      },
    },
    {
      name: "swap two neighbours' contents, keeping seq and hashes in place",
      async apply(tx, r) {
        const s = r.int(1, original.length - 1);
        const rows = original.slice();
        const a = rows[s - 1]!;
        const b = rows[s]!;
        rows[s - 1] = { ...b, seq: a.seq };
        rows[s] = { ...a, seq: b.seq };
        await rewriteFrom(tx, s, rows, false);
        return { seq: s, kinds: ["reordered"] };
      },
    },
    {
      name: "cut the tail with its checkpoints, move the head",
      async apply(tx, r) {
        const x = r.int(eventOf.get(checkpoints[0]!.seq)! + 1, H);
        await tx.execute(sql`delete from audit_events where seq >= ${x}`);
        await tx.execute(sql`delete from audit_checkpoints where seq >= ${x}`);
        await tx.execute(sql`update audit_chain_head set last_seq = ${x - 1}, last_hash = ${original[x - 2]!.hash}`);
        return { seq: x, kinds: ["truncated", "checkpoint_missing"] };
      },
    },
    {
      name: "cut the tail but keep the checkpoints, move the head",
      async apply(tx, r) {
        const x = r.int(2, original.length);
        await tx.execute(sql`delete from audit_events where seq >= ${x}`);
        await tx.execute(sql`update audit_chain_head set last_seq = ${x - 1}, last_hash = ${original[x - 2]!.hash}`);
        return { seq: x, kinds: ["truncated"] };
      },
    },
    {
      name: "cut the tail without moving the head",
      async apply(tx, r) {
        const x = r.int(2, original.length);
        await tx.execute(sql`delete from audit_events where seq >= ${x}`);
        return { seq: x, kinds: ["truncated"] };
      },
    },
    {
      name: "change a checkpoint's hash, time or MAC",
      async apply(tx, r) {
        const cp = cpAt(r);
        const what = r.int(0, 2);
        if (what === 0) await tx.execute(sql`update audit_checkpoints set hash = ${r.hex(64)} where seq = ${cp.seq}`);
        else if (what === 1) await tx.execute(sql`update audit_checkpoints set created_at = created_at + interval '1 second' where seq = ${cp.seq}`);
        else {
          const mac = cp.signature.replace(/^vault:v1:/, "");
          // Not the last data character: its low bits are base64 padding that decoding drops, so flipping
          // them would leave the MAC's bytes unchanged (the next checkpoint, which signs this text, catches it).
          const i = r.int(0, mac.length - 4);
          const flipped = mac.slice(0, i) + (mac[i] === "A" ? "B" : "A") + mac.slice(i + 1);
          await tx.execute(sql`update audit_checkpoints set signature = ${`vault:v1:${flipped}`} where seq = ${cp.seq}`);
        }
        return { seq: cp.seq, kinds: ["invalid_signature"] };
      },
    },
    {
      name: "claim a checkpoint was signed with a key version Vault does not have",
      async apply(tx, r) {
        const cp = cpAt(r);
        const v = r.int(2, 9);
        await tx.execute(sql`update audit_checkpoints set signature = ${cp.signature.replace(/^vault:v1:/, `vault:v${v}:`)}, key_version = ${v} where seq = ${cp.seq}`);
        return { seq: cp.seq, kinds: ["unknown_key_version"] };
      },
    },
    {
      name: "delete a checkpoint row",
      async apply(tx, r) {
        const cp = cpAt(r);
        await tx.execute(sql`delete from audit_checkpoints where seq = ${cp.seq}`);
        return { seq: cp.seq, kinds: ["checkpoint_deleted"] };
      },
    },
    {
      name: "forge a checkpoint",
      async apply(tx, r) {
        let s = r.int(1, H);
        while (checkpoints.some((c) => c.seq === s)) s = r.int(1, H);
        await tx.insert(auditCheckpoints).values({
          seq: s,
          hash: original[s - 1]!.hash,
          signature: `vault:v1:${randomBytes(32).toString("base64")}`,
          keyName: KEY,
          keyVersion: 1,
          createdAt: new Date(),
        });
        return { seq: s, kinds: ["invalid_signature"] };
      },
    },
    {
      name: "rewrite a checkpoint event's fingerprints, recompute, move the head",
      async apply(tx, r) {
        const cp = cpAt(r, true);
        const s = eventOf.get(cp.seq)!;
        const rows = original.slice();
        const ev = rows[s - 1]!;
        const fps = String(ev.details.fingerprints);
        const i = r.int(0, fps.length - 1);
        rows[s - 1] = { ...ev, details: { ...ev.details, fingerprints: fps.slice(0, i) + (fps[i] === "0" ? "1" : "0") + fps.slice(i + 1) } };
        await rewriteFrom(tx, s, recompute(rows, s - 1), true);
        return { seq: s, kinds: ["modified"] };
      },
    },
    {
      name: "delete a checkpoint's own event, renumber, recompute, move the head",
      async apply(tx, r) {
        const cp = cpAt(r, true);
        const s = eventOf.get(cp.seq)!;
        const rows = original.filter((x) => x.seq !== s);
        await rewriteFrom(tx, s, recompute(rows, s - 1), true);
        return { seq: s, kinds: ["deleted"] };
      },
    },
  ];

  it(`detects ${MUTATIONS} random owner mutations, each at the right seq and of the right kind`, async () => {
    const r = prng(SEED);
    const misses: string[] = [];
    const perKind = new Map<string, number>();
    for (let i = 0; i < MUTATIONS; i++) {
      const m = mutations[i % mutations.length]!;
      let expected: Expectation | undefined;
      let got: Awaited<ReturnType<typeof verifyAuditTrail>> | undefined;
      await t.db
        .transaction(async (tx) => {
          // As a superuser would: every trigger off for this transaction (the same as disabling each one).
          await tx.execute(sql`set local session_replication_role = replica`);
          expected = await m.apply(tx, r);
          got = await verifyAuditTrail(tx, vault, verifyOpts());
          throw new Rollback();
        })
        .catch((err: unknown) => {
          if (!(err instanceof Rollback)) throw err;
        });
      perKind.set(m.name, (perKind.get(m.name) ?? 0) + 1);
      const ok = got && !got.ok && got.firstBadSeq === expected!.seq && expected!.kinds.includes(got.damage!.kind);
      if (!ok) {
        misses.push(`#${i} ${m.name}: expected ${expected!.kinds.join("|")} at ${expected!.seq}, got ${got?.ok ? "intact" : `${got?.damage?.kind} at ${got?.firstBadSeq}`}`);
      }
    }
    // The trail is untouched after all of it.
    expect((await verifyAuditTrail(t.db, vault, verifyOpts())).ok).toBe(true);
    expect(misses.slice(0, 20)).toEqual([]);
    expect([...perKind.values()].reduce((a, b) => a + b, 0)).toBe(MUTATIONS);
  }, 600_000);
});
