import "server-only";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { ENVELOPE_VERSION, serializeEnvelope, transitKeyVersion, type SealedShares } from "@/lib/db/share-format";

/**
 * Sealing share records in the envelope layout (lib/db/share-format.ts documents it), as a wallet backend
 * does. DEV/TEST ONLY: the demo seeder and the leak-test markers write envelopes with it, and tests open them.
 * The console itself never encrypts or decrypts shares, so none of this is part of production code.
 */

/** AES-256-GCM of the shares under a data key, fresh IV, wallet id as AAD. */
export function sealShares(plaintext: Uint8Array, dataKey: Uint8Array, walletId: string): SealedShares {
  if (dataKey.byteLength !== 32) throw new Error("data key must be 256 bits");
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", dataKey, iv);
  cipher.setAAD(Buffer.from(walletId, "utf8"));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, ciphertext, tag: cipher.getAuthTag() };
}

/** The inverse of sealShares, for tests that prove stored envelopes hold what they claim. */
export function openShares(sealed: SealedShares, dataKey: Uint8Array, walletId: string): Buffer {
  const decipher = createDecipheriv("aes-256-gcm", dataKey, sealed.iv);
  decipher.setAAD(Buffer.from(walletId, "utf8"));
  decipher.setAuthTag(sealed.tag);
  return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
}

/** The stored bytes of an envelope record: the wrapped data key and the sealed shares. */
export function encodeEnvelope(wrappedKey: string, sealed: SealedShares): Buffer {
  if (transitKeyVersion(wrappedKey) === undefined) throw new Error("wrapped key is not a Transit ciphertext");
  return serializeEnvelope({
    v: ENVELOPE_VERSION,
    wrapped_key: wrappedKey,
    iv: Buffer.from(sealed.iv).toString("base64"),
    ciphertext: Buffer.from(sealed.ciphertext).toString("base64"),
    tag: Buffer.from(sealed.tag).toString("base64"),
  });
}
