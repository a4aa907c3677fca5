import { getInventoryDeps } from "@/lib/inventory/service";
import { listInventory } from "@/lib/inventory/queries";
import { parseInventoryParams } from "@/lib/inventory/params";
import { jsonRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** One keyset page of the Wallets list as JSON (same URL parameters as the page). */
export const GET = jsonRoute("inventory:read", async (req) => {
  const q = parseInventoryParams(new URL(req.url).searchParams);
  const { db, ctx } = await getInventoryDeps();
  return listInventory(db, q, ctx);
});
