import "server-only";
import { DomainError } from "@/lib/errors";

/**
 * Domain errors of the Vault client layer.
 *
 * Trust boundary: these objects travel up into server actions, logs and (through their `message`) into the
 * UI. They are built only from safe fields — operation name, HTTP status, Vault request id, key name and a
 * scrubbed Vault reason. They never hold the original axios / node-vault error (its `config.data` is the
 * request body with plaintext or ciphertext, its headers hold the token, and `response.body` of a batch
 * holds ciphertexts), never set `cause`, and never copy request or response bodies.
 */

export type VaultOperation =
  | "health"
  | "listKeys"
  | "readKey"
  | "createKey"
  | "rotateKey"
  | "configureKey"
  | "trimKey"
  | "encrypt"
  | "generateDataKey"
  | "rewrapBatch"
  | "hmac"
  | "verifyHmac"
  | "login"
  | "renewToken";

export interface VaultErrorInit {
  operation: VaultOperation;
  /** HTTP status Vault answered with. */
  status?: number;
  requestId?: string;
  keyName?: string;
}

/**
 * Extends the shared DomainError so that `toPublicError` shows these messages. `status` is the console's
 * answer to its own caller (DomainError's meaning); Vault's HTTP status is `vaultStatus`.
 */
export class VaultError extends DomainError {
  override name = "VaultError";
  override readonly status: number;
  readonly operation: VaultOperation;
  /** HTTP status Vault answered with; undefined for network failures and client-side checks. */
  readonly vaultStatus: number | undefined;
  /** Vault's `request_id`, when the response carried one (success envelopes and raw batch bodies do; `{"errors":[…]}` bodies do not). */
  readonly requestId: string | undefined;
  readonly keyName: string | undefined;

  constructor(message: string, init: VaultErrorInit, publicStatus = 502) {
    super(message);
    this.status = publicStatus;
    this.operation = init.operation;
    this.vaultStatus = init.status;
    this.requestId = init.requestId;
    this.keyName = init.keyName;
  }

  /** Explicit, so that JSON.stringify of an error shows exactly these fields and nothing added later. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      operation: this.operation,
      status: this.status,
      vaultStatus: this.vaultStatus,
      requestId: this.requestId,
      keyName: this.keyName,
    };
  }
}

export type UnavailableReason = "network" | "tls" | "timeout" | "server" | "rate-limited" | "sealed" | "closed";

/**
 * Vault could not be reached or could not serve the request: network error, timeout, 5xx, 429.
 * `outcomeUnknown` is true when the request may have been executed anyway (timeout, reset, 5xx):
 * a caller of a non-idempotent operation (rotate, config, trim) must re-read state before trying again.
 */
export class VaultUnavailableError extends VaultError {
  override name = "VaultUnavailableError";
  readonly reason: UnavailableReason;
  readonly outcomeUnknown: boolean;
  /** From Vault's (or a proxy's) Retry-After on a 429 or 5xx, when it sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    init: VaultErrorInit & { reason: UnavailableReason; outcomeUnknown: boolean; retryAfterMs?: number },
  ) {
    super(message, init, 503);
    this.reason = init.reason;
    this.outcomeUnknown = init.outcomeUnknown;
    this.retryAfterMs = init.retryAfterMs;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), reason: this.reason, outcomeUnknown: this.outcomeUnknown, retryAfterMs: this.retryAfterMs };
  }
}

/** 503 `Vault is sealed`. The request was refused before any processing, so it never ran. */
export class VaultSealedError extends VaultUnavailableError {
  override name = "VaultSealedError";
  constructor(init: VaultErrorInit) {
    super("Vault is sealed; key operations are unavailable until it is unsealed.", {
      ...init,
      reason: "sealed",
      outcomeUnknown: false,
    });
  }
}

/**
 * 403: missing, invalid or expired token, or a policy that does not allow the operation. The console's own
 * Vault identity was refused, which is a server-side configuration problem, not the user's role: 502.
 */
export class VaultPermissionDeniedError extends VaultError {
  override name = "VaultPermissionDeniedError";
}

/** The key (or path) does not exist. */
export class VaultNotFoundError extends VaultError {
  override name = "VaultNotFoundError";
  constructor(message: string, init: VaultErrorInit) {
    super(message, init, 404);
  }
}

/**
 * 400 (and client-side validation before a request is sent). `detail` is Vault's reason with anything
 * that looks like ciphertext, base64 material or a token scrubbed out (see `scrubVaultDetail`).
 */
export class VaultBadRequestError extends VaultError {
  override name = "VaultBadRequestError";
  readonly detail: string | undefined;

  constructor(message: string, init: VaultErrorInit & { detail?: string }) {
    super(message, init, 400);
    this.detail = init.detail;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), detail: this.detail };
  }
}

/**
 * Vault (or something pretending to be it) answered in a way the client cannot trust: a batch result
 * missing or out of order, a reference not echoed, a ciphertext of the wrong version, an unknown status.
 * Never retried: the caller must not act on a partial or misaligned answer.
 */
export class VaultProtocolError extends VaultError {
  override name = "VaultProtocolError";
}

const CIPHERTEXT_LIKE = /vault:v-?\d*:[A-Za-z0-9+/=_-]*/g;
/** Runs of base64 / hex alphabet long enough to be key material, an HMAC or a token segment. */
const RUN = /[A-Za-z0-9+/_]{16,}={0,2}/g;

/**
 * Heuristic: material is random-looking (mixed case with digits, base64 punctuation, long hex, or very long).
 * Key names such as `keyshare-prod-2024` or `wallet_shares_evm` stay readable.
 */
function looksLikeMaterial(run: string): boolean {
  if (run.length >= 40 || /[+/=]/.test(run)) return true;
  const digit = /\d/.test(run);
  if (digit && /^[0-9a-fA-F]+$/.test(run)) return true;
  return digit && /[a-z]/.test(run) && /[A-Z]/.test(run);
}

/**
 * Vault's error text reduced to something safe to show and log: the multierror wrapping removed,
 * material-looking substrings replaced, length capped. Vault's transit messages (§6 of the reference)
 * contain key names and version numbers only, which survive this.
 */
export function scrubVaultDetail(text: unknown): string | undefined {
  if (typeof text !== "string" || text.trim() === "") return undefined;
  const unwrapped = text
    .replace(/^\d+ errors? occurred:\s*/, "")
    .split(/\n\t\* /)
    .map((s) => s.replace(/^\t?\* /, "").trim())
    .filter(Boolean)
    .join("; ");
  const scrubbed = unwrapped
    .replace(CIPHERTEXT_LIKE, "vault:v?:[redacted]")
    .replace(RUN, (run) => (looksLikeMaterial(run) ? "[redacted]" : run));
  return scrubbed.length > 300 ? `${scrubbed.slice(0, 297)}...` : scrubbed;
}
