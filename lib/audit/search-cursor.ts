import "server-only";
import { createHash, createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from "node:crypto";
import { z } from "zod";
import { getConfig } from "@/lib/config/env";
import { ValidationError } from "@/lib/errors";

/**
 * Opaque keyset cursors of the Audit page: the (occurred_at, id) of a page's edge row, which way to read from
 * it, and the filters it belongs to, authenticated with an HMAC (the same scheme as the inventory's cursors,
 * under a key of its own). An edited or foreign cursor gets one clear message instead of a confusing page; the
 * schema still bounds what is bound as SQL parameters. The key derives from AUTH_SECRET so links survive
 * restarts and load balancing; without one (tests) a per-process key is used.
 */

export const BAD_AUDIT_CURSOR = "The page link is invalid or belongs to another search. Start again from the first page.";

/** occurred_at at microsecond precision, UTC: exact, so the next page starts exactly after the last row. */
const US_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

const payloadSchema = z.object({
  v: z.literal(1),
  t: z.string().regex(US_ISO),
  i: z.string().regex(/^[1-9]\d{0,17}$/),
  /** "n": older than the position (next page); "p": newer (previous page). */
  d: z.enum(["n", "p"]),
  h: z.string().regex(/^[0-9a-f]{16}$/),
});

export interface AuditCursor {
  occurredAt: string;
  id: string;
  direction: "next" | "prev";
}

let derived: { secret: string | undefined; key: KeyObject } | undefined;
function hmacKey(): KeyObject {
  const secret = getConfig().auth.secret;
  if (derived === undefined || derived.secret !== secret) {
    const raw = secret ? createHash("sha256").update(`keyshare-console/audit-cursor/${secret}`).digest() : randomBytes(32);
    derived = { secret, key: createSecretKey(raw) };
  }
  return derived.key;
}

export function auditCursorView(viewText: string): string {
  return createHash("sha256").update(viewText).digest("hex").slice(0, 16);
}

function tag(body: string): Buffer {
  return createHmac("sha256", hmacKey()).update(body).digest().subarray(0, 12);
}

export function encodeAuditCursor(c: AuditCursor, view: string): string {
  const payload = { v: 1, t: c.occurredAt, i: c.id, d: c.direction === "next" ? "n" : "p", h: view };
  const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
  return `${body}.${tag(body).toString("base64url")}`;
}

export function decodeAuditCursor(cursor: string, view: string): AuditCursor {
  const m = /^([A-Za-z0-9_-]{1,400})\.([A-Za-z0-9_-]{16})$/.exec(cursor);
  if (!m) throw new ValidationError(BAD_AUDIT_CURSOR);
  const [, body, mac] = m as unknown as [string, string, string];
  const expected = tag(body);
  const given = Buffer.from(mac, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new ValidationError(BAD_AUDIT_CURSOR);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    throw new ValidationError(BAD_AUDIT_CURSOR);
  }
  const p = payloadSchema.safeParse(json);
  if (!p.success || p.data.h !== view) throw new ValidationError(BAD_AUDIT_CURSOR);
  return { occurredAt: p.data.t, id: p.data.i, direction: p.data.d === "n" ? "next" : "prev" };
}
