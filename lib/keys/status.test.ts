import { describe, expect, it } from "vitest";
import type { TransitKeyInfo } from "@/lib/vault";
import { ageInDays, assessRotation, DAY_MS, effectiveEnvironment, formatPeriod, isValidKeyName } from "./status";
import { buildKeySummaries, toCensusCells } from "./summaries";

const NOW = new Date("2026-03-01T12:00:00Z");
const daysAgo = (d: number) => new Date(NOW.getTime() - d * DAY_MS);

describe("assessRotation", () => {
  it("is ok well inside the policy, due within 14 days of it, overdue at and after it", () => {
    expect(assessRotation(daysAgo(10), 0, 90, NOW)).toMatchObject({ status: "ok", ageDays: 10, daysUntilDue: 80 });
    expect(assessRotation(daysAgo(75), 0, 90, NOW).status).toBe("ok");
    expect(assessRotation(daysAgo(76), 0, 90, NOW)).toMatchObject({ status: "due", daysUntilDue: 14 });
    expect(assessRotation(daysAgo(89.9), 0, 90, NOW).status).toBe("due");
    expect(assessRotation(daysAgo(90), 0, 90, NOW)).toMatchObject({ status: "overdue", ageDays: 90, daysUntilDue: 0 });
    expect(assessRotation(daysAgo(200), 0, 90, NOW)).toMatchObject({ status: "overdue", daysUntilDue: -110 });
  });

  it("computes the policy due date from the latest version's creation", () => {
    const r = assessRotation(new Date("2026-01-01T00:00:00Z"), 0, 30, NOW);
    expect(r.policyDueAt?.toISOString()).toBe("2026-01-31T00:00:00.000Z");
  });

  it("derives the next automatic rotation from auto_rotate_period, and whether it keeps the policy", () => {
    const r = assessRotation(daysAgo(5), 30 * 86_400, 90, NOW);
    expect(r.autoRotateDueAt?.toISOString()).toBe(new Date(daysAgo(5).getTime() + 30 * DAY_MS).toISOString());
    expect(r.autoRotationMeetsPolicy).toBe(true);
    expect(assessRotation(daysAgo(5), 180 * 86_400, 90, NOW).autoRotationMeetsPolicy).toBe(false);
    expect(assessRotation(daysAgo(5), 0, 90, NOW)).toMatchObject({ autoRotateDueAt: null, autoRotationMeetsPolicy: false });
  });

  it("stays overdue when auto-rotation was configured but did not happen", () => {
    expect(assessRotation(daysAgo(120), 30 * 86_400, 90, NOW).status).toBe("overdue");
  });

  it("is unknown without a creation time; ages never go negative on clock skew", () => {
    expect(assessRotation(null, 0, 90, NOW)).toMatchObject({ status: "unknown", ageDays: null, policyDueAt: null });
    expect(ageInDays(new Date(NOW.getTime() + 60_000), NOW)).toBe(0);
    expect(ageInDays(daysAgo(1.99), NOW)).toBe(1);
  });
});

describe("formatPeriod", () => {
  it("formats Vault's seconds", () => {
    expect(formatPeriod(0)).toBe("off");
    expect(formatPeriod(90 * 86_400)).toBe("90d");
    expect(formatPeriod(36 * 3600)).toBe("1d 12h");
    expect(formatPeriod(3600)).toBe("1h");
    expect(formatPeriod(90)).toBe("1m 30s");
  });
});

describe("isValidKeyName", () => {
  it("accepts Vault's names and refuses anything else", () => {
    for (const ok of ["a", "wallet-shares-prod", "k_1", "a.b-c", "X9"]) expect(isValidKeyName(ok), ok).toBe(true);
    for (const bad of ["", "-a", "a-", ".a", "a/b", "../x", "a b", "ключ", "a%2Fb", "x".repeat(257), 42, null]) {
      expect(isValidKeyName(bad), String(bad)).toBe(false);
    }
  });
});

describe("effectiveEnvironment", () => {
  it("prefers the row's column, then the key mapping, else unknown", () => {
    const mapping = { "k-prod": "prod" };
    expect(effectiveEnvironment("staging", "k-prod", mapping)).toBe("staging");
    expect(effectiveEnvironment(null, "k-prod", mapping)).toBe("prod");
    expect(effectiveEnvironment(null, "other", mapping)).toBeNull();
    expect(effectiveEnvironment(null, "constructor", mapping)).toBeNull();
  });
});

