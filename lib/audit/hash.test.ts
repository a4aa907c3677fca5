import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AUDIT_FINGERPRINT_CHARS, auditContentFingerprint, canonicalJson, computeAuditHash, type AuditHashInput } from "./hash";

/** The definition: SHA-256 over canonicalJson of the payload object (keys sorted at run time). */
function referenceHash(e: AuditHashInput): string {
  const payload = { v: 1, ...e, occurredAt: e.occurredAt.toISOString() };
  return createHash("sha256").update(canonicalJson(payload), "utf8").digest("hex");
}
function referenceFingerprint(e: AuditHashInput): string {
  const { seq: _seq, prevHash: _prev, ...content } = e;
  const payload = { v: 1, ...content, occurredAt: e.occurredAt.toISOString() };
  return createHash("sha256").update(canonicalJson(payload), "utf8").digest("hex").slice(0, AUDIT_FINGERPRINT_CHARS);
}

const maybe = (s: string) => (Math.random() < 0.3 ? null : s);
const weird = () => ["plain", "ünïcødé ✓", 'quote " and \\ backslash', "line\nbreak", "\u2028sep", "😀 emoji", ""][Math.floor(Math.random() * 7)]!;

function randomEvent(): AuditHashInput {
  return {
    seq: 1 + Math.floor(Math.random() * 1e9),
    occurredAt: new Date(Date.UTC(2026, 0, 1) + Math.floor(Math.random() * 1e10)),
    actorType: "user",
    actorUserId: maybe(weird()),
    actorEmail: maybe(`${randomBytes(3).toString("hex")}@example.test`),
    actorRole: maybe("auditor"),
    actorIp: maybe("10.0.0.1"),
    actorUserAgent: maybe(weird()),
    action: "key.rotate",
    targetType: maybe("key"),
    targetId: maybe(weird()),
    outcome: "success",
    reason: maybe(weird()),
    requestId: maybe(randomBytes(4).toString("hex")),
    vaultRequestId: maybe(randomBytes(4).toString("hex")),
    details: { z: 1, a: [weird(), null, { y: true, b: weird() }], "é": { n: 1.5 } },
    prevHash: randomBytes(32).toString("hex"),
  };
}

describe("audit hash", () => {
  it("the fixed-order serialisation equals canonicalJson of the payload, for hashes and fingerprints", () => {
    for (let i = 0; i < 2000; i++) {
      const e = randomEvent();
      expect(computeAuditHash(e)).toBe(referenceHash(e));
      expect(auditContentFingerprint(e)).toBe(referenceFingerprint(e));
    }
  });

  it("a fingerprint ignores the chain position but not the content", () => {
    const e = randomEvent();
    expect(auditContentFingerprint({ ...e, seq: e.seq + 1, prevHash: "0".repeat(64) } as AuditHashInput)).toBe(auditContentFingerprint(e));
    expect(auditContentFingerprint({ ...e, reason: `${e.reason ?? ""}!` })).not.toBe(auditContentFingerprint(e));
    expect(auditContentFingerprint({ ...e, occurredAt: new Date(e.occurredAt.getTime() + 1) })).not.toBe(auditContentFingerprint(e));
  });
});
