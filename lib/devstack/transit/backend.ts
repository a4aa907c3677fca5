/**
 * The transit secrets engine for one mount: routes relative to the mount path, field schemas, and the
 * handlers, with Vault's check order, messages and status rules (reference §2, §3, §6, §7).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { Base64Error, decodeBase64Std } from "./base64.js";
import { Fields, goTypeName, type Schema } from "./fields.js";
import {
  ALL_VAULT_KEY_TYPES,
  HASH_ALGORITHMS,
  OpError,
  SUPPORTED_KEY_TYPES,
  TransitKey,
  computeHmac,
  goAtoi,
  hmacEqual,
  parseVersioned,
  type KeyType,
} from "./keyring.js";

export type Operation = "read" | "list" | "update" | "delete" | "patch";

/** What a handler produced, before the core turns it into HTTP. */
export type Result =
  | { kind: "data"; data: Record<string, unknown>; warnings?: string[] }
  /** Handler returned nil: 204, or 404 `{"errors":[]}` for read and list. */
  | { kind: "nil" }
  /** ErrorResponse(msg): 400 unless `status` says otherwise; `errors` rendered as given. */
  | { kind: "user-error"; message: string; status?: number }
  /** Plain Go error: 500 (or 404/405 for the framework sentinels), multierror-wrapped. */
  | { kind: "internal"; message: string; status?: number }
  /** logical.RespondWithStatusCode: full envelope with an explicit status (batch failures). */
  | { kind: "raw"; status: number; data: Record<string, unknown>; warnings: string[] | null };

export const userError = (message: string): Result => ({ kind: "user-error", message });
export const internalError = (message: string): Result => ({ kind: "internal", message });

export interface MountContext {
  /** Called after any change to key state that must survive a restart. */
  persist(): void;
  /** Rate (0..1) at which batch items fail as injected faults. */
  batchItemFailureRate: number;
}

export interface MountInfo {
  path: string;
  uuid: string;
  accessor: string;
  description: string;
}

export class TransitMount {
  readonly keys = new Map<string, TransitKey>();
  disableUpsert = false;
  constructor(readonly info: MountInfo) {}

  static create(path: string, description = ""): TransitMount {
    return new TransitMount({ path, uuid: randomUUID(), accessor: `transit_${randomBytes(4).toString("hex")}`, description });
  }
}

type Handler = (m: TransitMount, f: Fields, ctx: MountContext) => Result;

interface Route {
  re: RegExp;
  captures: string[];
  schema: Schema;
  ops: Partial<Record<Operation, Handler>>;
}

// Go's GenericNameRegex `\w(([\w-.]+)?\w)?`; JS `\w` is ASCII-only like Go's.
const NAME = String.raw`(\w(?:[\w\-.]*\w)?)`;
const OPT = String.raw`(?:/(.+))?`;

const INJECTED_ITEM_FAILURE = "injected fault: batch item failed (dev transit server)";

function multierror(msgs: string[]): string {
  if (msgs.length === 1) return `1 error occurred:\n\t* ${msgs[0]}\n\n`;
  return `${msgs.length} errors occurred:\n\t${msgs.map((m) => `* ${m}`).join("\n\t")}\n\n`;
}

// ---------------------------------------------------------------------------------------------------
// batch_input decoding (strict, like Vault's decodeBatchRequestItems / mapstructure.Decode)

interface BatchItem {
  plaintext: string;
  ciphertext: string;
  context: string;
  keyVersion: number;
  associatedData: string;
  nonce: string;
  reference: string;
}

type BatchKind = "encrypt" | "decrypt" | "rewrap";

function decodeBatch(raw: unknown, kind: BatchKind): BatchItem[] | string {
  if (!Array.isArray(raw)) return multierror([`'' source data must be an array or slice, got ${typeof raw === "object" ? "map" : typeof raw}`]);
  const items: BatchItem[] = new Array(raw.length);
  const errs: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const it = raw[i];
    if (typeof it !== "object" || it === null || Array.isArray(it)) {
      return multierror([`'[${i}]' expected a map, got '${Array.isArray(it) ? "slice" : it === null ? "invalid" : typeof it}'`]);
    }
    const o = it as Record<string, unknown>;
    const item: BatchItem = { plaintext: "", ciphertext: "", context: "", keyVersion: 0, associatedData: "", nonce: "", reference: "" };
    const str = (field: string, nullable: boolean): string => {
      const v = o[field];
      if (v === undefined || (v === null && nullable)) return "";
      if (typeof v === "string") return v;
      errs.push(`'[${i}].${field}' expected type 'string', got unconvertible type '${goTypeName(v)}'`);
      return "";
    };
    if (kind === "encrypt") {
      if (!("plaintext" in o)) errs.push(`'[${i}].plaintext' missing plaintext to encrypt`);
      else item.plaintext = str("plaintext", false);
    } else if (kind === "decrypt") {
      if (!("ciphertext" in o)) errs.push(`'[${i}].ciphertext' missing ciphertext to decrypt`);
      else item.ciphertext = str("ciphertext", false);
    } else {
      item.ciphertext = str("ciphertext", true);
    }
    item.context = str("context", true);
    item.nonce = str("nonce", true);
    item.reference = str("reference", true);
    if (kind !== "rewrap") item.associatedData = str("associated_data", true);
    str("padding_scheme", true);
    if (kind !== "decrypt") {
      const kv = o["key_version"];
      if (kv !== undefined && kv !== null) {
        if (typeof kv === "number" && Number.isSafeInteger(kv)) item.keyVersion = kv;
        else errs.push(`'[${i}].key_version' expected type 'int', got unconvertible type '${goTypeName(kv)}'`);
      }
    }
    items[i] = item;
  }
  return errs.length > 0 ? multierror(errs) : items;
}

