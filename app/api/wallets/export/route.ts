import { randomUUID } from "node:crypto";
import { NextResponse } from "next/server";
import { requirePermission } from "@/lib/auth";
import { getRequestContext } from "@/lib/auth/request-context";
import { toPublicError } from "@/lib/errors";
import { exportInventoryCsv } from "@/lib/inventory/export";
import { parseInventoryParams } from "@/lib/inventory/params";
import { getInventoryDeps } from "@/lib/inventory/service";
import { logger } from "@/lib/log";

export const dynamic = "force-dynamic";

/** CSV of a Wallets view (same URL parameters as the page, cursor and page size ignored), streamed. */
export async function GET(req: Request): Promise<Response> {
  try {
    const user = await requirePermission("inventory:export", { type: "inventory", id: "wallets" });
    const q = parseInventoryParams(new URL(req.url).searchParams);
    const { db, ctx } = await getInventoryDeps();
    const stream = await exportInventoryCsv(db, { ...q, cursor: undefined }, ctx, user, await getRequestContext());
    const stamp = new Date().toISOString().slice(0, 19).replaceAll(":", "");
    return new Response(stream, {
      headers: {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": `attachment; filename="wallets-${stamp}Z.csv"`,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
      },
    });
  } catch (err) {
    const pub = toPublicError(err);
    const errorId = randomUUID();
    if (pub.status >= 500) logger.error({ errorId, err }, "wallet export failed");
    return NextResponse.json({ error: pub.message, ...(pub.status >= 500 ? { errorId } : {}) }, { status: pub.status, headers: { "Cache-Control": "no-store" } });
  }
}
