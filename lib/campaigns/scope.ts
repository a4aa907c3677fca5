import "server-only";
import { sql, type SQL } from "drizzle-orm";

/**
 * The records a campaign works on, as SQL over `server_wallet_key_shares s`: one key, parsed version in
 * [1, target), optionally only some source versions and one environment. Records the trigger could not parse
 * (key_version NULL) are never sent to Vault: they are flagged by the inventory instead.
 *
 * Environment: the row's own column when a backend fills it, else the key name → environment mapping. For
 * one key the mapping is a constant, so the condition is known before the query runs.
 */
export interface CampaignScope {
  keyName: string;
  targetVersion: number;
  scopeVersions: number[] | null;
  scopeEnvironment: string | null;
}

export function environmentCondition(scope: CampaignScope, mapping: Record<string, string>, column: SQL): SQL {
  if (scope.scopeEnvironment === null) return sql`true`;
  const mappedHere = mapping[scope.keyName] === scope.scopeEnvironment;
  return mappedHere
    ? sql`(${column} = ${scope.scopeEnvironment} or ${column} is null)`
    : sql`${column} = ${scope.scopeEnvironment}`;
}

export function versionCondition(scope: CampaignScope, column: SQL): SQL {
  const below = sql`${column} >= 1 and ${column} < ${scope.targetVersion}`;
  if (!scope.scopeVersions || scope.scopeVersions.length === 0) return below;
  // A literal list (validated integers) rather than an array parameter: the same text on both drivers.
  const list = sql.join(
    scope.scopeVersions.map((v) => sql`${v}::int`),
    sql`, `,
  );
  return sql`${below} and ${column} in (${list})`;
}

/** WHERE condition over `server_wallet_key_shares s` (alias s). */
export function shareScopeCondition(scope: CampaignScope, mapping: Record<string, string>): SQL {
  return sql`s.encryption_key_id = ${scope.keyName} and ${versionCondition(scope, sql`s.key_version`)} and ${environmentCondition(scope, mapping, sql`s.environment`)}`;
}

/**
 * The census counters hold the same figures without a scan (statement triggers keep them exact); environment
 * '' there means the row has no column value.
 */
export function censusScopeCondition(scope: CampaignScope, mapping: Record<string, string>): SQL {
  const env =
    scope.scopeEnvironment === null
      ? sql`true`
      : mapping[scope.keyName] === scope.scopeEnvironment
        ? sql`(c.environment = ${scope.scopeEnvironment} or c.environment = '')`
        : sql`c.environment = ${scope.scopeEnvironment}`;
  return sql`c.encryption_key_id = ${scope.keyName} and ${versionCondition(scope, sql`c.key_version`)} and ${env}`;
}
