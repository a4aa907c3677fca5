import "server-only";
import type { Db } from "@/lib/db";
import { streamBatches } from "@/lib/http/batch-stream";
import { csvCell } from "@/lib/inventory/csv";
import { iterateAuditEvents } from "./queries";
import type { AuditSearchFilters } from "./search-params";
import type { AuditEventFullDto } from "./types";
import { recordAuditEvent, type AuditActor } from "./writer";

export const AUDIT_EXPORT_FORMATS = ["csv", "jsonl"] as const;
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number];

const BATCH = 1000;

/** Who reads the trail, as its own audit events record them (the caller builds it from the session). */
export interface AuditReader {
  actor: AuditActor;
  requestId: string | null;
}

/** CSV columns (and JSONL keys, in the same order). `details` is the redacted JSON object. */
const COLUMNS: readonly [string, (r: AuditEventFullDto) => unknown][] = [
  ["id", (r) => r.id],
  ["seq", (r) => r.seq],
  ["occurred_at", (r) => r.occurredAt],
  ["actor_type", (r) => r.actorType],
  ["actor_user_id", (r) => r.actorUserId],
  ["actor_email", (r) => r.actorEmail],
  ["actor_role", (r) => r.actorRole],
  ["actor_ip", (r) => r.actorIp],
  ["actor_user_agent", (r) => r.actorUserAgent],
  ["action", (r) => r.action],
  ["target_type", (r) => r.targetType],
  ["target_id", (r) => r.targetId],
  ["outcome", (r) => r.outcome],
  ["reason", (r) => r.reason],
  ["request_id", (r) => r.requestId],
  ["vault_request_id", (r) => r.vaultRequestId],
  ["details", (r) => r.details],
  ["prev_hash", (r) => r.prevHash],
  ["hash", (r) => r.hash],
];

export function auditCsvHeader(): string {
  return COLUMNS.map(([name]) => name).join(",") + "\r\n";
}

/** RFC 4180 rows; formula-looking cells are neutralised by csvCell (CSV injection). */
export function auditCsvRows(rows: readonly AuditEventFullDto[]): string {
  let out = "";
  for (const r of rows) {
    out +=
      COLUMNS.map(([, get]) => {
        const v = get(r);
        return csvCell(v !== null && typeof v === "object" ? JSON.stringify(v) : (v as string | number | null));
      }).join(",") + "\r\n";
  }
  return out;
}

/** One JSON object per line (`\n`); strings are JSON-escaped, so a value never breaks a line. */
export function auditJsonlRows(rows: readonly AuditEventFullDto[]): string {
  let out = "";
  for (const r of rows) out += JSON.stringify(Object.fromEntries(COLUMNS.map(([name, get]) => [name, get(r)]))) + "\n";
  return out;
}

/**
 * The filtered trail, newest first, streamed: keyset batches of 1,000 events are read as the client reads
 * (pull-based: a slow client holds back the database instead of filling memory). The `audit.export` event
 * (with the filters and format) is written before the first byte; if it cannot be written nothing is
 * exported (fail closed). A failure mid-stream is logged and ends the file with a marker line instead of a
 * silently truncated file.
 */
export async function exportAuditTrail(
  db: Db,
  filters: AuditSearchFilters,
  format: AuditExportFormat,
  who: AuditReader,
): Promise<ReadableStream<Uint8Array>> {
  await recordAuditEvent(db, {
    actor: who.actor,
    action: "audit.export",
    target: { type: "audit_trail", id: null },
    requestId: who.requestId,
    details: { format, filters: { ...filters } },
  });
  return streamBatches({
    batches: iterateAuditEvents(db, filters, BATCH),
    header: format === "csv" ? auditCsvHeader() : undefined,
    encode: format === "csv" ? auditCsvRows : auditJsonlRows,
    failureLine: format === "csv" ? "# export failed: the file is incomplete\r\n" : '{"error":"export failed: the file is incomplete"}\n',
    what: "audit export",
  });
}
