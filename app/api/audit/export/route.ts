import { route } from "@/lib/http/route";
import { AUDIT_EXPORT_FORMATS, exportAuditTrail, type AuditExportFormat } from "@/lib/audit/export";
import { parseAuditSearchParams } from "@/lib/audit/search-params";
import { getDb } from "@/lib/db";
import { ValidationError } from "@/lib/errors";

export const dynamic = "force-dynamic";

const CONTENT_TYPES: Record<AuditExportFormat, string> = {
  csv: "text/csv; charset=utf-8",
  jsonl: "application/x-ndjson; charset=utf-8",
};

/**
 * The filtered audit trail as CSV or JSONL (`format=csv|jsonl`, the Audit page's filters; cursor and page
 * size ignored), streamed newest first. Authorised first by the route wrapper (a refusal is audited), then
 * `audit.export` is recorded before the first byte. Bad filters: 400 with the message.
 */
export const GET = route({ permission: "audit:export", deniedTarget: { type: "audit_trail", id: null } }, async (req, { actor, request }) => {
  const params = new URL(req.url).searchParams;
  const format = params.get("format") ?? "csv";
  if (!(AUDIT_EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new ValidationError(`format must be one of: ${AUDIT_EXPORT_FORMATS.join(", ")}.`);
  }
  const { filters } = parseAuditSearchParams(params);
  const fmt = format as AuditExportFormat;
  const stream = await exportAuditTrail(await getDb(), filters, fmt, { actor, requestId: request.requestId });
  const stamp = new Date().toISOString().slice(0, 19).replaceAll(":", "");
  return new Response(stream, {
    headers: {
      "Content-Type": CONTENT_TYPES[fmt],
      "Content-Disposition": `attachment; filename="audit-${stamp}Z.${fmt}"`,
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    },
  });
});
