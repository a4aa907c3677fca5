import { Stack, Title } from "@mantine/core";
import { getDb } from "@/lib/db";
import { getVaultClient } from "@/lib/vault";
import { getOverviewFigures } from "@/lib/overview/queries";
import { denyUnless } from "@/components/ui/page-guard";
import { OverviewFigures } from "@/components/overview/overview-figures";

export const dynamic = "force-dynamic";

export default async function OverviewPage() {
  const denied = await denyUnless("inventory:read", "Overview");
  if (denied) return denied;
  const figures = await getOverviewFigures(await getDb(), getVaultClient());
  return (
    <Stack>
      <Title order={2}>Overview</Title>
      <OverviewFigures initial={figures} />
    </Stack>
  );
}
