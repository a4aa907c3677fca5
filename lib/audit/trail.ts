import "server-only";
import { sql } from "drizzle-orm";
import { rowsOf, type DbOrTx } from "@/lib/db/client";
import { AUDIT_GENESIS_HASH } from "@/lib/db/schema/audit";
import { VaultNotFoundError, type TransitKeyInfo, type VaultClient } from "@/lib/vault";
import { readChainPage, type ChainRow } from "./chain-rows";
import {
  canonicalCheckpointMessage,
  CHECKPOINT_ACTION,
  signatureVersion,
  type CheckpointEventDetails,
} from "./checkpoint";
import { AUDIT_FINGERPRINT_CHARS, auditContentFingerprint, computeAuditHash } from "./hash";
import type { AuditEventInput } from "./writer";

/**
 * Verification of the whole audit trail (DESIGN §6): the hash chain, every signed checkpoint (HMAC checked by
 * Vault), the checkpoints' own chain and the age of the last one. Used by `npm run audit:verify` and the
 * audit page's Verify button; returns a DTO.
 *
 * What it can tell, against someone with full database access but no Vault access:
 * - an event changed, removed, inserted or moved anywhere up to the last checkpoint — by its exact seq, even
 *   when every later hash and the head were recomputed (each checkpoint signs the content fingerprints of the
 *   events it covers);
 * - the same after the last checkpoint when the chain was not recomputed;
 * - a checkpoint changed, forged, removed, or signed with a key version Vault does not have;
 * - the tail cut off together with its checkpoints, once the last remaining checkpoint is older than the
 *   checkpoint interval (checkpoints are made at that interval even when the trail is idle).
 * What no verifier can tell: a recomputed change to events after the last checkpoint, within one interval.
 */

export type AuditDamageKind =
  | "modified"
  | "deleted"
  | "inserted"
  | "reordered"
  /** Events after the last surviving checkpoint were removed (its own event is gone, or the head is behind). */
  | "truncated"
  /** The last checkpoint is older than the interval allows: the job is down, or the tail and its checkpoints were deleted. */
  | "checkpoint_missing"
  /** A checkpoint row was removed (its event or the next checkpoint's signature still names it). */
  | "checkpoint_deleted"
  | "invalid_signature"
  /** Signed with a Transit key version that does not exist (or no longer may be verified). */
  | "unknown_key_version";

export interface AuditDamage {
  kind: AuditDamageKind;
  /** The first sequence number affected. */
  seq: number;
  message: string;
}

export interface AuditVerificationResult {
  ok: boolean;
  mode: "full" | "incremental";
  /** First seq whose chain was recomputed. */
  fromSeq: number;
  checkedEvents: number;
  headSeq: number;
  checkpoints: { total: number; verified: number; last: { seq: number; at: string } | null };
  /** The latest checkpoint whose signature and anchor held: where the next incremental run may start. */
  verifiedThroughCheckpointSeq: number | null;
  firstBadSeq: number | null;
  damage: AuditDamage | null;
  /** Every finding, first bad seq first (at most 20). */
  findings: AuditDamage[];
  durationMs: number;
  eventsPerSecond: number;
}

export interface VerifyAuditTrailOptions {
  /** Transit key of the checkpoints (cfg.audit.checkpointKey). */
  keyName: string;
  /** Checkpoint interval (cfg.audit.checkpointIntervalMs). */
  checkpointIntervalMs: number;
  /** Extra time allowed before a checkpoint counts as missing. Default: half the interval plus one minute. */
  checkpointGraceMs?: number;
  /** Recompute the chain from seq 1 instead of from the last verified checkpoint. */
  full?: boolean;
  /** Start from this checkpoint instead of the one the last successful verification recorded. */
  fromCheckpointSeq?: number;
  now?: Date;
  pageSize?: number;
}

interface CheckpointRow {
  seq: number;
  hash: string;
  signature: string;
  keyName: string;
  keyVersion: number;
  at: string;
}

interface CheckpointEvent {
  eventSeq: number;
  details: Partial<CheckpointEventDetails>;
}

export const VERIFY_ACTION = "audit.verify";

async function loadCheckpoints(db: DbOrTx): Promise<CheckpointRow[]> {
  return rowsOf<{ seq: string | number; hash: string; signature: string; key_name: string; key_version: number; at: string }>(
    await db.execute(sql`
      select seq, hash, signature, key_name, key_version,
             to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as at
      from public.audit_checkpoints order by seq`),
  ).map((r) => ({
    seq: Number(r.seq),
    hash: r.hash,
    signature: r.signature,
    keyName: r.key_name,
    keyVersion: Number(r.key_version),
    // Sub-millisecond digits were never written by the job: keep them so a changed time fails the signature.
    at: r.at.endsWith("000") ? `${r.at.slice(0, 23)}Z` : `${r.at}Z`,
  }));
}

