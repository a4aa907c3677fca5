import "server-only";
import type { TransitKeyInfo } from "@/lib/vault";
import type { CensusRow } from "./census";
import { ageInDays, assessRotation, effectiveEnvironment } from "./status";
import type { KeyCensusCell, KeyEnvironmentCount, KeyFlag, KeySummaryDto, KeyVersionDto } from "./types";

export interface KeyPolicy {
  maxAgeDays: number;
  environmentMapping: Readonly<Record<string, string>>;
}

/**
 * Merges what Vault knows (null: Vault unreachable) with what the records use, one summary per key name in
 * either. Pure: the census, Vault's answers, the policy and the time come in; DTOs go out.
 */
export function buildKeySummaries(
  census: readonly CensusRow[],
  vaultKeys: readonly TransitKeyInfo[] | null,
  policy: KeyPolicy,
  now: Date,
): KeySummaryDto[] {
  const byName = new Map<string, CensusRow[]>();
  for (const row of census) {
    const list = byName.get(row.keyName);
    if (list) list.push(row);
    else byName.set(row.keyName, [row]);
  }
  const vaultByName = new Map((vaultKeys ?? []).map((k) => [k.name, k]));
  const names = [...new Set([...vaultByName.keys(), ...byName.keys()])].sort();
  return names.map((name) => buildKeySummary(name, byName.get(name) ?? [], vaultKeys ? (vaultByName.get(name) ?? null) : undefined, policy, now));
}

/** `info`: the key as Vault describes it, null when Vault does not know it, undefined when Vault is unreachable. */
export function buildKeySummary(
  name: string,
  rows: readonly CensusRow[],
  info: TransitKeyInfo | null | undefined,
  policy: KeyPolicy,
  now: Date,
): KeySummaryDto {
  const perVersion = new Map<number, number>();
  let records = 0;
  let unknownVersion = 0;
  const layouts = { direct: 0, envelope: 0, unknown: 0 };
  const envCounts = new Map<string | null, number>();
  for (const r of rows) {
    records += r.records;
    if (r.keyVersion === null) unknownVersion += r.records;
    else perVersion.set(r.keyVersion, (perVersion.get(r.keyVersion) ?? 0) + r.records);
    layouts[r.layout ?? "unknown"] += r.records;
    const env = effectiveEnvironment(r.environment, name, policy.environmentMapping);
    envCounts.set(env, (envCounts.get(env) ?? 0) + r.records);
  }

  const created = new Map((info?.versions ?? []).map((v) => [v.version, v.createdAt]));
  const versionNumbers = [...new Set([...created.keys(), ...perVersion.keys()])].sort((a, b) => a - b);
  const versions: KeyVersionDto[] = versionNumbers.map((version) => {
    const at = created.get(version) ?? null;
    return {
      version,
      createdAt: at ? at.toISOString() : null,
      ageDays: at ? ageInDays(at, now) : null,
      records: perVersion.get(version) ?? 0,
      isLatest: info ? version === info.latestVersion : false,
      belowMinDecryption: info ? version < info.minDecryptionVersion : false,
      trimmed: info ? info.minAvailableVersion > 0 && version < info.minAvailableVersion : false,
    };
  });

  const latestCreatedAt = info ? (created.get(info.latestVersion) ?? null) : null;
  const rotation = assessRotation(latestCreatedAt, info?.autoRotatePeriodSeconds ?? 0, policy.maxAgeDays, now);
  const recordsBehind = info ? versions.filter((v) => v.version < info.latestVersion).reduce((s, v) => s + v.records, 0) : null;

  const environments: KeyEnvironmentCount[] = [...envCounts.entries()]
    .map(([environment, n]) => ({ environment, records: n }))
    .sort((a, b) => (a.environment ?? "~").localeCompare(b.environment ?? "~"));
  const knownEnvs = environments.filter((e) => e.environment !== null && e.records > 0).length;

  const flags: KeyFlag[] = [];
  if (info === null && records > 0) flags.push("missing-in-vault");
  if (info) {
    if (versions.some((v) => v.records > 0 && (v.belowMinDecryption || v.trimmed))) flags.push("records-below-min-decryption");
    if (versions.some((v) => v.records > 0 && v.version > info.latestVersion)) flags.push("records-above-latest");
    if (info.exportable) flags.push("exportable");
    if (info.allowPlaintextBackup) flags.push("plaintext-backup");
    if (info.deletionAllowed) flags.push("deletion-allowed");
    if (rotation.status === "overdue") flags.push("overdue");
    if (rotation.status === "due") flags.push("due");
  }
  if (unknownVersion > 0) flags.push("unparsable-records");
  if (knownEnvs > 1) flags.push("multi-environment");

  return {
    name,
    inVault: info === undefined ? null : info !== null,
    vault: info
      ? {
          type: info.type,
          latestVersion: info.latestVersion,
          latestCreatedAt: latestCreatedAt ? latestCreatedAt.toISOString() : null,
          minDecryptionVersion: info.minDecryptionVersion,
          minEncryptionVersion: info.minEncryptionVersion,
          minAvailableVersion: info.minAvailableVersion,
          derived: info.derived,
          exportable: info.exportable,
          allowPlaintextBackup: info.allowPlaintextBackup,
          deletionAllowed: info.deletionAllowed,
          autoRotatePeriodSeconds: info.autoRotatePeriodSeconds,
          supportsEncryption: info.supportsEncryption,
        }
      : null,
    rotation: {
      status: rotation.status,
      ageDays: rotation.ageDays,
      maxAgeDays: policy.maxAgeDays,
      policyDueAt: rotation.policyDueAt ? rotation.policyDueAt.toISOString() : null,
      daysUntilDue: rotation.daysUntilDue,
      autoRotateDueAt: rotation.autoRotateDueAt ? rotation.autoRotateDueAt.toISOString() : null,
      autoRotationMeetsPolicy: rotation.autoRotationMeetsPolicy,
    },
    records,
    recordsBehind,
    recordsUnknownVersion: unknownVersion,
    layouts,
    environments,
    flags,
    versions,
  };
}

/** Census rows of one key with the environment resolved (row column, else the key mapping). */
export function toCensusCells(rows: readonly CensusRow[], policy: KeyPolicy): KeyCensusCell[] {
  const cells = new Map<string, KeyCensusCell>();
  for (const r of rows) {
    const environment = effectiveEnvironment(r.environment, r.keyName, policy.environmentMapping);
    const id = `${r.keyVersion ?? ""}|${environment ?? ""}|${r.layout ?? ""}`;
    const cell = cells.get(id);
    if (cell) cell.records += r.records;
    else cells.set(id, { version: r.keyVersion, environment, layout: r.layout, records: r.records });
  }
  return [...cells.values()].sort(
    (a, b) => (b.version ?? -1) - (a.version ?? -1) || (a.environment ?? "~").localeCompare(b.environment ?? "~") || (a.layout ?? "~").localeCompare(b.layout ?? "~"),
  );
}
