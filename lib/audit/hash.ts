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
  return createHash("sha256").update(canonicalEventJson(e, true), "utf8").digest("hex");
}

const str = JSON.stringify;

/**
 * canonicalJson of the hashed payload, written out in its (fixed) sorted key order instead of sorting keys per
 * event: verification hashes millions of events. hash.test.ts checks it against canonicalJson.
 * Keys with an undefined value are left out, as canonicalJson does.
 */
function canonicalEventJson(e: Partial<AuditHashInput>, withChain: boolean): string {
  let out = "{";
  const put = (key: string, json: string | undefined) => {
    if (json === undefined) return;
    out += out.length > 1 ? `,"${key}":${json}` : `"${key}":${json}`;
  };
  const text = (v: string | null | undefined) => (v === undefined ? undefined : v === null ? "null" : str(v));
  put("action", text(e.action));
  put("actorEmail", text(e.actorEmail));
  put("actorIp", text(e.actorIp));
  put("actorRole", text(e.actorRole));
  put("actorType", text(e.actorType));
  put("actorUserAgent", text(e.actorUserAgent));
  put("actorUserId", text(e.actorUserId));
  put("details", e.details === undefined ? undefined : canonicalJson(e.details));
  put("occurredAt", e.occurredAt === undefined ? undefined : str(e.occurredAt.toISOString()));
  put("outcome", text(e.outcome));
  if (withChain) put("prevHash", text(e.prevHash));
  put("reason", text(e.reason));
  put("requestId", text(e.requestId));
  if (withChain) put("seq", e.seq === undefined ? undefined : str(e.seq));
  put("targetId", text(e.targetId));
  put("targetType", text(e.targetType));
  put("v", "1");
  put("vaultRequestId", text(e.vaultRequestId));
  return `${out}}`;
}

/**
 * A short digest of an event's content without its chain position (seq, prevHash): the same event keeps its
 * fingerprint when rows before it are deleted, inserted or reordered. Signed checkpoints carry the fingerprints
 * of the events they cover, so a verifier can name the exact event an attacker changed even when every later
 * hash was recomputed, and tell a deletion, insertion or reordering from a modification.
 */
export function auditContentFingerprint(e: Omit<AuditHashInput, "seq" | "prevHash">): string {
  return createHash("sha256").update(canonicalEventJson(e, false), "utf8").digest("hex").slice(0, AUDIT_FINGERPRINT_CHARS);
}

/** Hex characters per fingerprint (64 bits). */
export const AUDIT_FINGERPRINT_CHARS = 16;
