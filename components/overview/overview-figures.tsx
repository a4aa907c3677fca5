"use client";

import { Alert, Card, SimpleGrid, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import type { OverviewFigures as Figures } from "@/lib/overview/types";

export const overviewKeys = { all: ["overview"] as const };

async function fetchOverview(): Promise<Figures> {
  const res = await fetch("/api/overview", { cache: "no-store" });
  if (!res.ok) throw new Error(`overview: ${res.status}`);
  return (await res.json()) as Figures;
}

function Figure({ label, value, testId, hint }: { label: string; value: number | null; testId: string; hint?: string }) {
  return (
    <Card withBorder padding="lg">
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text size="xl" fw={700} data-testid={testId}>
        {value === null ? "—" : value.toLocaleString("en-US")}
      </Text>
      {hint ? (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      ) : null}
    </Card>
  );
}

export function OverviewFigures({ initial }: { initial: Figures }) {
  const { data } = useQuery({
    queryKey: overviewKeys.all,
    queryFn: fetchOverview,
    initialData: initial,
    refetchInterval: 15_000,
  });
  return (
    <>
      {!data.vaultAvailable ? (
        <Alert color="orange" title="Vault unavailable" data-testid="vault-unavailable">
          Key figures need Vault; database figures are still current.
        </Alert>
      ) : null}
      {data.unknownKeys.length > 0 ? (
        <Alert color="red" title="Records point at keys Vault does not have" data-testid="unknown-keys">
          {data.unknownKeys.join(", ")}
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
    </>
  );
}