async function loadCheckpointEvents(db: DbOrTx): Promise<Map<number, CheckpointEvent[]>> {
  const rows = rowsOf<{ seq: string | number; details: unknown }>(
    await db.execute(sql`select seq, details from public.audit_events where action = ${CHECKPOINT_ACTION} order by seq`),
  );
  const bySeq = new Map<number, CheckpointEvent[]>();
  for (const r of rows) {
    const details = (typeof r.details === "string" ? JSON.parse(r.details) : r.details) as Partial<CheckpointEventDetails>;
    const covered = Number(details?.seq);
    if (!Number.isSafeInteger(covered)) continue;
    const list = bySeq.get(covered) ?? [];
    list.push({ eventSeq: Number(r.seq), details });
    bySeq.set(covered, list);
  }
  return bySeq;
}

/** The checkpoint the last successful verification reached, from its `audit.verify` event. */
async function lastVerifiedCheckpoint(db: DbOrTx): Promise<number | undefined> {
  const [r] = rowsOf<{ cp: string | null }>(
    await db.execute(sql`
      select details ->> 'verifiedThroughCheckpointSeq' as cp from public.audit_events
      where action = ${VERIFY_ACTION} and outcome = 'success' order by seq desc limit 1`),
  );
  const n = Number(r?.cp);
  return r?.cp != null && Number.isSafeInteger(n) ? n : undefined;
}

function fingerprintOf(row: ChainRow): string {
  const fp = auditContentFingerprint(row);
  return row.exactTime ? fp : `!${fp.slice(1)}`;
}

function splitFingerprints(s: unknown): string[] | undefined {
  if (typeof s !== "string" || s.length % AUDIT_FINGERPRINT_CHARS !== 0) return undefined;
  const out: string[] = [];
  for (let i = 0; i < s.length; i += AUDIT_FINGERPRINT_CHARS) out.push(s.slice(i, i + AUDIT_FINGERPRINT_CHARS));
  return out;
}

/**
 * Compares the events from `from` on with the signed fingerprints of a checkpoint window and names the first
 * difference: a moved pair, a removed event (the next signed one is here), an inserted one (the signed one
 * comes one later), or a modified one.
 */
async function localise(db: DbOrTx, from: number, expected: string[], signed: number): Promise<AuditDamage | undefined> {
  const rows = await readChainPage(db, from, expected.length + 2);
  const actual = new Map<number, string>();
  for (const r of rows) actual.set(r.seq, fingerprintOf(r));
  for (let j = 0; j < signed; j++) {
    const seq = from + j;
    const a = actual.get(seq);
    if (a === expected[j]) continue;
    if (a === undefined) {
      const later = rows.some((r) => r.seq > seq);
      return later
        ? { kind: "deleted", seq, message: `event ${seq} is missing (a gap in the sequence)` }
        : { kind: "truncated", seq, message: `the trail ends before event ${seq}, which a checkpoint covers` };
    }
    const next = actual.get(seq + 1);
    if (a === expected[j + 1] && next === expected[j])
      return { kind: "reordered", seq, message: `events ${seq} and ${seq + 1} were swapped` };
    if (a === expected[j + 1]) return { kind: "deleted", seq, message: `event ${seq} was removed and the later ones renumbered` };
    if (next === expected[j]) return { kind: "inserted", seq, message: `an event was inserted at ${seq}` };
    return { kind: "modified", seq, message: `event ${seq} differs from what the checkpoint signed` };
  }
  return undefined;
}

