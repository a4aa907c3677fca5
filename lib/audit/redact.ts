/**
 * Redaction of audit `details` (DESIGN §2, §6). Audit records are kept forever and exported, so nothing that
 * could be share material, a data key, a token or a secret may enter them — whatever a caller passes.
 * Censors by key name (normalised: case, `_` and `-` ignored) and by value shape (Vault ciphertexts, Vault
 * tokens, long base64 blobs, raw bytes). Pure; no server-only so it can be unit-tested and reused.
 */
export const REDACTED = "[redacted]";
const MAX_DEPTH = 8;

const SENSITIVE_EXACT = new Set([
  "plaintext",
  "ciphertext",
  "encryptedkeyshares",
  "keyshares",
  "keyshare",
  "shares",
  "share",
  "serverkeyshares",
  "wrappedkey",
  "datakey",
  "privatekey",
  "secret",
  "secretid",
  "clientsecret",
  "password",
  "passphrase",
  "token",
  "authorization",
  "cookie",
  "setcookie",
  "xvaulttoken",
  "batchinput",
  "batchresults",
]);
const SENSITIVE_SUFFIXES = ["token", "secret", "ciphertext", "plaintext", "password", "privatekey", "datakey", "wrappedkey", "keyshares"];

function isSensitiveKey(key: string): boolean {
  const k = key.replace(/[_\-\s]/g, "").toLowerCase();
  return SENSITIVE_EXACT.has(k) || SENSITIVE_SUFFIXES.some((s) => k.endsWith(s));
}

const VAULT_CIPHERTEXT = /vault:v\d+:/;
const VAULT_TOKEN = /^(hv[sbr]\.|s\.[A-Za-z0-9]{20,})/;
const LONG_BASE64 = /^[A-Za-z0-9+/_-]{64,}={0,2}$/;
const HEX = /^[0-9a-fA-F]+$/;

function isSensitiveString(value: string): boolean {
  if (VAULT_CIPHERTEXT.test(value) || VAULT_TOKEN.test(value)) return true;
  // Hashes (hex) are fine to keep — the audit chain itself is made of them.
  return LONG_BASE64.test(value) && !HEX.test(value);
}

function redactValue(value: unknown, depth: number): unknown {
  if (value === null || typeof value === "boolean" || typeof value === "number") return value;
  if (typeof value === "string") return isSensitiveString(value) ? REDACTED : value;
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return REDACTED;
  if (typeof value !== "object") return undefined; // functions, symbols, undefined
  if (depth >= MAX_DEPTH) return "[truncated]";
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1) ?? null);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (isSensitiveKey(k)) {
      out[k] = REDACTED;
      continue;
    }
    const r = redactValue(v, depth + 1);
    if (r !== undefined) out[k] = r;
  }
  return out;
}

/** A JSON-safe, redacted copy of `details`. */
export function redactDetails(details: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!details) return {};
  return redactValue(details, 0) as Record<string, unknown>;
}