/** hmac/verify batch items are `map[string]string` decoded with mapstructure. */
function decodeStringMaps(raw: unknown): Array<Record<string, string>> | string {
  if (!Array.isArray(raw)) return multierror([`'' source data must be an array or slice, got ${typeof raw}`]);
  const out: Array<Record<string, string>> = [];
  const errs: string[] = [];
  raw.forEach((it, i) => {
    if (typeof it !== "object" || it === null || Array.isArray(it)) {
      errs.push(`'[${i}]' expected a map, got '${Array.isArray(it) ? "slice" : typeof it}'`);
      return;
    }
    const m: Record<string, string> = {};
    for (const [k, v] of Object.entries(it as Record<string, unknown>)) {
      if (typeof v === "string") m[k] = v;
      else if (v === null) m[k] = "";
      else errs.push(`'[${i}][${k}]' expected type 'string', got unconvertible type '${goTypeName(v)}'`);
    }
    out.push(m);
  });
  return errs.length > 0 ? `${errs.length} error(s) decoding:\n\n* ${errs.join("\n* ")}` : out;
}

const decodeOrError = (s: string): Buffer | string => {
  const d = decodeBase64Std(s);
  return d instanceof Base64Error ? d.message : d;
};

function injected(ctx: MountContext): boolean {
  return ctx.batchItemFailureRate > 0 && Math.random() < ctx.batchItemFailureRate;
}

/** batchRequestResponse from path_encrypt.go: the status rules for encrypt and decrypt batches. */
function batchStatus(
  f: Fields,
  data: Record<string, unknown>,
  flags: { success: boolean; user: boolean; internal: boolean },
): Result {
  if (!flags.user && !flags.internal) return { kind: "data", data };
  let code = flags.user ? 400 : 500;
  const warnings: string[] = [];
  if (f.has("partial_failure_response_code") && flags.success) {
    const c = f.int("partial_failure_response_code");
    if (c < 1 || c > 599) warnings.push(`invalid HTTP response code override from partial_failure_response_code, reverting to ${code}`);
    else code = c;
  }
  return { kind: "raw", status: code, data, warnings: warnings.length > 0 ? warnings : null };
}

// ---------------------------------------------------------------------------------------------------
// keys

function listKeys(m: TransitMount): Result {
  if (m.keys.size === 0) return { kind: "nil" };
  return { kind: "data", data: { keys: [...m.keys.keys()].sort() } };
}

function readKey(m: TransitMount, f: Fields): Result {
  const k = m.keys.get(f.str("name"));
  return k ? { kind: "data", data: k.info() } : { kind: "nil" };
}

function createKey(m: TransitMount, f: Fields, ctx: MountContext): Result {
  const name = f.str("name");
  const derived = f.bool("derived");
  const convergent = f.bool("convergent_encryption");
  const keyType = f.str("type", "aes256-gcm96");
  const keySize = f.int("key_size");
  const autoRotate = f.int("auto_rotate_period");
  if (autoRotate !== 0 && autoRotate < 3600) return userError("auto rotate period must be 0 to disable or at least an hour");
  if (!derived && convergent) return userError("convergent encryption requires derivation to be enabled");
  if (!ALL_VAULT_KEY_TYPES.has(keyType)) return userError(`unknown key type ${keyType}`);
  if (keySize !== 0) {
    if (keyType !== "hmac") return userError(`key_size is not valid for algorithm ${keyType}`);
    if (keySize < 32 || keySize > 512) return userError(`invalid key_size ${keySize}`);
  }
  const existing = m.keys.get(name);
  // Create is an idempotent upsert: an existing key is returned unchanged, whatever was asked.
  if (existing) return { kind: "data", data: existing.info() };
  if ((derived || convergent) && !["aes128-gcm96", "aes256-gcm96", "chacha20-poly1305", "xchacha20-poly1305"].includes(keyType)) {
    if (keyType === "ed25519") {
      if (convergent) return internalError(`convergent encryption not supported for keys of type ${keyType}`);
    } else {
      return internalError(`key derivation and convergent encryption not supported for keys of type ${keyType}`);
    }
  }
  if (!SUPPORTED_KEY_TYPES.has(keyType)) {
    return userError(`key type ${keyType} is not supported by the dev transit server (supported: aes128-gcm96, aes256-gcm96, chacha20-poly1305, hmac)`);
  }
  const k = TransitKey.create({
    name,
    type: keyType as KeyType,
    derived,
    convergent,
    exportable: f.bool("exportable"),
    allowPlaintextBackup: f.bool("allow_plaintext_backup"),
    autoRotatePeriod: autoRotate,
    keySize,
  });
  if (k instanceof OpError) return internalError(k.message);
  m.keys.set(name, k);
  ctx.persist();
  return { kind: "data", data: k.info() };
}

