import { getInventoryDeps } from "@/lib/inventory/service";
import { getWalletDetail } from "@/lib/inventory/queries";
import { parseWalletId } from "@/lib/inventory/params";
import { jsonRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const GET = jsonRoute("inventory:read", async (_req, user, ctx: { params: Promise<{ walletId: string }> }) => {
  const walletId = parseWalletId((await ctx.params).walletId);
  const { db, ctx: inv } = await getInventoryDeps();
  return getWalletDetail(db, walletId, inv, user);
});
