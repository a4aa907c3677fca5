import "server-only";
import { VaultBadRequestError, VaultProtocolError, type VaultOperation } from "./errors";

/**
 * Pure helpers: input validation before anything is sent, base64 in both directions, and parsing of
 * Vault's answers into typed values. Every failure here is a domain error without payload.
 */

/** Vault's `GenericNameRegex` (reference §1.1). Checked client-side because the name becomes a URL path segment. */
const KEY_NAME = /^\w(?:[\w.-]*\w)?$/;
const MOUNT_SEGMENT = /^[\w.-]+$/;

export function assertKeyName(operation: VaultOperation, name: string): void {
  if (typeof name !== "string" || name.length > 256 || !KEY_NAME.test(name)) {
    throw new VaultBadRequestError("Invalid Transit key name.", { operation, detail: "invalid key name" });
  }
}

/** Normalises a mount path (`transit`, `/team/transit/`) and refuses traversal or odd characters. */
export function normaliseMount(mount: string, what: string): string {
  const trimmed = mount.replace(/^\/+|\/+$/g, "");
  const segments = trimmed.split("/");
  if (trimmed === "" || segments.some((s) => !MOUNT_SEGMENT.test(s) || s === "." || s === "..")) {
    throw new TypeError(`Invalid Vault ${what} mount path`);
  }
  return trimmed;
}

export function assertPositiveInt(operation: VaultOperation, field: string, value: number | undefined): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new VaultBadRequestError(`Invalid ${field}: must be a positive integer.`, {
      operation,
      detail: `${field} must be a positive integer`,
    });
  }
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Node's decoder is lenient; a malformed value from Vault must not silently become different bytes. */
export function fromBase64(operation: VaultOperation, text: unknown): Uint8Array {
  if (typeof text !== "string" || !STRICT_BASE64.test(text)) {
    throw new VaultProtocolError("Vault returned a malformed value.", { operation });
  }
  return new Uint8Array(Buffer.from(text, "base64"));
}

/**
 * Prefix only: a full-alphabet check over every result cost ~1 µs per item (5 % of a batch-1000 rewrap
 * profile) and the payload is opaque to us anyway; Vault is the one that validates it on decrypt.
 */
const CIPHERTEXT = /^vault:v(\d+):[A-Za-z0-9+/]/;

/** Version encoded in a `vault:vN:…` string, or undefined when it is not one. */
export function ciphertextVersion(ciphertext: string): number | undefined {
  const m = CIPHERTEXT.exec(ciphertext);
  return m ? Number(m[1]) : undefined;
}

export interface TransitKeyVersion {
  version: number;
  createdAt: Date;
}

export interface TransitKeyInfo {
  name: string;
  type: string;
  latestVersion: number;
  minDecryptionVersion: number;
  /** 0 means "latest only" in Vault's description; see reference §7 for the subtlety. */
  minEncryptionVersion: number;
  /** 0 until the first trim. */
  minAvailableVersion: number;
  /** Working set only (min_decryption_version..latest), ascending. Empty for `hmac` keys, which Vault reports without `keys`. */
  versions: TransitKeyVersion[];
  derived: boolean;
  exportable: boolean;
  allowPlaintextBackup: boolean;
  deletionAllowed: boolean;
  autoRotatePeriodSeconds: number;
  supportsEncryption: boolean;
  supportsDecryption: boolean;
  supportsDerivation: boolean;
  supportsSigning: boolean;
  convergentEncryption: boolean;
  /** `request_id` of the Vault response this description came from (for audit events). */
  requestId?: string;
}

type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function int(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === "string" && /^-?\d+$/.test(v)) return Number(v);
  return undefined;
}

/** `auto_rotate_period` is integer seconds in current Vault; accept a Go duration string (`1h0m0s`) too. */
function durationSeconds(v: unknown): number {
  const n = int(v);
  if (n !== undefined) return n;
  if (typeof v !== "string") return 0;
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(h|m|s|ms)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(v)) !== null) {
    const value = Number(m[1]);
    total += m[2] === "h" ? value * 3600 : m[2] === "m" ? value * 60 : m[2] === "s" ? value : value / 1000;
  }
  return Math.round(total);
}

function versionDate(v: unknown): Date | undefined {
  // Symmetric keys: integer Unix seconds. Asymmetric keys: { creation_time: RFC3339 }.
  const seconds = int(v);
  if (seconds !== undefined) return new Date(seconds * 1000);
  if (isObject(v) && typeof v.creation_time === "string") {
    const d = new Date(v.creation_time);
    return Number.isNaN(d.getTime()) ? undefined : d;
  }
  return undefined;
}

export function parseKeyInfo(operation: VaultOperation, body: unknown, fallbackName: string): TransitKeyInfo {
  const data = isObject(body) && isObject(body.data) ? body.data : undefined;
  const latest = data ? int(data.latest_version) : undefined;
  if (!data || latest === undefined) {
    throw new VaultProtocolError("Vault returned an unexpected key description.", { operation, keyName: fallbackName });
  }
  const versions: TransitKeyVersion[] = [];
  if (isObject(data.keys)) {
    for (const [k, v] of Object.entries(data.keys)) {
      const version = int(k);
      const createdAt = versionDate(v);
      if (version !== undefined && createdAt) versions.push({ version, createdAt });
    }
    versions.sort((a, b) => a.version - b.version);
  }
  const requestId = isObject(body) && typeof body.request_id === "string" ? body.request_id : undefined;
  return {
    name: typeof data.name === "string" ? data.name : fallbackName,
    type: typeof data.type === "string" ? data.type : "unknown",
    latestVersion: latest,
    minDecryptionVersion: int(data.min_decryption_version) ?? 1,
    minEncryptionVersion: int(data.min_encryption_version) ?? 0,
    minAvailableVersion: int(data.min_available_version) ?? 0,
    versions,
    derived: data.derived === true,
    exportable: data.exportable === true,
    allowPlaintextBackup: data.allow_plaintext_backup === true,
    deletionAllowed: data.deletion_allowed === true,
    autoRotatePeriodSeconds: durationSeconds(data.auto_rotate_period),
    supportsEncryption: data.supports_encryption === true,
    supportsDecryption: data.supports_decryption === true,
    supportsDerivation: data.supports_derivation === true,
    supportsSigning: data.supports_signing === true,
    convergentEncryption: data.convergent_encryption === true,
    ...(requestId ? { requestId } : {}),
  };
}

export function requestIdOf(body: unknown): string | undefined {
  return isObject(body) && typeof body.request_id === "string" && body.request_id !== "" ? body.request_id : undefined;
}
