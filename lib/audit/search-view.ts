import "server-only";
import type { DbOrTx } from "@/lib/db/client";
import { DomainError } from "@/lib/errors";
import type { AuditReader } from "./export";
import { getAuditEvent, listAuditEvents } from "./queries";
import { auditSearchToParams, parseAuditEventId, parseAuditSearchParams, type AuditSearchQuery, type RawParams } from "./search-params";
import type { AuditEventDetailDto, AuditPageDto } from "./types";
import { recordAuditEvent } from "./writer";

/**
 * What the Audit pages render, from their URL. Expected problems (bad filters, a forged or foreign cursor, an
 * unknown event) come back as `error` with a message for the user; the filters still render so the user can
 * fix them. Anything else throws (logged, generic error page).
 *
 * Reading the trail is itself audited, once per request: `audit.search` for a result page (with the filters,
 * not the rows), `audit.view` for an event page. The event is written after the read succeeded, so a result
 * page never lists its own search; if it cannot be written the page is not shown (fail closed).
 */

export interface AuditSearchView {
  query: AuditSearchQuery | null;
  page: AuditPageDto | null;
  error: string | null;
  /** Query strings (without "?") for the neighbouring pages, the first page and the export. */
  nextQs: string | null;
  prevQs: string | null;
  firstQs: string | null;
  exportQs: string;
}

export async function loadAuditSearchView(db: DbOrTx, raw: RawParams, who: AuditReader): Promise<AuditSearchView> {
  let query: AuditSearchQuery | null = null;
  let page: AuditPageDto | null = null;
  let error: string | null = null;
  try {
    query = parseAuditSearchParams(raw);
    page = await listAuditEvents(db, query.filters, { cursor: query.cursor, limit: query.limit });
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    error = err.message;
  }
  if (query && page) {
    await recordAuditEvent(db, {
      actor: who.actor,
      action: "audit.search",
      target: { type: "audit_trail", id: null },
      requestId: who.requestId,
      details: { filters: { ...query.filters }, continued: query.cursor !== undefined, limit: query.limit, rows: page.rows.length },
    });
  }
  const base = query ? { filters: query.filters, limit: query.limit } : null;
  return {
    query,
    page,
    error,
    nextQs: base && page?.nextCursor ? auditSearchToParams({ ...base, cursor: page.nextCursor }).toString() : null,
    prevQs: base && page?.prevCursor ? auditSearchToParams({ ...base, cursor: page.prevCursor }).toString() : null,
    firstQs: base && query?.cursor ? auditSearchToParams(base).toString() : null,
    exportQs: base ? auditSearchToParams({ filters: base.filters }).toString() : "",
  };
}

export interface AuditEventView {
  detail: AuditEventDetailDto | null;
  error: string | null;
}

export async function loadAuditEventView(db: DbOrTx, rawId: string, who: AuditReader): Promise<AuditEventView> {
  let detail: AuditEventDetailDto | null = null;
  try {
    detail = await getAuditEvent(db, parseAuditEventId(rawId));
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    return { detail: null, error: err.message };
  }
  await recordAuditEvent(db, {
    actor: who.actor,
    action: "audit.view",
    target: { type: "audit_event", id: detail.event.id },
    requestId: who.requestId,
    details: { seq: detail.event.seq },
  });
  return { detail, error: null };
}
