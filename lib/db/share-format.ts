import "server-only";

/**
 * The two layouts of `server_wallet_key_shares.encrypted_key_shares` (DESIGN §1; lib/db/README.md).
 *
 * direct   — the UTF-8 bytes of a Transit ciphertext `vault:vN:<base64>` of the serialized shares.
 *
 * envelope — the UTF-8 bytes of the JSON document (keys in this order, no whitespace):
 *              {"v":1,"wrapped_key":"vault:vN:…","iv":"<b64>","ciphertext":"<b64>","tag":"<b64>"}
 *            wrapped_key: Transit ciphertext of a per-record 256-bit data key (as `transit/datakey` returns,
 *                         or a local random key wrapped with `transit/encrypt` — the same format);
 *            iv:          12 random bytes, fresh per record (standard base64);
 *            ciphertext:  AES-256-GCM of the serialized shares under the data key;
 *            tag:         the 16-byte GCM tag;
 *            AAD:         the UTF-8 wallet_id, so a blob copied to another wallet's row fails to decrypt.
 *            Re-wrap replaces wrapped_key only; iv/ciphertext/tag stay byte-identical.
 *
 * Derived columns (layout, key_version, fingerprint) are computed from these bytes by a database trigger.
 *
 * The console parses records and re-wraps them; it never seals or opens shares. Sealing new envelopes is the
 * demo seeder's job (lib/devstack/seed/envelope.ts).
 */
export const ENVELOPE_VERSION = 1;
const TRANSIT_CIPHERTEXT = /^vault:v([1-9][0-9]*):[A-Za-z0-9+/=]+$/;

export interface Envelope {
  v: 1;
  wrapped_key: string;
  iv: string;
  ciphertext: string;
  tag: string;
}

export interface SealedShares {
  iv: Uint8Array;
  ciphertext: Uint8Array;
  tag: Uint8Array;
}

export function transitKeyVersion(ciphertext: string): number | undefined {
  const m = TRANSIT_CIPHERTEXT.exec(ciphertext);
  return m ? Number(m[1]) : undefined;
}

export function encodeDirect(transitCiphertext: string): Buffer {
  if (transitKeyVersion(transitCiphertext) === undefined) throw new Error("not a Transit ciphertext");
  return Buffer.from(transitCiphertext, "utf8");
}

/** The stored bytes of an envelope: its fields in the documented order, no whitespace. */
export function serializeEnvelope(envelope: Envelope): Buffer {
  if (transitKeyVersion(envelope.wrapped_key) === undefined) throw new Error("wrapped key is not a Transit ciphertext");
  const doc: Envelope = {
    v: ENVELOPE_VERSION,
    wrapped_key: envelope.wrapped_key,
    iv: envelope.iv,
    ciphertext: envelope.ciphertext,
    tag: envelope.tag,
  };
  return Buffer.from(JSON.stringify(doc), "utf8");
}

export type ParsedShareRecord =
  | { layout: "direct"; transitCiphertext: string; keyVersion: number }
  | { layout: "envelope"; envelope: Envelope; sealed: SealedShares; keyVersion: number };

/** Parses stored bytes; undefined for anything that is neither layout. */
export function parseShareRecord(bytes: Uint8Array): ParsedShareRecord | undefined {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  if (text.startsWith("vault:v")) {
    const keyVersion = transitKeyVersion(text);
    return keyVersion === undefined ? undefined : { layout: "direct", transitCiphertext: text, keyVersion };
  }
  if (!text.startsWith("{")) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof doc !== "object" || doc === null) return undefined;
  const d = doc as Record<string, unknown>;
  if (d.v !== ENVELOPE_VERSION || typeof d.wrapped_key !== "string" || typeof d.iv !== "string" || typeof d.ciphertext !== "string" || typeof d.tag !== "string") {
    return undefined;
  }
  const keyVersion = transitKeyVersion(d.wrapped_key);
  if (keyVersion === undefined) return undefined;
  const envelope: Envelope = { v: 1, wrapped_key: d.wrapped_key, iv: d.iv, ciphertext: d.ciphertext, tag: d.tag };
  return {
    layout: "envelope",
    envelope,
    keyVersion,
    sealed: {
      iv: Buffer.from(d.iv, "base64"),
      ciphertext: Buffer.from(d.ciphertext, "base64"),
      tag: Buffer.from(d.tag, "base64"),
    },
  };
}

/**
 * What Transit `rewrap` must be given for a stored record (the direct ciphertext, or the envelope's wrapped
 * key), and how to build the new stored bytes from its answer. Re-wrap never sees plaintext.
 */
export function rewrapTarget(bytes: Uint8Array): { transitCiphertext: string; replace(newCiphertext: string): Buffer } | undefined {
  const parsed = parseShareRecord(bytes);
  if (!parsed) return undefined;
  if (parsed.layout === "direct") {
    return { transitCiphertext: parsed.transitCiphertext, replace: (c) => encodeDirect(c) };
  }
  return {
    transitCiphertext: parsed.envelope.wrapped_key,
    replace: (c) => {
      if (transitKeyVersion(c) === undefined) throw new Error("not a Transit ciphertext");
      return serializeEnvelope({ ...parsed.envelope, wrapped_key: c });
    },
  };
}