function deleteKey(m: TransitMount, f: Fields, ctx: MountContext): Result {
  const name = f.str("name");
  const k = m.keys.get(name);
  if (!k) return userError(`error deleting policy ${name}: could not delete key; not found`);
  if (!k.deletionAllowed) return userError(`error deleting policy ${name}: deletion is not allowed for this key`);
  m.keys.delete(name);
  ctx.persist();
  return { kind: "nil" };
}

function configKey(m: TransitMount, f: Fields, ctx: MountContext): Result {
  const name = f.str("name");
  const k = m.keys.get(name);
  if (!k) return userError(`no existing key named ${name} could be found`);
  // Work on copies so a failed check leaves the key untouched (Vault restores the policy on error).
  let minDec = k.minDecryptionVersion;
  let minEnc = k.minEncryptionVersion;
  let deletionAllowed = k.deletionAllowed;
  let exportable = k.exportable;
  let allowBackup = k.allowPlaintextBackup;
  let autoRotate = k.autoRotatePeriod;
  let persistNeeded = false;
  const warnings: string[] = [];
  if (f.has("min_decryption_version")) {
    let v = f.int("min_decryption_version");
    if (v < 0) return userError("min decryption version cannot be negative");
    if (v === 0) {
      v = 1;
      warnings.push("since Vault 0.3, transit key numbering starts at 1; forcing minimum to 1");
    }
    if (v !== minDec) {
      if (v > k.latestVersion) return userError(`cannot set min decryption version of ${v}, latest key version is ${k.latestVersion}`);
      minDec = v;
      persistNeeded = true;
    }
  }
  if (f.has("min_encryption_version")) {
    const v = f.int("min_encryption_version");
    if (v < 0) return userError("min encryption version cannot be negative");
    if (v !== minEnc) {
      if (v > k.latestVersion) return userError(`cannot set min encryption version of ${v}, latest key version is ${k.latestVersion}`);
      minEnc = v;
      persistNeeded = true;
    }
  }
  if (minEnc > 0 && minEnc < minDec) {
    return userError(
      `cannot set min encryption/decryption values; min encryption version of ${minEnc} must be greater than or equal to min decryption version of ${minDec}`,
    );
  }
  if (f.has("deletion_allowed") && f.bool("deletion_allowed") !== deletionAllowed) {
    deletionAllowed = f.bool("deletion_allowed");
    persistNeeded = true;
  }
  // exportable and allow_plaintext_backup are one-way switches: false is silently ignored.
  if (f.bool("exportable") && !exportable) {
    exportable = true;
    persistNeeded = true;
  }
  if (f.bool("allow_plaintext_backup") && !allowBackup) {
    allowBackup = true;
    persistNeeded = true;
  }
  if (f.has("auto_rotate_period")) {
    const v = f.int("auto_rotate_period");
    if (v !== 0 && v < 3600) return userError("auto rotate period must be 0 to disable or at least an hour");
    if (v !== autoRotate) {
      autoRotate = v;
      persistNeeded = true;
    }
  }
  if (persistNeeded) {
    if (k.minAvailableVersion > minEnc) return userError("min encryption version should not be less than min available version");
    if (k.minAvailableVersion > minDec) return userError("min decryption version should not be less then min available version");
    Object.assign(k, {
      minDecryptionVersion: minDec,
      minEncryptionVersion: minEnc,
      deletionAllowed,
      exportable,
      allowPlaintextBackup: allowBackup,
      autoRotatePeriod: autoRotate,
    });
    ctx.persist();
  }
  return { kind: "data", data: k.info(), warnings };
}

function rotateKey(m: TransitMount, f: Fields, ctx: MountContext): Result {
  const k = m.keys.get(f.str("name"));
  if (!k) return userError("key not found");
  const err = k.rotate();
  if (err) return internalError(err.message);
  ctx.persist();
  return { kind: "data", data: k.info() };
}

function trimKey(m: TransitMount, f: Fields, ctx: MountContext): Result {
  const k = m.keys.get(f.str("name"));
  if (!k) return userError("invalid key name");
  if (!f.has("min_available_version")) return userError("missing min_available_version");
  const v = f.int("min_available_version");
  if (v < k.minAvailableVersion) return userError("minimum available version cannot be decremented");
  if (k.minEncryptionVersion === 0) return userError("minimum available version cannot be set when minimum encryption version is not set");
  if (k.minDecryptionVersion === 0) return userError("minimum available version cannot be set when minimum decryption version is not set");
  if (v > k.minEncryptionVersion) return userError("minimum available version cannot be greater than minmum encryption version");
  if (v > k.minDecryptionVersion) return userError("minimum available version cannot be greater than minimum decryption version");
  if (v < 0) return userError("minimum available version cannot be negative");
  if (v === 0) return userError("minimum available version should be positive");
  k.trimTo(v);
  ctx.persist();
  return { kind: "data", data: k.info() };
}

// ---------------------------------------------------------------------------------------------------
// encrypt / decrypt / rewrap / datakey

const CONTEXT_MIXED = "context should be set either in all the request blocks or in none";
const NONCE_NOT_ALLOWED = "provided nonce not allowed for this key";

