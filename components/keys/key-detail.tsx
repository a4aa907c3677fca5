"use client";

import Link from "next/link";
import { Alert, Anchor, Badge, Card, Group, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { formatAge, formatCount, formatDay, formatPeriod } from "@/lib/keys/format";
import { inventoryHref, keyHref } from "@/lib/keys/links";
import type { KeyDetailDto, KeyVersionDto } from "@/lib/keys/types";
import { fetchJson } from "./fetch-json";
import { KeyFlags, RotationStatusBadge } from "./key-badges";
import { VaultDownBanner } from "./keys-table";
import { KEYS_REFRESH_MS, keysQueryKeys } from "./query-keys";

function Fact({ label, children, testId }: { label: string; children: React.ReactNode; testId?: string }) {
  return (
    <Card withBorder padding="sm">
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text fw={600} data-testid={testId} component="div">
        {children}
      </Text>
    </Card>
  );
}

function versionState(v: KeyVersionDto) {
  if (v.trimmed) return <Badge color="red" size="sm">trimmed</Badge>;
  if (v.belowMinDecryption) return <Badge color="red" size="sm">below min decryption</Badge>;
  if (v.isLatest) return <Badge color="green" size="sm">latest</Badge>;
  return <Badge color="gray" size="sm" variant="light">old</Badge>;
}

/** `auditHref`: the key's events in the Audit page, for roles that may read the trail (null otherwise). */
export function KeyDetail({ initial, auditHref = null }: { initial: KeyDetailDto; auditHref?: string | null }) {
  const name = initial.key.name;
  const { data } = useQuery({
    queryKey: keysQueryKeys.detail(name),
    queryFn: () => fetchJson<KeyDetailDto>(`/api/keys/${encodeURIComponent(name)}`),
    initialData: initial,
    refetchInterval: KEYS_REFRESH_MS,
  });
  const k = data.key;
  const latest = k.vault?.latestVersion;
  const versions = [...k.versions].reverse();
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2} data-testid="key-name">
          {k.name}
        </Title>
        <Group gap="md">
          {auditHref ? (
            <Anchor component={Link} href={auditHref} prefetch={false} data-testid="key-audit-link">
              Audit events
            </Anchor>
          ) : null}
          <Anchor component={Link} href="/keys">
            All keys
          </Anchor>
        </Group>
      </Group>
      {!data.vault.available ? <VaultDownBanner message={data.vault.message} /> : null}
      {k.inVault === false ? (
        <Alert color="red" title="Vault does not have this key" data-testid="missing-in-vault">
          {formatCount(k.records)} share records name this key, but Vault has no Transit key by that name. They cannot be
          decrypted or re-wrapped until the key is restored.
        </Alert>
      ) : null}
      <KeyFlags flags={k.flags} />
      <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }}>
        <Fact label="Rotation">
          <RotationStatusBadge status={k.rotation.status} />
        </Fact>
        <Fact label="Latest version" testId="key-latest-version">
          {latest !== undefined ? `v${latest}, ${formatAge(k.rotation.ageDays)}` : "—"}
        </Fact>
        <Fact label={`Policy due (max ${k.rotation.maxAgeDays} days)`}>{formatDay(k.rotation.policyDueAt)}</Fact>
        <Fact label="Auto-rotate">
          {k.vault ? `${formatPeriod(k.vault.autoRotatePeriodSeconds)}${k.rotation.autoRotateDueAt ? `, next ${formatDay(k.rotation.autoRotateDueAt)}` : ""}` : "—"}
        </Fact>
        <Fact label="Records" testId="key-records">
          {formatCount(k.records)}
        </Fact>
        <Fact label="Behind latest" testId="key-behind">
          {k.recordsBehind && k.recordsBehind > 0 ? (
            <Anchor component={Link} href={inventoryHref({ key: k.name, behind: true })}>
              {formatCount(k.recordsBehind)}
            </Anchor>
          ) : (
            formatCount(k.recordsBehind)
          )}
        </Fact>
        <Fact label="Min decryption / encryption">{k.vault ? `${k.vault.minDecryptionVersion} / ${k.vault.minEncryptionVersion}` : "—"}</Fact>
        <Fact label="Type">{k.vault?.type ?? "—"}</Fact>
        <Fact label="Derived">{k.vault ? (k.vault.derived ? "yes" : "no") : "—"}</Fact>
        <Fact label="Exportable">{k.vault ? (k.vault.exportable ? "yes (risk)" : "no") : "—"}</Fact>
        <Fact label="Deletion allowed">{k.vault ? (k.vault.deletionAllowed ? "yes (risk)" : "no") : "—"}</Fact>
        <Fact label="Layouts">
          {`direct ${formatCount(k.layouts.direct)} · envelope ${formatCount(k.layouts.envelope)}${k.layouts.unknown ? ` · unknown ${formatCount(k.layouts.unknown)}` : ""}`}
        </Fact>
      </SimpleGrid>

      <Title order={3}>Versions</Title>
      <Table striped verticalSpacing="xs" data-testid="version-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Version</Table.Th>
            <Table.Th>State</Table.Th>
            <Table.Th>Created</Table.Th>
            <Table.Th>Age</Table.Th>
            <Table.Th ta="right">Records</Table.Th>
            <Table.Th>Wallets still on it</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {versions.map((v) => (
            <Table.Tr key={v.version} data-testid={`version-row-${v.version}`}>
              <Table.Td>v{v.version}</Table.Td>
              <Table.Td>{versionState(v)}</Table.Td>
              <Table.Td>{formatDay(v.createdAt)}</Table.Td>
              <Table.Td>{formatAge(v.ageDays)}</Table.Td>
              <Table.Td ta="right" data-testid="version-records">
                {formatCount(v.records)}
              </Table.Td>
              <Table.Td>
                {v.records > 0 ? (
                  <Anchor component={Link} href={inventoryHref({ key: k.name, version: v.version })} data-testid="version-inventory-link">
                    {v.isLatest ? "view wallets" : `view ${formatCount(v.records)} wallets to re-wrap`}
                  </Anchor>
                ) : (
                  <Text size="sm" c="dimmed">
                    none
                  </Text>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
          {k.recordsUnknownVersion > 0 ? (
            <Table.Tr>
              <Table.Td>?</Table.Td>
              <Table.Td>
                <Badge color="orange" size="sm">
                  unparsable
                </Badge>
              </Table.Td>
              <Table.Td>—</Table.Td>
              <Table.Td>—</Table.Td>
              <Table.Td ta="right">{formatCount(k.recordsUnknownVersion)}</Table.Td>
              <Table.Td />
            </Table.Tr>
          ) : null}
        </Table.Tbody>
      </Table>

      <Title order={3}>Records by version, environment and layout</Title>
      <Table verticalSpacing={4} data-testid="census-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Version</Table.Th>
            <Table.Th>Environment</Table.Th>
            <Table.Th>Layout</Table.Th>
            <Table.Th ta="right">Records</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {data.census.map((c) => (
            <Table.Tr key={`${c.version ?? "?"}|${c.environment ?? ""}|${c.layout ?? ""}`}>
              <Table.Td>{c.version === null ? "?" : `v${c.version}`}</Table.Td>
              <Table.Td>{c.environment ?? <Text c="dimmed">unmapped</Text>}</Table.Td>
              <Table.Td>{c.layout ?? "unknown"}</Table.Td>
              <Table.Td ta="right">{formatCount(c.records)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Text size="xs" c="dimmed">
        Figures as of {data.generatedAt.slice(0, 19).replace("T", " ")} UTC · <Anchor component={Link} href={keyHref(k.name)} size="xs">permalink</Anchor>
      </Text>
    </Stack>
  );
}
