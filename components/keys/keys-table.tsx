"use client";

import Link from "next/link";
import { Alert, Anchor, Badge, Group, Stack, Table, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { formatAge, formatCount, formatDay, formatPeriod } from "@/lib/keys/format";
import { inventoryHref, keyHref } from "@/lib/keys/links";
import type { KeyListDto, KeySummaryDto } from "@/lib/keys/types";
import { fetchJson } from "./fetch-json";
import { KeyFlags, RotationStatusBadge } from "./key-badges";
import { KEYS_REFRESH_MS, keysQueryKeys } from "./query-keys";

export function VaultDownBanner({ message }: { message?: string }) {
  return (
    <Alert color="orange" title="Vault unavailable" data-testid="vault-unavailable">
      {message ?? "Vault could not be reached; key versions and ages are not shown. Record counts are current."}
    </Alert>
  );
}

function yesNo(v: boolean | undefined, risky = false) {
  if (v === undefined) return <Text c="dimmed">—</Text>;
  return v ? (
    <Text c={risky ? "orange.8" : undefined} fw={risky ? 600 : undefined}>
      yes
    </Text>
  ) : (
    <Text c="dimmed">no</Text>
  );
}

function Versions({ k }: { k: KeySummaryDto }) {
  const shown = [...k.versions].reverse();
  return (
    <Stack gap={0} data-testid="key-versions">
      {shown.map((v) => (
        <Text key={v.version} size="xs" c={v.belowMinDecryption || v.trimmed ? "red.8" : undefined} data-testid="key-version">
          v{v.version}
          {v.isLatest ? " (latest)" : ""} · {v.createdAt ? `${formatDay(v.createdAt)}, ${formatAge(v.ageDays)}` : "created —"} ·{" "}
          {v.records > 0 ? (
            <Anchor component={Link} href={inventoryHref({ key: k.name, version: v.version })} size="xs">
              {formatCount(v.records)} records
            </Anchor>
          ) : (
            "0 records"
          )}
        </Text>
      ))}
      {k.recordsUnknownVersion > 0 ? (
        <Text size="xs" c="orange.8">
          unknown version · {formatCount(k.recordsUnknownVersion)} records
        </Text>
      ) : null}
    </Stack>
  );
}

export function KeysTable({ initial }: { initial: KeyListDto }) {
  const { data, error } = useQuery({
    queryKey: keysQueryKeys.list(),
    queryFn: () => fetchJson<KeyListDto>("/api/keys"),
    initialData: initial,
    refetchInterval: KEYS_REFRESH_MS,
  });
  const missing = data.keys.filter((k) => k.inVault === false && k.records > 0);
  return (
    <Stack>
      {!data.vault.available ? <VaultDownBanner message={data.vault.message} /> : null}
      {error ? (
        <Alert color="gray" title="Refresh failed">
          Showing figures from {formatDay(data.generatedAt)}; {error.message}
        </Alert>
      ) : null}
      {missing.length > 0 ? (
        <Alert color="red" title="Records point at keys Vault does not have" data-testid="unknown-keys">
          {missing.map((k) => `${k.name} (${formatCount(k.records)} records)`).join(", ")}
        </Alert>
      ) : null}
      <Text size="sm" c="dimmed">
        Policy maximum age {data.maxAgeDays} days; “due soon” 14 days before. Records per version come from maintained counters.
      </Text>
      <Table.ScrollContainer minWidth={1100}>
        <Table striped highlightOnHover verticalSpacing="xs" data-testid="keys-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Key</Table.Th>
              <Table.Th>Rotation</Table.Th>
              <Table.Th>Versions (created, age, records)</Table.Th>
              <Table.Th ta="right">Records</Table.Th>
              <Table.Th ta="right">Behind latest</Table.Th>
              <Table.Th>Min decrypt / encrypt</Table.Th>
              <Table.Th>Auto-rotate</Table.Th>
              <Table.Th>Derived</Table.Th>
              <Table.Th>Exportable</Table.Th>
              <Table.Th>Deletion allowed</Table.Th>
              <Table.Th>Environments</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data.keys.map((k) => (
              <Table.Tr key={k.name} data-testid={`key-row-${k.name}`}>
                <Table.Td>
                  <Stack gap={4}>
                    <Anchor component={Link} href={keyHref(k.name)} fw={600} data-testid="key-link">
                      {k.name}
                    </Anchor>
                    {k.vault ? (
                      <Text size="xs" c="dimmed">
                        {k.vault.type}
                      </Text>
                    ) : null}
                    <KeyFlags flags={k.flags} />
                  </Stack>
                </Table.Td>
                <Table.Td>
                  <Stack gap={2}>
                    <RotationStatusBadge status={k.rotation.status} />
                    {k.vault ? (
                      <Text size="xs">
                        v{k.vault.latestVersion}, {formatAge(k.rotation.ageDays)}
                      </Text>
                    ) : null}
                    {k.rotation.policyDueAt ? (
                      <Text size="xs" c="dimmed">
                        due {formatDay(k.rotation.policyDueAt)}
                      </Text>
                    ) : null}
                  </Stack>
                </Table.Td>
                <Table.Td>
                  <Versions k={k} />
                </Table.Td>
                <Table.Td ta="right">{formatCount(k.records)}</Table.Td>
                <Table.Td ta="right">
                  {k.recordsBehind && k.recordsBehind > 0 ? (
                    <Anchor component={Link} href={inventoryHref({ key: k.name, behind: true })}>
                      {formatCount(k.recordsBehind)}
                    </Anchor>
                  ) : (
                    formatCount(k.recordsBehind)
                  )}
                </Table.Td>
                <Table.Td>{k.vault ? `${k.vault.minDecryptionVersion} / ${k.vault.minEncryptionVersion}` : "—"}</Table.Td>
                <Table.Td>
                  {k.vault ? (
                    <Stack gap={0}>
                      <Text size="sm">{formatPeriod(k.vault.autoRotatePeriodSeconds)}</Text>
                      {k.rotation.autoRotateDueAt ? (
                        <Text size="xs" c="dimmed">
                          next {formatDay(k.rotation.autoRotateDueAt)}
                        </Text>
                      ) : null}
                    </Stack>
                  ) : (
                    "—"
                  )}
                </Table.Td>
                <Table.Td>{yesNo(k.vault?.derived)}</Table.Td>
                <Table.Td>{yesNo(k.vault?.exportable, true)}</Table.Td>
                <Table.Td>{yesNo(k.vault?.deletionAllowed, true)}</Table.Td>
                <Table.Td>
                  <Group gap={4}>
                    {k.environments.map((e) => (
                      <Badge key={e.environment ?? "unknown"} variant="light" color={e.environment ? "blue" : "gray"} size="sm">
                        {e.environment ?? "unmapped"} {formatCount(e.records)}
                      </Badge>
                    ))}
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {data.keys.length === 0 ? <Text c="dimmed">No Transit keys and no share records yet.</Text> : null}
    </Stack>
  );
}