function encrypt(m: TransitMount, f: Fields, ctx: MountContext): Result {
  const name = f.str("name");
  const batchRaw = f.raw["batch_input"];
  const isBatch = batchRaw !== undefined && batchRaw !== null;
  let items: BatchItem[];
  if (isBatch) {
    const d = decodeBatch(batchRaw, "encrypt");
    if (typeof d === "string") return internalError(`failed to parse batch input: ${d}`);
    if (d.length === 0) return userError("missing batch input to process");
    items = d;
  } else {
    if (!f.has("plaintext")) return userError("missing plaintext to encrypt");
    items = [{
      plaintext: f.str("plaintext"), ciphertext: "", context: f.str("context"), keyVersion: f.int("key_version"),
      associatedData: f.str("associated_data"), nonce: f.str("nonce"), reference: "",
    }];
  }
  const n = items.length;
  const errors: Array<string | undefined> = new Array(n);
  const plaintexts: Array<Buffer | undefined> = new Array(n);
  const contexts: Array<Buffer | null> = new Array(n).fill(null);
  const flags = { success: false, user: false, internal: false };
  const contextSet = (items[0] as BatchItem).context.length !== 0;
  for (let i = 0; i < n; i++) {
    const it = items[i] as BatchItem;
    if ((it.context.length !== 0) !== contextSet) return userError(CONTEXT_MIXED);
    const pt = decodeOrError(it.plaintext);
    if (typeof pt === "string") {
      errors[i] = pt;
      flags.user = true;
      continue;
    }
    plaintexts[i] = pt;
    if (contextSet) {
      const c = decodeOrError(it.context);
      if (typeof c === "string") {
        errors[i] = c;
        flags.user = true;
        continue;
      }
      contexts[i] = c;
    }
    if (it.nonce !== "") {
      const nn = decodeOrError(it.nonce);
      if (typeof nn === "string") {
        errors[i] = nn;
        flags.user = true;
      }
    }
  }

  let key = m.keys.get(name);
  if (!key) {
    // The root token holds `create`, so a missing key makes this a create operation (upsert).
    const convergent = f.bool("convergent_encryption");
    if (convergent && !contextSet) return userError("convergent encryption requires derivation to be enabled, so context is required");
    const keyType = f.str("type", "aes256-gcm96");
    if (keyType.startsWith("ecdsa-")) return userError(`key type ${keyType} not supported for this operation`);
    if (!["aes128-gcm96", "aes256-gcm96", "chacha20-poly1305"].includes(keyType)) return userError(`unknown key type ${keyType}`);
    if (m.disableUpsert) return userError("encryption key not found");
    const created = TransitKey.create({ name, type: keyType as KeyType, derived: contextSet, convergent });
    if (created instanceof OpError) return internalError(created.message);
    key = created;
    m.keys.set(name, key);
    ctx.persist();
  }

  const results: Array<Record<string, unknown>> = new Array(n);
  const single = !isBatch;
  for (let i = 0; i < n; i++) {
    const it = items[i] as BatchItem;
    if (errors[i] === undefined) {
      if (it.nonce !== "") {
        errors[i] = NONCE_NOT_ALLOWED;
        flags.user = true;
      } else {
        let aad: Buffer | null = null;
        if (it.associatedData !== "") {
          if (!key.encryptionSupported) {
            // Vault does not flag this one as a user error, so alone it leaves a batch at 200.
            errors[i] = `'[${i}].associated_data' provided for non-AEAD cipher suite ${key.type}`;
          } else {
            const a = decodeOrError(it.associatedData);
            if (typeof a === "string") {
              errors[i] = a;
              flags.user = true;
            } else aad = a;
          }
        }
        if (errors[i] === undefined) {
          if (!single && injected(ctx)) {
            errors[i] = INJECTED_ITEM_FAILURE;
            flags.user = true;
          } else {
            const r = key.encrypt(plaintexts[i] as Buffer, it.keyVersion, contexts[i] as Buffer | null, aad);
            if (r instanceof OpError) {
              errors[i] = r.message;
              if (r.internal) flags.internal = true;
              else flags.user = true;
            } else {
              flags.success = true;
              results[i] = { ciphertext: r.ciphertext, key_version: r.version, reference: it.reference };
              continue;
            }
          }
        }
      }
    }
    results[i] = { error: errors[i], reference: it.reference };
  }

  if (single) {
    const e = errors[0];
    if (e !== undefined) return flags.internal ? internalError(e) : userError(e);
    const r = results[0] as Record<string, unknown>;
    return { kind: "data", data: { ciphertext: r["ciphertext"], key_version: r["key_version"] } };
  }
  return batchStatus(f, { batch_results: results }, flags);
}