export async function verifyAuditTrail(db: DbOrTx, vault: VaultClient, opts: VerifyAuditTrailOptions): Promise<AuditVerificationResult> {
  const started = performance.now();
  const now = opts.now ?? new Date();
  const pageSize = opts.pageSize ?? 5000;
  const graceMs = opts.checkpointGraceMs ?? opts.checkpointIntervalMs / 2 + 60_000;
  const findings: AuditDamage[] = [];
  const add = (d: AuditDamage) => findings.push(d);

  const [head] = rowsOf<{ last_seq: string | number; last_hash: string }>(
    await db.execute(sql`select last_seq, last_hash from public.audit_chain_head where id = 1`),
  );
  const headSeq = Number(head?.last_seq ?? 0);
  const checkpoints = await loadCheckpoints(db);
  const events = await loadCheckpointEvents(db);

  let key: TransitKeyInfo | undefined;
  if (checkpoints.length > 0) {
    try {
      key = await vault.readKey(opts.keyName);
    } catch (err) {
      if (!(err instanceof VaultNotFoundError)) throw err;
    }
  }

  // Where to start: the last verified checkpoint (incremental) or the beginning.
  let anchorIndex = -1;
  let mode: "full" | "incremental" = "full";
  if (!opts.full) {
    const want = opts.fromCheckpointSeq ?? (await lastVerifiedCheckpoint(db));
    if (want !== undefined) {
      anchorIndex = checkpoints.findIndex((c) => c.seq === want);
      if (anchorIndex >= 0) mode = "incremental";
    }
  }

  // 1. Checkpoints: signature, key version, and the fingerprints each one vouches for.
  const trusted = new Map<number, { from: number; fingerprints: string[]; hash: string }>();
  const invalid: { cp: CheckpointRow; eventSeqs: number[] }[] = [];
  const covered = new Set(checkpoints.map((c) => c.seq));
  // Checkpoint events without their row (normally none).
  const orphanEvents = [...events.entries()].filter(([s]) => !covered.has(s));
  let verified = 0;
  interface Candidate {
    message: Buffer;
    from: number;
    fingerprints: string[];
    deleted?: number;
  }
  const pending: { cp: CheckpointRow; eventSeqs: number[]; tries: Candidate[] }[] = [];
  for (let i = Math.max(0, anchorIndex); i < checkpoints.length; i++) {
    const cp = checkpoints[i]!;
    const evs = events.get(cp.seq) ?? [];
    const version = signatureVersion(cp.signature);
    if (version === undefined || version !== cp.keyVersion || cp.keyName !== opts.keyName) {
      add({ kind: "invalid_signature", seq: cp.seq, message: `checkpoint ${cp.seq} carries a malformed or mismatched signature` });
      continue;
    }
    if (!key || version > key.latestVersion) {
      add({ kind: "unknown_key_version", seq: cp.seq, message: `checkpoint ${cp.seq} is signed with key version ${version}, which Vault does not have` });
      continue;
    }
    if (version < key.minDecryptionVersion) {
      add({ kind: "unknown_key_version", seq: cp.seq, message: `checkpoint ${cp.seq} is signed with key version ${version}, below min_decryption_version` });
      continue;
    }
    // The previous checkpoint's signature; a checkpoint row removed since leaves its event behind.
    const prevCp = checkpoints[i - 1];
    const orphans = orphanEvents.length === 0 ? [] : orphanEvents.filter(([s]) => s < cp.seq && (!prevCp || s > prevCp.seq));
    const prevCandidates: { prev: string | null; deleted?: number }[] = [{ prev: prevCp?.signature ?? null }];
    for (const [s, list] of orphans) {
      for (const e of list) {
        if (typeof e.details.mac === "string") prevCandidates.push({ prev: `vault:v${e.details.keyVersion}:${e.details.mac}`, deleted: s });
      }
    }
    const tries: Candidate[] = [];
    for (const ev of evs) {
      const fps = splitFingerprints(ev.details.fingerprints);
      const from = Number(ev.details.from);
      if (!fps || !Number.isSafeInteger(from) || from + fps.length - 1 !== cp.seq) continue;
      for (const pc of prevCandidates) {
        const message = canonicalCheckpointMessage({ seq: cp.seq, hash: cp.hash, at: cp.at, prev: pc.prev, from, fingerprints: fps.join("") });
        tries.push({ message, from, fingerprints: fps, deleted: pc.deleted });
      }
    }
    pending.push({ cp, eventSeqs: evs.map((e) => e.eventSeq), tries });
  }
  // One batched Vault round trip (per 1,000 candidates) for every signature.
  const flat = pending.flatMap((p) => p.tries.map((c) => ({ input: c.message, hmac: p.cp.signature })));
  const answers = flat.length > 0 ? await vault.verifyHmacBatch(opts.keyName, flat) : [];
  let at = 0;
  for (const p of pending) {
    let ok = false;
    for (const c of p.tries) {
      const answer = answers[at++];
      if (ok || answer !== true) continue;
      ok = true;
      trusted.set(p.cp.seq, { from: c.from, fingerprints: c.fingerprints, hash: p.cp.hash });
      if (c.deleted !== undefined) add({ kind: "checkpoint_deleted", seq: c.deleted, message: `the checkpoint at ${c.deleted} was removed` });
    }
    if (ok) verified += 1;
    else invalid.push({ cp: p.cp, eventSeqs: p.eventSeqs });
  }
  // Checkpoint events whose row is gone and that no later signature accounted for.
  for (const [s] of events) {
    if (covered.has(s) || findings.some((f) => f.kind === "checkpoint_deleted" && f.seq === s)) continue;
    if (anchorIndex >= 0 && s < checkpoints[anchorIndex]!.seq) continue;
    add({ kind: "checkpoint_deleted", seq: s, message: `the checkpoint at ${s} was removed (its audit event remains)` });
  }

  // 2. The chain, from the anchor (incremental) or the genesis.
  const anchor = anchorIndex >= 0 ? checkpoints[anchorIndex]! : undefined;
  let expected = anchor ? anchor.seq + 1 : 1;
  let prevHash = AUDIT_GENESIS_HASH;
  if (anchor) {
    const [row] = await readChainPage(db, anchor.seq, 1, anchor.seq);
    if (!row || row.hash !== anchor.hash || !trusted.has(anchor.seq)) {
      // The anchor itself no longer holds: fall back to the whole chain.
      mode = "full";
      expected = 1;
    } else {
      prevHash = anchor.hash;
    }
  }
  const fromSeq = expected;
  let checked = 0;
  let chainBreak: AuditDamage | undefined;
  const anchorMismatch: number[] = [];
  // The next page is read while this one is hashed.
  let nextPage: Promise<ChainRow[]> | undefined = readChainPage(db, expected, pageSize);
  outer: while (nextPage) {
    const rows: ChainRow[] = await nextPage;
    nextPage = rows.length === pageSize ? readChainPage(db, rows[rows.length - 1]!.seq + 1, pageSize) : undefined;
    for (const row of rows) {
      if (row.seq !== expected) {
        chainBreak = { kind: "deleted", seq: expected, message: `event ${expected} is missing (a gap in the sequence)` };
        break outer;
      }
      if (row.prevHash !== prevHash || !row.exactTime || computeAuditHash(row) !== row.hash) {
        chainBreak = { kind: "modified", seq: row.seq, message: `event ${row.seq} does not match its hash or its predecessor's` };
        break outer;
      }
      const t = trusted.get(row.seq);
      if (t && t.hash !== row.hash) anchorMismatch.push(row.seq);
      prevHash = row.hash;
      expected += 1;
      checked += 1;
    }
  }
  // Left unread after a break: settle it so that a failure there is not an unhandled rejection.
  await nextPage?.catch(() => undefined);
  const lastSeq = expected - 1;
  if (!chainBreak) {
    if (headSeq > lastSeq) chainBreak = { kind: "truncated", seq: lastSeq + 1, message: `the head is at ${headSeq} but the trail ends at ${lastSeq}` };
    else if (headSeq < lastSeq) chainBreak = { kind: "inserted", seq: headSeq + 1, message: `events after the head (${headSeq}) were added` };
    else if (head && head.last_hash !== prevHash) chainBreak = { kind: "modified", seq: headSeq, message: "the head's hash does not match the last event" };
  }

  // 3. Name the exact event in every signed window the chain or a checkpoint anchor says is damaged.
  const windows = [...trusted.entries()].sort((a, b) => a[0] - b[0]);
  const suspect = new Set<number>(anchorMismatch);
  if (chainBreak) {
    const w = windows.find(([seq, t]) => chainBreak!.seq >= t.from && chainBreak!.seq <= seq);
    if (w) suspect.add(w[0]);
    // A break beyond the last window can still be a removal or move the next window would have caught.
  }
  // Checkpoints above the chain's end: their windows tell how the tail was cut.
  for (const [seq] of windows) if (seq > lastSeq) suspect.add(seq);
  let localised: AuditDamage | undefined;
  for (let w = 0; w < windows.length; w++) {
    const [seq, t] = windows[w]!;
    if (!suspect.has(seq)) continue;
    // One signed fingerprint past the window tells a removal or move at its last event from a modification:
    // the next window's first, or else this checkpoint's own event as stored.
    const next = windows[w + 1];
    let beyond = next && next[1].from === seq + 1 ? next[1].fingerprints[0] : undefined;
    if (beyond === undefined) {
      const own = (events.get(seq) ?? [])[0];
      const [row] = own ? await readChainPage(db, own.eventSeq, 1, own.eventSeq) : [];
      if (row) beyond = fingerprintOf(row);
    }
    const d = await localise(db, t.from, beyond ? [...t.fingerprints, beyond] : t.fingerprints, t.fingerprints.length);
    if (d) {
      localised = d;
      break;
    }
    if (anchorMismatch.includes(seq)) {
      localised = { kind: "modified", seq, message: `event ${seq} does not match the hash checkpoint ${seq} signed` };
      break;
    }
  }
  if (localised) add(localised);
  if (chainBreak && !(localised && localised.seq <= chainBreak.seq)) add(chainBreak);

  // A failing checkpoint whose own event is shown tampered with is explained by that event.
  // Its event lies between it and the next checkpoint.
  for (const { cp, eventSeqs } of invalid) {
    const nextSeq = checkpoints.find((c) => c.seq > cp.seq)?.seq ?? Number.POSITIVE_INFINITY;
    const explained = findings.some((f) => EVENT_DAMAGE.has(f.kind) && f.seq > cp.seq && f.seq <= nextSeq);
    if (explained && (eventSeqs.length === 0 || eventSeqs.some((s) => findings.some((f) => f.seq === s)))) continue;
    if (eventSeqs.length === 0 && cp.seq >= headSeq) {
      add({ kind: "truncated", seq: Math.min(cp.seq + 1, headSeq + 1), message: `checkpoint ${cp.seq}'s own event is gone: the trail was cut` });
      continue;
    }
    add({ kind: "invalid_signature", seq: cp.seq, message: `checkpoint ${cp.seq} does not verify with Vault` });
  }

  // 4. The tail: the last checkpoint's own event must still be there, and the checkpoint must be recent.
  const last = checkpoints[checkpoints.length - 1];
  if (last) {
    const evs = events.get(last.seq) ?? [];
    if (evs.length === 0 && headSeq <= last.seq) {
      add({ kind: "truncated", seq: headSeq + 1, message: `the last checkpoint's own event (after ${last.seq}) is gone: the tail was cut` });
    }
    const age = now.getTime() - Date.parse(last.at);
    if (age > opts.checkpointIntervalMs + graceMs) {
      add({
        kind: "checkpoint_missing",
        seq: headSeq + 1,
        message: `the last checkpoint is ${Math.round(age / 60_000)} min old: the checkpoint job is down, or the tail was deleted with its checkpoints`,
      });
    }
  } else if (headSeq > 0) {
    const [first] = await readChainPage(db, 1, 1);
    if (first && now.getTime() - first.occurredAt.getTime() > opts.checkpointIntervalMs + graceMs) {
      add({ kind: "checkpoint_missing", seq: 1, message: "the trail has no checkpoint although its first event is older than the checkpoint interval" });
    }
  }

  findings.sort((a, b) => a.seq - b.seq || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
  const damage = findings[0] ?? null;
  const verifiedThrough = damage ? null : ([...trusted.keys()].sort((a, b) => b - a)[0] ?? null);
  const durationMs = performance.now() - started;
  return {
    ok: damage === null,
    mode,
    fromSeq,
    checkedEvents: checked,
    headSeq,
    checkpoints: { total: checkpoints.length, verified, last: last ? { seq: last.seq, at: last.at } : null },
    verifiedThroughCheckpointSeq: verifiedThrough,
    firstBadSeq: damage?.seq ?? null,
    damage,
    findings: findings.slice(0, 20),
    durationMs: Math.round(durationMs),
    eventsPerSecond: durationMs > 0 ? Math.round((checked / durationMs) * 1000) : checked,
  };
}

const EVENT_DAMAGE = new Set<AuditDamageKind>(["modified", "deleted", "inserted", "reordered", "truncated"]);

/** At one seq, the more specific finding first. */
const KIND_ORDER: AuditDamageKind[] = [
  "reordered",
  "deleted",
  "inserted",
  "modified",
  "checkpoint_deleted",
  "unknown_key_version",
  "invalid_signature",
  "truncated",
  "checkpoint_missing",
];

/** The `audit.verify` event a caller appends after a verification (the audit of the audit). */
export function verificationAuditEvent(result: AuditVerificationResult, actor: AuditEventInput["actor"], requestId?: string): AuditEventInput {
  return {
    actor,
    action: VERIFY_ACTION,
    target: { type: "audit-chain", id: null },
    outcome: result.ok ? "success" : "failure",
    reason: result.damage ? `${result.damage.kind} at ${result.damage.seq}` : null,
    requestId: requestId ?? null,
    details: {
      mode: result.mode,
      fromSeq: result.fromSeq,
      headSeq: result.headSeq,
      checkedEvents: result.checkedEvents,
      checkpointsVerified: result.checkpoints.verified,
      verifiedThroughCheckpointSeq: result.verifiedThroughCheckpointSeq,
      firstBadSeq: result.firstBadSeq,
      damage: result.damage?.kind ?? null,
    },
  };
}
