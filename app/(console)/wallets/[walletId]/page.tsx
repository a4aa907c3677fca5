import Link from "next/link";
import { Alert, Stack, Title } from "@mantine/core";
import { requireUser } from "@/lib/auth";
import { DomainError } from "@/lib/errors";
import { parseWalletId } from "@/lib/inventory/params";
import { getWalletDetail } from "@/lib/inventory/queries";
import { getInventoryDeps } from "@/lib/inventory/service";
import type { WalletDetailDto } from "@/lib/inventory/types";
import { denyUnless } from "@/components/ui/page-guard";
import { WalletDetail } from "@/components/wallets/wallet-detail";

export const dynamic = "force-dynamic";

export default async function WalletDetailPage({ params }: { params: Promise<{ walletId: string }> }) {
  const denied = await denyUnless("inventory:read", "Wallet");
  if (denied) return denied;
  const user = await requireUser();
  const { walletId } = await params;
  let detail: WalletDetailDto | null = null;
  let error: string | null = null;
  try {
    const id = parseWalletId(walletId);
    const { db, ctx } = await getInventoryDeps();
    detail = await getWalletDetail(db, id, ctx, user);
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    error = err.message;
  }
  if (!detail) {
    return (
      <Stack>
        <Title order={2}>Wallet</Title>
        <Alert color="orange" title="Not shown" data-testid="wallet-not-found">
          {error} <Link href="/wallets">Back to all wallets</Link>
        </Alert>
      </Stack>
    );
  }
  return <WalletDetail d={detail} />;
}
