import "server-only";
import { recordAuditEvent } from "@/lib/audit";
import { auditActorFor, type SessionUser } from "@/lib/auth";
import type { RequestContext } from "@/lib/auth/request-context";
import type { Db } from "@/lib/db";
import { streamBatches } from "@/lib/http/batch-stream";
import { csvHeader, csvRows } from "./csv";
import type { InventoryQuery } from "./params";
import { iterateInventory, type InventoryContext } from "./queries";

const BATCH = 1000;

/**
 * The CSV export of a Wallets view, streamed: keyset batches of 1,000 rows are fetched as the client reads
 * (pull-based, so a slow client holds back the database instead of filling memory), whatever the size of
 * the inventory. The `inventory.export` audit event (with the filters) is written before the first byte: if
 * it cannot be written, nothing is exported (fail closed). A failure mid-stream is logged and ends the
 * download with an error marker line instead of a silently truncated file.
 */
export async function exportInventoryCsv(
  db: Db,
  q: InventoryQuery,
  ctx: InventoryContext,
  user: SessionUser,
  req: RequestContext,
): Promise<ReadableStream<Uint8Array>> {
  await recordAuditEvent(db, {
    actor: auditActorFor(user, req),
    action: "inventory.export",
    target: { type: "inventory", id: "wallets" },
    requestId: req.requestId,
    details: { format: "csv", filters: { ...q.filters }, sort: q.sort, dir: q.dir },
  });
  return streamBatches({
    batches: iterateInventory(db, { filters: q.filters, sort: q.sort, dir: q.dir }, ctx, BATCH),
    header: csvHeader(),
    encode: csvRows,
    failureLine: "# export failed: the file is incomplete\r\n",
    what: "inventory export",
  });
}