function decrypt(m: TransitMount, f: Fields, ctx: MountContext): Result {
  const name = f.str("name");
  const batchRaw = f.raw["batch_input"];
  const isBatch = batchRaw !== undefined && batchRaw !== null;
  let items: BatchItem[];
  if (isBatch) {
    const d = decodeBatch(batchRaw, "decrypt");
    if (typeof d === "string") return internalError(`failed to parse batch input: ${d}`);
    if (d.length === 0) return userError("missing batch input to process");
    items = d;
  } else {
    const ct = f.str("ciphertext");
    if (ct.length === 0) return userError("missing ciphertext to decrypt");
    items = [{
      plaintext: "", ciphertext: ct, context: f.str("context"), keyVersion: 0,
      associatedData: f.str("associated_data"), nonce: f.str("nonce"), reference: "",
    }];
  }
  const n = items.length;
  const errors: Array<string | undefined> = new Array(n);
  const contexts: Array<Buffer | null> = new Array(n).fill(null);
  const flags = { success: false, user: false, internal: false };
  const contextSet = (items[0] as BatchItem).context.length !== 0;
  for (let i = 0; i < n; i++) {
    const it = items[i] as BatchItem;
    if ((it.context.length !== 0) !== contextSet) return userError(CONTEXT_MIXED);
    if (it.ciphertext === "") {
      errors[i] = "missing ciphertext to decrypt";
      flags.user = true;
      continue;
    }
    if (contextSet) {
      const c = decodeOrError(it.context);
      if (typeof c === "string") {
        errors[i] = c;
        flags.user = true;
        continue;
      }
      contexts[i] = c;
    }
  }
  const key = m.keys.get(name);
  if (!key) return userError("encryption key not found");

  const results: Array<Record<string, unknown>> = new Array(n);
  const single = !isBatch;
  for (let i = 0; i < n; i++) {
    const it = items[i] as BatchItem;
    if (errors[i] === undefined) {
      let aad: Buffer | null = null;
      if (it.nonce !== "") {
        errors[i] = NONCE_NOT_ALLOWED;
        flags.user = true;
      } else if (it.associatedData !== "") {
        if (!key.encryptionSupported) {
          errors[i] = `'[${i}].associated_data' provided for non-AEAD cipher suite ${key.type}`;
        } else {
          const a = decodeOrError(it.associatedData);
          if (typeof a === "string") {
            errors[i] = a;
            flags.user = true;
          } else aad = a;
        }
      }
      if (errors[i] === undefined) {
        if (!single && injected(ctx)) {
          errors[i] = INJECTED_ITEM_FAILURE;
          flags.user = true;
        } else {
          const r = key.decrypt(it.ciphertext, contexts[i] as Buffer | null, aad);
          if (r instanceof OpError) {
            errors[i] = r.message;
            if (r.internal) flags.internal = true;
            else flags.user = true;
          } else {
            flags.success = true;
            results[i] = { plaintext: r.toString("base64"), reference: it.reference };
            continue;
          }
        }
      }
    }
    results[i] = { plaintext: "", error: errors[i], reference: it.reference };
  }
  if (single) {
    const e = errors[0];
    if (e !== undefined) return flags.internal ? internalError(e) : userError(e);
    return { kind: "data", data: { plaintext: (results[0] as Record<string, unknown>)["plaintext"] } };
  }
  return batchStatus(f, { batch_results: results }, flags);
}

function rewrap(m: TransitMount, f: Fields, ctx: MountContext): Result {
  const name = f.str("name");
  const batchRaw = f.raw["batch_input"];
  const isBatch = batchRaw !== undefined && batchRaw !== null;
  let items: BatchItem[];
  if (isBatch) {
    const d = decodeBatch(batchRaw, "rewrap");
    if (typeof d === "string") return internalError(`failed to parse batch input: ${d}`);
    if (d.length === 0) return userError("missing batch input to process");
    items = d;
  } else {
    const ct = f.str("ciphertext");
    if (ct.length === 0) return userError("missing ciphertext to decrypt");
    items = [{
      plaintext: "", ciphertext: ct, context: f.str("context"), keyVersion: f.int("key_version"),
      associatedData: "", nonce: f.str("nonce"), reference: "",
    }];
  }
  const n = items.length;
  const errors: Array<string | undefined> = new Array(n);
  const contexts: Array<Buffer | null> = new Array(n).fill(null);
  const contextSet = (items[0] as BatchItem).context.length !== 0;
  for (let i = 0; i < n; i++) {
    const it = items[i] as BatchItem;
    if ((it.context.length !== 0) !== contextSet) return userError(CONTEXT_MIXED);
    if (it.ciphertext === "") {
      errors[i] = "missing ciphertext to decrypt";
      continue;
    }
    if (contextSet) {
      const c = decodeOrError(it.context);
      if (typeof c === "string") errors[i] = c;
      else contexts[i] = c;
    }
  }
  const key = m.keys.get(name);
  if (!key) return userError("encryption key not found");

  const single = !isBatch;
  const results: Array<Record<string, unknown>> = new Array(n);
  for (let i = 0; i < n; i++) {
    const it = items[i] as BatchItem;
    let err = errors[i];
    if (err === undefined) {
      if (it.nonce !== "") err = NONCE_NOT_ALLOWED;
      else if (!single && injected(ctx)) err = INJECTED_ITEM_FAILURE;
      else {
        const c = contexts[i] as Buffer | null;
        const plain = key.decrypt(it.ciphertext, c, null);
        if (plain instanceof OpError) {
          // Internal errors abort the whole rewrap; user errors stay per item with HTTP 200.
          if (plain.internal) return internalError(plain.message);
          err = plain.message;
        } else {
          const r = key.encrypt(plain, it.keyVersion, c, null);
          if (r instanceof OpError) {
            if (r.internal) return internalError(r.message);
            err = r.message;
          } else {
            results[i] = { ciphertext: r.ciphertext, key_version: r.version, reference: it.reference };
            continue;
          }
        }
      }
    }
    if (single) return userError(err);
    results[i] = { error: err, reference: it.reference };
  }
  if (single) {
    const r = results[0] as Record<string, unknown>;
    return { kind: "data", data: { ciphertext: r["ciphertext"], key_version: r["key_version"] } };
  }
  return { kind: "data", data: { batch_results: results } };
}

