import { createHash } from "node:crypto";

/**
 * Canonical JSON: object keys sorted (by UTF-16 code units), no whitespace, JSON.stringify for primitives.
 * Stable across the write path and verification because both hash the same JSON-roundtripped values.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** Every hashed field of an audit event; nulls are explicit. */
export interface AuditHashInput {
  seq: number;
  occurredAt: Date;
  actorType: string;
  actorUserId: string | null;
  actorEmail: string | null;
  actorRole: string | null;
  actorIp: string | null;
  actorUserAgent: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  reason: string | null;
  requestId: string | null;
  vaultRequestId: string | null;
  details: Record<string, unknown>;
  prevHash: string;
}

/** hash = hex SHA-256 of canonical JSON of {v:1, …fields, prevHash}. Changing this needs a new `v`. */
export function computeAuditHash(e: AuditHashInput): string {
  const payload = {
    v: 1,
    seq: e.seq,
    occurredAt: e.occurredAt.toISOString(),
    actorType: e.actorType,
    actorUserId: e.actorUserId,
    actorEmail: e.actorEmail,
    actorRole: e.actorRole,
    actorIp: e.actorIp,
    actorUserAgent: e.actorUserAgent,
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId,
    outcome: e.outcome,
    reason: e.reason,
    requestId: e.requestId,
    vaultRequestId: e.vaultRequestId,
    details: e.details,
    prevHash: e.prevHash,
  };
  return createHash("sha256").update(canonicalJson(payload), "utf8").digest("hex");
}

/**
 * A short digest of an event's content without its chain position (seq, prevHash): the same event keeps its
 * fingerprint when rows before it are deleted, inserted or reordered. Signed checkpoints carry the fingerprints
 * of the events they cover, so a verifier can name the exact event an attacker changed even when every later
 * hash was recomputed, and tell a deletion, insertion or reordering from a modification.
 */
export function auditContentFingerprint(e: Omit<AuditHashInput, "seq" | "prevHash">): string {
  const payload = {
    v: 1,
    occurredAt: e.occurredAt.toISOString(),
    actorType: e.actorType,
    actorUserId: e.actorUserId,
    actorEmail: e.actorEmail,
    actorRole: e.actorRole,
    actorIp: e.actorIp,
    actorUserAgent: e.actorUserAgent,
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId,
    outcome: e.outcome,
    reason: e.reason,
    requestId: e.requestId,
    vaultRequestId: e.vaultRequestId,
    details: e.details,
  };
  return createHash("sha256").update(canonicalJson(payload), "utf8").digest("hex").slice(0, AUDIT_FINGERPRINT_CHARS);
}

/** Hex characters per fingerprint (64 bits). */
export const AUDIT_FINGERPRINT_CHARS = 16;
