import Link from "next/link";
import { Alert, Button, Group, Stack, Text, Title } from "@mantine/core";
import { can, requireUser } from "@/lib/auth";
import { getInventoryDeps } from "@/lib/inventory/service";
import { loadWalletsView } from "@/lib/inventory/view";
import type { RawParams } from "@/lib/inventory/params";
import { denyUnless } from "@/components/ui/page-guard";
import { WalletFilters } from "@/components/wallets/wallet-filters";
import { WalletsTable } from "@/components/wallets/wallets-table";

export const dynamic = "force-dynamic";

export default async function WalletsPage({ searchParams }: { searchParams: Promise<RawParams> }) {
  const denied = await denyUnless("inventory:read", "Wallets");
  if (denied) return denied;
  const user = await requireUser();
  const { db, ctx } = await getInventoryDeps();
  const v = await loadWalletsView(db, await searchParams, ctx);
  const q = v.query;
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Wallets</Title>
        {can(user.role, "inventory:export") && q ? (
          // A plain link: the route handler authorises, audits and streams the file.
          <Button component="a" href={`/api/wallets/export${v.exportQs ? `?${v.exportQs}` : ""}`} variant="default" size="xs" data-testid="wallets-export">
            Export CSV
          </Button>
        ) : null}
      </Group>
      <WalletFilters
        values={{ ...(q?.filters ?? {}), sort: q?.sort ?? "created", dir: q?.dir ?? "desc", limit: q?.limit ?? 50 }}
        options={v.options}
      />
      {v.error ? (
        <Alert color="orange" title="Cannot show this view" data-testid="wallets-error">
          {v.error} <Link href="/wallets">Reset filters</Link>
        </Alert>
      ) : null}
      {v.vaultUnavailable ? (
        <Alert color="orange" data-testid="vault-unavailable">
          Vault could not be reached: whether records are behind the latest key version is not shown.
        </Alert>
      ) : null}
      {v.page ? <WalletsTable rows={v.page.rows} now={Date.now()} /> : null}
      <Group justify="space-between">
        <Text size="sm" c="dimmed" data-testid="wallets-page-info">
          {v.page ? `${v.page.rows.length} shown${q?.cursor ? " (continued)" : ""}` : ""}
        </Text>
        <Group gap="xs">
          {v.firstQs !== null ? (
            <Link href={`/wallets?${v.firstQs}`} data-testid="wallets-first">
              ⟲ First page
            </Link>
          ) : null}
          {v.nextQs !== null ? (
            <Link href={`/wallets?${v.nextQs}`} data-testid="wallets-next">
              Next page →
            </Link>
          ) : null}
        </Group>
      </Group>
    </Stack>
  );
}
