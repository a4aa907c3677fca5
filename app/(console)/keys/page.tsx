import { Stack, Title } from "@mantine/core";
import { getDb } from "@/lib/db";
import { getVaultClient } from "@/lib/vault";
import { listKeySummaries } from "@/lib/keys/queries";
import { denyUnless } from "@/components/ui/page-guard";
import { KeysTable } from "@/components/keys/keys-table";

export const dynamic = "force-dynamic";

export default async function KeysPage() {
  const denied = await denyUnless("keys:read", "Keys");
  if (denied) return denied;
  const list = await listKeySummaries(await getDb(), getVaultClient());
  return (
    <Stack>
      <Title order={2}>Keys</Title>
      <KeysTable initial={list} />
    </Stack>
  );
}