function datakey(m: TransitMount, f: Fields): Result {
  const name = f.str("name");
  const kind = f.str("plaintext");
  if (kind !== "plaintext" && kind !== "wrapped") return userError("Invalid path, must be 'plaintext' or 'wrapped'");
  let context: Buffer | null = null;
  const contextRaw = f.str("context");
  if (contextRaw.length !== 0) {
    const c = decodeBase64Std(contextRaw);
    if (c instanceof Base64Error) return userError("failed to base64-decode context");
    context = c;
  }
  const nonceRaw = f.str("nonce");
  if (nonceRaw.length !== 0 && decodeBase64Std(nonceRaw) instanceof Base64Error) return userError("failed to base64-decode nonce");
  const key = m.keys.get(name);
  if (!key) return userError("encryption key not found");
  const bits = f.int("bits", 256);
  if (bits !== 128 && bits !== 256 && bits !== 512) return userError("invalid bit length");
  if (nonceRaw.length !== 0) return internalError(NONCE_NOT_ALLOWED);
  let aad: Buffer | null = null;
  const aadRaw = f.str("associated_data");
  if (aadRaw !== "") {
    if (!key.encryptionSupported) return userError(`'associated_data' provided for non-AEAD cipher suite ${key.type}`);
    const a = decodeBase64Std(aadRaw);
    if (a instanceof Base64Error) return userError(a.message);
    aad = a;
  }
  const newKey = randomBytes(bits / 8);
  const r = key.encrypt(newKey, f.int("key_version"), context, aad);
  if (r instanceof OpError) return r.internal ? internalError(r.message) : userError(r.message);
  const data: Record<string, unknown> = { ciphertext: r.ciphertext, key_version: r.version };
  if (kind === "plaintext") data["plaintext"] = newKey.toString("base64");
  return { kind: "data", data };
}

// ---------------------------------------------------------------------------------------------------
// hmac / verify

/** Go's `%q` of an unknown HashType (the zero value), which is what Vault prints here. */
const UNSUPPORTED_ALGORITHM = "unsupported algorithm '\\x00'";

function hmacHandler(m: TransitMount, f: Fields, ctx: MountContext): Result {
  const name = f.str("name");
  let ver = f.int("key_version");
  const algorithm = f.str("urlalgorithm") || f.str("algorithm", "sha2-256");
  const key = m.keys.get(name);
  if (!key) return userError("encryption key not found");
  if (ver === 0) ver = key.latestVersion;
  else if (ver !== key.latestVersion && key.minEncryptionVersion > 0 && ver < key.minEncryptionVersion) {
    return userError("cannot generate HMAC: version is too old (disallowed by policy)");
  }
  const hk = key.hmacKey(ver);
  if (hk instanceof OpError) return userError(hk.message);
  const alg = HASH_ALGORITHMS[algorithm];
  if (alg === undefined) return userError(UNSUPPORTED_ALGORITHM);

  const batchRaw = f.raw["batch_input"];
  const isBatch = batchRaw !== undefined && batchRaw !== null;
  let items: Array<Record<string, string>>;
  if (isBatch) {
    const d = decodeStringMaps(batchRaw);
    if (typeof d === "string") return internalError(`failed to parse batch input: ${d}`);
    if (d.length === 0) return userError("missing batch input to process");
    items = d;
  } else {
    if (!f.has("input")) return userError("missing input for HMAC");
    items = [{ input: f.str("input") }];
  }
  const prefix = `vault:v${ver}:`;
  const results = items.map((it) => {
    const reference = it["reference"] ?? "";
    const raw = it["input"];
    if (raw === undefined) return { error: "missing input for HMAC", reference };
    const input = decodeBase64Std(raw);
    if (input instanceof Base64Error) return { error: `unable to decode input as base64: ${input.message}`, reference };
    if (isBatch && injected(ctx)) return { error: INJECTED_ITEM_FAILURE, reference };
    return { hmac: prefix + computeHmac(alg, hk, input).toString("base64"), reference };
  });
  if (!isBatch) {
    const r = results[0] as { error?: string; hmac?: string };
    if (r.error !== undefined) return userError(r.error);
    return { kind: "data", data: { hmac: r.hmac } };
  }
  return { kind: "data", data: { batch_results: results } };
}

