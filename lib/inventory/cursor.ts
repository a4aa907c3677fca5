import "server-only";
import { createHash, createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from "node:crypto";
import { z } from "zod";
import { getConfig } from "@/lib/config/env";
import { ValidationError } from "@/lib/errors";

/**
 * Opaque keyset cursors: the sort key (bigint microseconds, as a decimal string) and id of the last row of a
 * page, bound to the view it came from (filters, sort, direction) and authenticated with an HMAC.
 *
 * A cursor is only a position, not a capability — a forged one could at worst start a page elsewhere in a
 * view the user may already read — but it is user input: the HMAC turns any edit into one clear message
 * instead of a confusing page, and the zod schema still bounds what gets bound as SQL parameters.
 * The key derives from AUTH_SECRET (shared by every instance, so links survive restarts and load balancing);
 * without one (tests) a per-process key is used.
 */

const BAD_CURSOR = "The page link is invalid or belongs to another view. Start again from the first page.";

const payloadSchema = z.object({
  v: z.literal(1),
  /** Sort key: signed 64-bit integer as decimal text. */
  k: z.string().regex(/^-?\d{1,19}$/),
  // Any 8-4-4-4-12 hex id: backends choose their own ids (not necessarily RFC 4122 versions).
  i: z.guid(),
  /** View fingerprint. */
  h: z.string().regex(/^[0-9a-f]{16}$/),
});

export interface CursorPosition {
  key: bigint;
  id: string;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The derived key, computed once per secret (the config is read once per process). */
let derived: { secret: string | undefined; key: KeyObject } | undefined;
function hmacKey(): KeyObject {
  const secret = getConfig().auth.secret;
  if (derived === undefined || derived.secret !== secret) {
    const raw = secret ? createHash("sha256").update(`keyshare-console/inventory-cursor/${secret}`).digest() : randomBytes(32);
    derived = { secret, key: createSecretKey(raw) };
  }
  return derived.key;
}

/**
 * The view a cursor belongs to, as it is stored in the cursor: a short hash of the view's canonical text
 * (`viewFingerprintText`). Computed once per request and used both to check the incoming cursor and to sign
 * the next one.
 */
export function cursorView(viewText: string): string {
  return createHash("sha256").update(viewText).digest("hex").slice(0, 16);
}

function tag(body: string): Buffer {
  return createHmac("sha256", hmacKey()).update(body).digest().subarray(0, 12);
}

export function encodeCursor(pos: CursorPosition, view: string): string {
  const body = Buffer.from(JSON.stringify({ v: 1, k: pos.key.toString(), i: pos.id, h: view })).toString("base64url");
  return `${body}.${tag(body).toString("base64url")}`;
}

export function decodeCursor(cursor: string, view: string): CursorPosition {
  const m = /^([A-Za-z0-9_-]{1,400})\.([A-Za-z0-9_-]{16})$/.exec(cursor);
  if (!m) throw new ValidationError(BAD_CURSOR);
  const [, body, mac] = m as unknown as [string, string, string];
  const expected = tag(body);
  const given = Buffer.from(mac, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new ValidationError(BAD_CURSOR);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    throw new ValidationError(BAD_CURSOR);
  }
  const p = payloadSchema.safeParse(json);
  if (!p.success || p.data.h !== view) throw new ValidationError(BAD_CURSOR);
  const key = BigInt(p.data.k);
  if (key < INT64_MIN || key > INT64_MAX) throw new ValidationError(BAD_CURSOR);
  return { key, id: p.data.i.toLowerCase() };
}
