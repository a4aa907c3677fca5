"use client";

import Link from "next/link";
import { Alert, Anchor, Badge, Card, Group, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { formatAge, formatCount, formatDay, formatPeriod } from "@/lib/keys/format";
import { inventoryHref, keyHref, RISK_LIST_HREF } from "@/lib/keys/links";
import { PLAINTEXT_IN_CACHE_HREF } from "@/lib/overview/links";
import type { OverviewFigures as Figures } from "@/lib/overview/types";
import { fetchJson } from "@/components/keys/fetch-json";
import { KeyFlags, RotationStatusBadge } from "@/components/keys/key-badges";
import { DebtChart } from "./debt-chart";
import { OVERVIEW_REFRESH_MS, overviewQueryKeys } from "./query-keys";
import { TrendChart } from "./trend-chart";

function Figure({
  label,
  value,
  testId,
  hint,
  color,
  href,
}: {
  label: string;
  value: number | null;
  testId: string;
  hint?: string;
  color?: string;
  /** The Wallets list these are (shown as a link while the count is above zero). */
  href?: string;
}) {
  return (
    <Card withBorder padding="lg">
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text size="xl" fw={700} data-testid={testId} c={color && value ? color : undefined}>
        {formatCount(value)}
      </Text>
      {hint ? (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      ) : null}
      {href && value ? (
        <Anchor component={Link} href={href} size="xs" data-testid={`${testId}-link`}>
          Show in Wallets
        </Anchor>
      ) : null}
    </Card>
  );
}

export function OverviewFigures({ initial }: { initial: Figures }) {
  const { data } = useQuery({
    queryKey: overviewQueryKeys.figures(),
    queryFn: () => fetchJson<Figures>("/api/overview"),
    initialData: initial,
    refetchInterval: OVERVIEW_REFRESH_MS,
  });
  const overdue = data.keys.filter((k) => k.status === "overdue" && k.inVault);
  return (
    <Stack>
      {!data.vaultAvailable ? (
        <Alert color="orange" title="Vault unavailable" data-testid="vault-unavailable">
          {data.vaultMessage ?? "Key figures need Vault; database figures are still current."}
        </Alert>
      ) : null}
      {data.risk.plaintextSharesInCache > 0 ? (
        <Alert color="red" title="Plaintext key shares in the WalletProperties cache" data-testid="plaintext-in-cache">
          {formatCount(data.risk.plaintextSharesInCache)} cached WalletProperties carried the wallet&apos;s key shares
          unencrypted (externalServerKeyShares). The console stored none of them.{" "}
          <Anchor component={Link} href={PLAINTEXT_IN_CACHE_HREF}>
            Show in Wallets
          </Anchor>
        </Alert>
      ) : null}
      {data.unknownKeys.length > 0 ? (
        <Alert color="red" title="Records point at keys Vault does not have" data-testid="unknown-keys">
          {data.unknownKeys.join(", ")}
        </Alert>
      ) : null}
      {overdue.length > 0 ? (
        <Alert color="red" title={`Rotation overdue (policy: ${data.maxAgeDays} days)`} data-testid="overdue-keys">
          {overdue.map((k) => `${k.name} (v${k.latestVersion}, ${formatAge(k.ageDays)})`).join(", ")}
        </Alert>
      ) : null}
      {data.multiEnvironmentKeys.length > 0 ? (
        <Alert color="yellow" title="Keys shared by several environments" data-testid="multi-environment-keys">
          {data.multiEnvironmentKeys.join(", ")} — the storage guide asks for one key per environment.
        </Alert>
      ) : null}

      <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
        <Figure label="Wallets" value={data.wallets} testId="figure-wallets" />
        <Figure label="Share records" value={data.shareRecords} testId="figure-share-records" />
        <Figure label="Transit keys" value={data.transitKeys} testId="figure-transit-keys" />
        <Figure
          label="Records behind latest key version"
          value={data.recordsBehindLatest}
          testId="figure-behind-latest"
          hint="Re-wrap moves them to the newest version inside Vault."
        />
      </SimpleGrid>

      <Title order={3}>Wallet risks</Title>
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 3, xl: 5 }}>
        <Figure
          label="Plaintext shares in the cache"
          value={data.risk.plaintextSharesInCache}
          href={PLAINTEXT_IN_CACHE_HREF}
          testId="figure-risk-plaintext-in-cache"
          hint="The backend caches the SDK's WalletProperties with the key shares unencrypted. Fix it and purge those entries."
          color="red.9"
        />
        <Figure
          label="Missing backup info"
          value={data.risk.missingBackupInfo}
          href={RISK_LIST_HREF.missingBackupInfo}
          testId="figure-risk-missing-backup-info"
          hint="The SDK fails with StaleWalletProperties."
          color="red.8"
        />
        <Figure
          label="Cannot sign"
          value={data.risk.cannotSign}
          href={RISK_LIST_HREF.cannotSign}
          testId="figure-risk-cannot-sign"
          hint="No stored share and no backup anywhere."
          color="red.8"
        />
        <Figure
          label="2-of-2 without any backup"
          value={data.risk.twoOfTwoNotBackedUp}
          href={RISK_LIST_HREF.twoOfTwoNotBackedUp}
          testId="figure-risk-two-of-two"
          hint="Losing the server share loses the wallet."
          color="orange.8"
        />
        <Figure
          label="Share records without WalletProperties"
          value={data.risk.sharesWithoutProperties}
          href={RISK_LIST_HREF.sharesWithoutProperties}
          testId="figure-risk-orphan-shares"
          hint="Nothing in the cache describes these wallets."
          color="orange.8"
        />
      </SimpleGrid>

      <Title order={3}>Key rotation</Title>
      <Group gap="xs">
        {(["overdue", "due", "ok", "unknown"] as const).map((s) =>
          data.statusCounts[s] > 0 ? (
            <Badge key={s} variant="light" color={s === "overdue" ? "red" : s === "due" ? "yellow" : s === "ok" ? "green" : "gray"}>
              {data.statusCounts[s]} {s === "due" ? "due soon" : s}
            </Badge>
          ) : null,
        )}
        <Text size="sm" c="dimmed">
          policy maximum age {data.maxAgeDays} days, “due soon” 14 days before
        </Text>
      </Group>
      <Table.ScrollContainer minWidth={900}>
        <Table striped verticalSpacing="xs" data-testid="overview-keys">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Key</Table.Th>
              <Table.Th>Latest</Table.Th>
              <Table.Th>Age</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Policy due</Table.Th>
              <Table.Th>Auto-rotate</Table.Th>
              <Table.Th ta="right">Records</Table.Th>
              <Table.Th ta="right">Behind</Table.Th>
              <Table.Th>Environments</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data.keys.map((k) => (
              <Table.Tr key={k.name} data-testid={`overview-key-${k.name}`}>
                <Table.Td>
                  <Stack gap={2}>
                    <Anchor component={Link} href={keyHref(k.name)}>
                      {k.name}
                    </Anchor>
                    <KeyFlags flags={k.flags} />
                  </Stack>
                </Table.Td>
                <Table.Td>{k.latestVersion === null ? "—" : `v${k.latestVersion}`}</Table.Td>
                <Table.Td>{formatAge(k.ageDays)}</Table.Td>
                <Table.Td>
                  <RotationStatusBadge status={k.status} />
                </Table.Td>
                <Table.Td>{formatDay(k.policyDueAt)}</Table.Td>
                <Table.Td>
                  {k.autoRotatePeriodSeconds === null
                    ? "—"
                    : `${formatPeriod(k.autoRotatePeriodSeconds)}${k.autoRotateDueAt ? ` → ${formatDay(k.autoRotateDueAt)}` : ""}`}
                </Table.Td>
                <Table.Td ta="right">{formatCount(k.records)}</Table.Td>
                <Table.Td ta="right">
                  {k.recordsBehind ? (
                    <Anchor component={Link} href={inventoryHref({ key: k.name, behind: true })}>
                      {formatCount(k.recordsBehind)}
                    </Anchor>
                  ) : (
                    formatCount(k.recordsBehind)
                  )}
                </Table.Td>
                <Table.Td>{k.environments.join(", ") || "—"}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>

      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <Card withBorder>
          <Title order={4} mb="sm">
            Re-encryption debt: records per key version
          </Title>
          <DebtChart bars={data.debt} />
        </Card>
        <Card withBorder>
          <Title order={4} mb="sm">
            Trend: records behind latest (last 30 days)
          </Title>
          <TrendChart points={data.trend} />
        </Card>
      </SimpleGrid>
    </Stack>
  );
}