function key(name: string, over: Partial<TransitKeyInfo> = {}): TransitKeyInfo {
  return {
    name,
    type: "aes256-gcm96",
    latestVersion: 3,
    minDecryptionVersion: 1,
    minEncryptionVersion: 0,
    minAvailableVersion: 0,
    versions: [
      { version: 1, createdAt: daysAgo(300) },
      { version: 2, createdAt: daysAgo(200) },
      { version: 3, createdAt: daysAgo(100) },
    ],
    derived: false,
    exportable: false,
    allowPlaintextBackup: false,
    deletionAllowed: false,
    autoRotatePeriodSeconds: 0,
    supportsEncryption: true,
    supportsDecryption: true,
    supportsDerivation: true,
    supportsSigning: false,
    convergentEncryption: false,
    ...over,
  };
}

describe("buildKeySummaries", () => {
  const policy = { maxAgeDays: 90, environmentMapping: { "k-prod": "prod", "k-shared": "prod" } };
  const census = [
    { keyName: "k-prod", keyVersion: 1, environment: null, layout: "direct" as const, records: 5 },
    { keyName: "k-prod", keyVersion: 3, environment: null, layout: "envelope" as const, records: 7 },
    { keyName: "k-prod", keyVersion: null, environment: null, layout: null, records: 1 },
    { keyName: "k-shared", keyVersion: 1, environment: "staging", layout: "direct" as const, records: 2 },
    { keyName: "k-shared", keyVersion: 1, environment: null, layout: "direct" as const, records: 3 },
    { keyName: "ghost", keyVersion: 2, environment: null, layout: "direct" as const, records: 4 },
  ];

  it("merges Vault keys and record key names, with per-version records, behind counts and flags", () => {
    const out = buildKeySummaries(
      census,
      [key("k-prod", { exportable: true, minDecryptionVersion: 2, versions: [{ version: 2, createdAt: daysAgo(200) }, { version: 3, createdAt: daysAgo(80) }] }), key("k-shared"), key("unused", { autoRotatePeriodSeconds: 86_400 * 30, versions: [{ version: 3, createdAt: daysAgo(1) }] })],
      policy,
      NOW,
    );
    expect(out.map((k) => k.name)).toEqual(["ghost", "k-prod", "k-shared", "unused"]);
    const [ghost, prod, shared, unused] = out;
    expect(ghost).toMatchObject({ inVault: false, vault: null, records: 4, recordsBehind: null, flags: ["missing-in-vault"] });
    expect(prod).toMatchObject({ inVault: true, records: 13, recordsBehind: 5, recordsUnknownVersion: 1, layouts: { direct: 5, envelope: 7, unknown: 1 } });
    expect(prod!.rotation).toMatchObject({ status: "due", ageDays: 80, maxAgeDays: 90 });
    expect(prod!.versions).toEqual([
      { version: 1, createdAt: null, ageDays: null, records: 5, isLatest: false, belowMinDecryption: true, trimmed: false },
      { version: 2, createdAt: daysAgo(200).toISOString(), ageDays: 200, records: 0, isLatest: false, belowMinDecryption: false, trimmed: false },
      { version: 3, createdAt: daysAgo(80).toISOString(), ageDays: 80, records: 7, isLatest: true, belowMinDecryption: false, trimmed: false },
    ]);
    expect(prod!.flags).toEqual(["records-below-min-decryption", "exportable", "due", "unparsable-records"]);
    expect(shared!.flags).toContain("multi-environment");
    expect(shared!.flags).toContain("overdue");
    expect(shared!.environments).toEqual([
      { environment: "prod", records: 3 },
      { environment: "staging", records: 2 },
    ]);
    expect(unused).toMatchObject({ records: 0, recordsBehind: 0, flags: [] });
    expect(unused!.rotation.autoRotateDueAt).toBe(new Date(daysAgo(1).getTime() + 30 * DAY_MS).toISOString());
  });

  it("with Vault unreachable: DB figures only, no false 'missing in Vault'", () => {
    const out = buildKeySummaries(census, null, policy, NOW);
    expect(out.map((k) => k.name)).toEqual(["ghost", "k-prod", "k-shared"]);
    for (const k of out) {
      expect(k.inVault).toBeNull();
      expect(k.recordsBehind).toBeNull();
      expect(k.rotation.status).toBe("unknown");
      expect(k.flags).not.toContain("missing-in-vault");
    }
    expect(out[1]!.versions.map((v) => [v.version, v.records])).toEqual([
      [1, 5],
      [3, 7],
    ]);
  });

  it("flags records on versions newer than Vault's latest", () => {
    const [k] = buildKeySummaries([{ keyName: "k", keyVersion: 9, environment: null, layout: "direct", records: 1 }], [key("k")], policy, NOW);
    expect(k!.flags).toContain("records-above-latest");
  });

  it("resolves environments in the census cells", () => {
    expect(toCensusCells(census.filter((c) => c.keyName === "k-shared"), policy)).toEqual([
      { version: 1, environment: "prod", layout: "direct", records: 3 },
      { version: 1, environment: "staging", layout: "direct", records: 2 },
    ]);
  });
});
