import { exportInventoryCsv } from "@/lib/inventory/export";
import { parseInventoryParams } from "@/lib/inventory/params";
import { getInventoryDeps } from "@/lib/inventory/service";
import { route } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** CSV of a Wallets view (same URL parameters as the page, cursor and page size ignored), streamed. */
export const GET = route({ permission: "inventory:export", deniedTarget: { type: "inventory", id: "wallets" } }, async (req, { user, request }) => {
  const q = parseInventoryParams(new URL(req.url).searchParams);
  const { db, ctx } = await getInventoryDeps();
  const stream = await exportInventoryCsv(db, { ...q, cursor: undefined }, ctx, user, request);
  const stamp = new Date().toISOString().slice(0, 19).replaceAll(":", "");
  return new Response(stream, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="wallets-${stamp}Z.csv"`,
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    },
  });
});