function verifyHandler(m: TransitMount, f: Fields, ctx: MountContext): Result {
  const batchRaw = f.raw["batch_input"];
  const isBatch = batchRaw !== undefined && batchRaw !== null;
  let items: Array<Record<string, string>>;
  if (isBatch) {
    const d = decodeStringMaps(batchRaw);
    if (typeof d === "string") return internalError(`failed to parse batch input: ${d}`);
    if (d.length === 0) return userError("missing batch input to process");
    items = d;
  } else {
    const it: Record<string, string> = { input: f.str("input") };
    if (f.has("signature")) it["signature"] = f.str("signature");
    if (f.has("hmac")) it["hmac"] = f.str("hmac");
    items = [it];
  }
  let sigFound = false;
  let hmacFound = false;
  let missing = false;
  for (const it of items) {
    const s = "signature" in it;
    const h = "hmac" in it;
    if (s) sigFound = true;
    if (h) hmacFound = true;
    if (!s && !h) missing = true;
  }
  if (!isBatch && sigFound && hmacFound) return userError("provide one of 'signature' or 'hmac'");
  if (!isBatch && !sigFound && !hmacFound) return userError("neither a 'signature' nor an 'hmac' were given to verify");
  if (sigFound && hmacFound) return userError("elements of batch_input must all provide 'signature' or all provide 'hmac'");
  if (missing && sigFound) return userError("some elements of batch_input are missing 'signature'");
  if (missing && hmacFound) return userError("some elements of batch_input are missing 'hmac'");
  if (missing) return userError("no batch_input elements have 'signature' or 'hmac'");

  const key = m.keys.get(f.str("name"));
  if (!key) return userError("encryption key not found");
  // Signatures exist only for asymmetric key types, which this dev server does not implement.
  if (sigFound) return userError(`key type ${key.type} does not support verification`);

  const algorithm = f.str("urlalgorithm") || f.str("hash_algorithm") || f.str("algorithm", "sha2-256");
  const alg = HASH_ALGORITHMS[algorithm];
  if (alg === undefined) return userError(UNSUPPORTED_ALGORITHM);

  const results = items.map((it): { valid?: boolean; error?: string; reference: string } => {
    const reference = it["reference"] ?? "";
    const rawInput = it["input"];
    if (rawInput === undefined) return { error: "missing input", reference };
    const input = decodeBase64Std(rawInput);
    if (input instanceof Base64Error) return { error: `unable to decode input as base64: ${input.message}`, reference };
    const parsed = parseVersioned(it["hmac"] ?? "", "invalid HMAC");
    if (parsed instanceof OpError) return { error: parsed.message, reference };
    const mac = decodeBase64Std(parsed.payload);
    if (mac instanceof Base64Error) return { error: `unable to decode verification HMAC as base64: ${mac.message}`, reference };
    if (parsed.version > key.latestVersion) return { error: "invalid HMAC: version is too new", reference };
    if (key.minDecryptionVersion > 0 && parsed.version < key.minDecryptionVersion) {
      return { error: "cannot verify HMAC: version is too old (disallowed by policy)", reference };
    }
    const hk = key.hmacKey(parsed.version);
    if (hk instanceof OpError) return { error: hk.message, reference };
    if (isBatch && injected(ctx)) return { error: INJECTED_ITEM_FAILURE, reference };
    return hmacEqual(computeHmac(alg, hk, input), mac) ? { valid: true, reference } : { reference };
  });
  if (!isBatch) {
    const r = results[0] as { valid?: boolean; error?: string };
    if (r.error !== undefined) return userError(r.error);
    return { kind: "data", data: { valid: r.valid === true } };
  }
  return { kind: "data", data: { batch_results: results } };
}

// ---------------------------------------------------------------------------------------------------
// export, config/keys

function exportKey(m: TransitMount, f: Fields): Result {
  const type = f.str("type");
  const version = f.str("version");
  if (!["encryption-key", "signing-key", "hmac-key", "public-key", "certificate-chain"].includes(type)) {
    return userError(`invalid export type: ${type}`);
  }
  const key = m.keys.get(f.str("name"));
  if (!key) return { kind: "nil" };
  if (!key.exportable && type !== "public-key" && type !== "certificate-chain") return userError("private key material is not exportable");
  if (type === "encryption-key" && !key.encryptionSupported) return userError("encryption not supported for the key");
  if (type === "signing-key" || type === "public-key" || type === "certificate-chain") return userError("signing not supported for the key");
  const kind = type as "encryption-key" | "hmac-key";
  const keys: Record<string, string> = {};
  if (version === "") {
    for (const v of key.workingVersions()) keys[String(v)] = key.exportKey(v, kind) as string;
  } else {
    let v: number | undefined;
    if (version === "latest") v = key.latestVersion;
    else {
      v = goAtoi(version.startsWith("v") ? version.slice(1) : version);
      if (v === undefined) return userError("invalid key version");
    }
    if (v < key.minDecryptionVersion) return userError("version for export is below minimum decryption version");
    const value = v <= key.latestVersion ? key.exportKey(v, kind) : undefined;
    if (value === undefined) return userError("version does not exist or cannot be found");
    keys[String(v)] = value;
  }
  return { kind: "data", data: { keys, name: key.name, type: key.type } };
}

function readConfigKeys(m: TransitMount): Result {
  return { kind: "data", data: { disable_upsert: m.disableUpsert } };
}

function writeConfigKeys(m: TransitMount, f: Fields, ctx: MountContext): Result {
  if (f.has("disable_upsert")) {
    m.disableUpsert = f.bool("disable_upsert");
    ctx.persist();
  }
  return readConfigKeys(m);
}

