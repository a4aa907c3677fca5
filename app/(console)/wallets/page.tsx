import { denyUnless } from "@/components/ui/page-guard";
import { NotBuiltYet } from "@/components/ui/not-built-yet";

export default async function WalletsPage() {
  const denied = await denyUnless("inventory:read", "Wallets");
  if (denied) return denied;
  return <NotBuiltYet title="Wallets" what="The wallet inventory (search, filters, keyset pagination, CSV export) comes with the inventory issue." />;
}