// ---------------------------------------------------------------------------------------------------
// routing

const S = "string" as const;
const B = "bool" as const;
const I = "int" as const;

const ROUTES: Route[] = [
  { re: /^keys\/?$/, captures: [], schema: { after: S, limit: I }, ops: { list: listKeys } },
  {
    re: new RegExp(`^keys/${NAME}$`),
    captures: ["name"],
    schema: {
      name: S, type: S, derived: B, convergent_encryption: B, exportable: B, allow_plaintext_backup: B,
      context: S, auto_rotate_period: "duration", key_size: I, managed_key_name: S, managed_key_id: S,
    },
    ops: { read: readKey, update: createKey, delete: deleteKey },
  },
  {
    re: new RegExp(`^keys/${NAME}/config$`),
    captures: ["name"],
    schema: {
      name: S, min_decryption_version: I, min_encryption_version: I, deletion_allowed: B, exportable: B,
      allow_plaintext_backup: B, auto_rotate_period: "duration",
    },
    ops: { update: configKey },
  },
  { re: new RegExp(`^keys/${NAME}/rotate$`), captures: ["name"], schema: { name: S, managed_key_name: S, managed_key_id: S }, ops: { update: rotateKey } },
  { re: new RegExp(`^keys/${NAME}/trim$`), captures: ["name"], schema: { name: S, min_available_version: I }, ops: { update: trimKey } },
  {
    re: new RegExp(`^encrypt/${NAME}$`),
    captures: ["name"],
    schema: {
      name: S, plaintext: S, context: S, nonce: S, type: S, convergent_encryption: B, key_version: I,
      associated_data: S, batch_input: "slice", partial_failure_response_code: I, padding_scheme: S,
    },
    ops: { update: encrypt },
  },
  {
    re: new RegExp(`^decrypt/${NAME}$`),
    captures: ["name"],
    schema: {
      name: S, ciphertext: S, context: S, nonce: S, associated_data: S, batch_input: "slice",
      partial_failure_response_code: I, padding_scheme: S,
    },
    ops: { update: decrypt },
  },
  {
    re: new RegExp(`^rewrap/${NAME}$`),
    captures: ["name"],
    schema: {
      name: S, ciphertext: S, context: S, nonce: S, key_version: I, batch_input: "slice",
      encrypt_padding_scheme: S, decrypt_padding_scheme: S,
    },
    ops: { update: rewrap },
  },
  {
    re: new RegExp(`^datakey/${NAME}/${NAME}$`),
    captures: ["plaintext", "name"],
    schema: { name: S, plaintext: S, context: S, nonce: S, bits: I, key_version: I, associated_data: S, padding_scheme: S },
    ops: { update: datakey },
  },
  {
    re: new RegExp(`^hmac/${NAME}${OPT}$`),
    captures: ["name", "urlalgorithm"],
    schema: { name: S, input: S, algorithm: S, urlalgorithm: S, key_version: I, batch_input: "slice" },
    ops: { update: hmacHandler },
  },
  {
    re: new RegExp(`^verify/${NAME}${OPT}$`),
    captures: ["name", "urlalgorithm"],
    schema: {
      name: S, context: S, input: S, hmac: S, signature: S, algorithm: S, urlalgorithm: S, hash_algorithm: S,
      signature_algorithm: S, marshaling_algorithm: S, prehashed: B, salt_length: S, batch_input: "slice",
      signature_context: S, key_version: I,
    },
    ops: { update: verifyHandler },
  },
  {
    re: new RegExp(`^export/${NAME}/${NAME}${OPT}$`),
    captures: ["type", "name", "version"],
    schema: { type: S, name: S, version: S, format: S },
    ops: { read: exportKey },
  },
  { re: /^config\/keys\/?$/, captures: [], schema: { disable_upsert: B }, ops: { read: readConfigKeys, update: writeConfigKeys } },
];

export interface MatchedRoute {
  schema: Schema;
  captures: Record<string, string>;
  handler: Handler | undefined;
}

/** Framework route lookup: undefined → 404 unsupported path; handler undefined → 405 unsupported operation. */
export function matchRoute(relPath: string, op: Operation): MatchedRoute | undefined {
  for (const r of ROUTES) {
    const m = r.re.exec(relPath);
    if (!m) continue;
    const captures: Record<string, string> = {};
    r.captures.forEach((name, i) => {
      captures[name] = m[i + 1] ?? "";
    });
    return { schema: r.schema, captures, handler: r.ops[op] };
  }
  return undefined;
}

export function runHandler(route: MatchedRoute, m: TransitMount, fields: Fields, ctx: MountContext): Result {
  return (route.handler as Handler)(m, fields, ctx);
}

/** Hourly-style auto-rotation (Vault checks at most once an hour; the caller picks the cadence). */
export function autoRotate(m: TransitMount, nowMs: number): boolean {
  let changed = false;
  for (const k of m.keys.values()) {
    if (k.autoRotatePeriod > 0 && nowMs > k.latestCreationMs() + k.autoRotatePeriod * 1000) {
      if (!k.rotate(nowMs)) changed = true;
    }
  }
  return changed;
}
