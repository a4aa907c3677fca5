import "server-only";
import type { Logger } from "pino";
import { logger as rootLogger } from "@/lib/log";
import { AppRoleAuth, StaticTokenRenewal } from "./auth";
import {
  assertKeyName,
  assertPositiveInt,
  ciphertextVersion,
  fromBase64,
  isObject,
  normaliseMount,
  parseKeyInfo,
  requestIdOf,
  toBase64,
  type TransitKeyInfo,
} from "./codec";
import { scrubVaultDetail, VaultBadRequestError, VaultProtocolError, VaultUnavailableError, type VaultOperation } from "./errors";
import { hasBatchResults, Transport, type RetryClass } from "./transport";

export type { TransitKeyInfo, TransitKeyVersion } from "./codec";

export interface VaultClientOptions {
  addr: string;
  token?: string;
  appRole?: { roleId: string; secretId: string; mount?: string };
  /** Default "transit". */
  transitMount?: string;
  namespace?: string;
  /** PEM of the CA(s) that sign Vault's TLS certificate (VAULT_CACERT); default Node's built-in roots. */
  caCert?: string;
  /** Per attempt. Default 10000. */
  timeoutMs?: number;
  /** Extra attempts for calls that are safe to repeat. Default 2. */
  retries?: number;
  /** Backoff base (full jitter, doubling, capped at 2 s). Default 100. */
  retryBaseDelayMs?: number;
  /** Larger batches are split into sequential requests of this size. Default 1000. */
  maxBatchSize?: number;
  logger?: Logger;
}

export type HmacAlgorithm = "sha2-256" | "sha2-512";

export type BatchItemResult =
  | { reference: string; ciphertext: string; keyVersion: number }
  | { reference: string; error: string };

export interface EncryptItem {
  plaintext: Uint8Array;
  context?: Uint8Array;
  reference?: string;
}

export interface RewrapItem {
  reference: string;
  ciphertext: string;
  context?: Uint8Array;
}

export interface VaultClient {
  health(): Promise<{ initialized: boolean; sealed: boolean; standby: boolean; version: string; serverTime: Date }>;
  /** [] when the mount has no keys (Vault answers 404 with an empty `errors` array then). */
  listKeys(): Promise<string[]>;
  /** Throws VaultNotFoundError. */
  readKey(name: string): Promise<TransitKeyInfo>;
  /** Vault's create is an upsert: an existing key is left unchanged and no error is raised. */
  createKey(
    name: string,
    opts?: { type?: string; derived?: boolean; exportable?: boolean; autoRotatePeriodSeconds?: number },
  ): Promise<void>;
  rotateKey(name: string): Promise<TransitKeyInfo>;
  configureKey(
    name: string,
    cfg: { minDecryptionVersion?: number; minEncryptionVersion?: number; deletionAllowed?: boolean; autoRotatePeriodSeconds?: number },
  ): Promise<TransitKeyInfo>;
  trimKey(name: string, minAvailableVersion: number): Promise<TransitKeyInfo>;
  /** Ingest and demo data only. Results in input order; items without a reference get their index as one. */
  encrypt(name: string, items: EncryptItem[], opts?: { keyVersion?: number }): Promise<BatchItemResult[]>;
  /** Ingest and demo data only. */
  generateDataKey(
    name: string,
    opts?: { context?: Uint8Array; bits?: 128 | 256 | 512 },
  ): Promise<{ plaintext: Uint8Array; ciphertext: string; keyVersion: number }>;
  /**
   * Re-encrypts inside Vault; plaintext never reaches this process. Results in input order, one per item,
   * each a new ciphertext or a per-item error (Vault answers 200 even when items fail).
   * `onRequestId` receives the Vault request id of each HTTP request (one per `maxBatchSize` chunk).
   */
  rewrapBatch(
    name: string,
    items: RewrapItem[],
    opts?: { keyVersion?: number; onRequestId?: (requestId: string) => void },
  ): Promise<BatchItemResult[]>;
  hmac(name: string, input: Uint8Array, opts?: { algorithm?: HmacAlgorithm; keyVersion?: number }): Promise<string>;
  /** A wrong MAC is `false`; a malformed one, or one below min_decryption_version, is a VaultBadRequestError. */
  verifyHmac(name: string, input: Uint8Array, hmac: string, opts?: { algorithm?: HmacAlgorithm }): Promise<boolean>;
  /**
   * Verifies many HMACs in one request per `maxBatchSize` items (Transit `batch_input`). Results in input order:
   * true/false, or a per-item error (a malformed MAC, a version the key does not have or no longer verifies).
   */
  verifyHmacBatch(
    name: string,
    items: { input: Uint8Array; hmac: string }[],
    opts?: { algorithm?: HmacAlgorithm },
  ): Promise<(boolean | { error: string })[]>;
  /** Stops renewal timers and closes idle keep-alive sockets. Later calls still work (without renewal). */
  close(): void;
}

const HMAC_ALGORITHMS: ReadonlySet<string> = new Set(["sha2-256", "sha2-512"]);
const KEY_TYPE = /^[a-z0-9-]+$/;

export function createVaultClient(opts: VaultClientOptions): VaultClient {
  const log = (opts.logger ?? rootLogger).child({ component: "vault" });
  const mount = normaliseMount(opts.transitMount ?? "transit", "transit");
  const maxBatchSize = opts.maxBatchSize ?? 1000;
  if (!Number.isSafeInteger(maxBatchSize) || maxBatchSize < 1) throw new TypeError("maxBatchSize must be a positive integer");
  if (!opts.token && !opts.appRole) throw new TypeError("Vault client needs a token or AppRole credentials");

  const transport = new Transport({
    addr: opts.addr,
    token: opts.appRole ? undefined : opts.token,
    namespace: opts.namespace,
    caCert: opts.caCert,
    timeoutMs: opts.timeoutMs ?? 10_000,
    retries: opts.retries ?? 2,
    retryBaseDelayMs: opts.retryBaseDelayMs ?? 100,
    retryMaxDelayMs: 2_000,
    logger: log,
  });
  const appRole = opts.appRole
    ? new AppRoleAuth(
        transport,
        { roleId: opts.appRole.roleId, secretId: opts.appRole.secretId, mount: normaliseMount(opts.appRole.mount ?? "approle", "auth") },
        log,
      )
    : undefined;
  const auth = appRole ?? new StaticTokenRenewal(transport, log);
  transport.auth = auth;

  const keyPath = (name: string, suffix = "") => `${mount}/keys/${name}${suffix}`;

  /** Create, rotate, config and trim answer 200 with the key (Vault ≥ 1.14) or 204 (older); read it then. */
  async function keyInfoOrRead(operation: VaultOperation, name: string, body: unknown): Promise<TransitKeyInfo> {
    if (isObject(body) && isObject(body.data) && body.data.latest_version !== undefined) return parseKeyInfo(operation, body, name);
    return readKey(name);
  }

  async function readKey(name: string): Promise<TransitKeyInfo> {
    assertKeyName("readKey", name);
    const body = await transport.send({ operation: "readKey", keyName: name, method: "GET", path: keyPath(name), retry: "idempotent" });
    return parseKeyInfo("readKey", body, name);
  }

  /**
   * Runs one batch operation over `maxBatchSize` chunks, sequentially (bounded load on Vault), and returns
   * results in input order. All-or-throw: if any chunk fails as a request, the call throws and the results
   * of earlier chunks are dropped — the caller persists nothing from a failed call and simply repeats it.
   */
  async function batch(
    operation: "encrypt" | "rewrapBatch",
    name: string,
    path: string,
    items: { reference: string; fields: Record<string, unknown> }[],
    retry: RetryClass,
    pinnedVersion: number | undefined,
    onRequestId?: (requestId: string) => void,
  ): Promise<BatchItemResult[]> {
    const seen = new Set<string>();
    for (const item of items) {
      if (seen.has(item.reference)) {
        throw new VaultBadRequestError("Batch references must be unique.", { operation, keyName: name, detail: "duplicate reference" });
      }
      seen.add(item.reference);
    }
    // Vault refuses the whole request when context is set on some items only; say so before sending.
    const withContext = items.filter((i) => i.fields.context !== undefined).length;
    if (withContext !== 0 && withContext !== items.length) {
      throw new VaultBadRequestError("Context must be set on every item or on none.", { operation, keyName: name, detail: "mixed context" });
    }

    const out: BatchItemResult[] = [];
    for (let start = 0; start < items.length; start += maxBatchSize) {
      const chunk = items.slice(start, start + maxBatchSize);
      // In batch mode Vault reads key_version from each item and ignores a top-level one (path_rewrap.go).
      const batchInput = chunk.map((i) => ({
        ...i.fields,
        reference: i.reference,
        ...(pinnedVersion !== undefined ? { key_version: pinnedVersion } : {}),
      }));
      const body = await transport.send({
        operation,
        keyName: name,
        method: "POST",
        path,
        body: { batch_input: batchInput },
        retry,
        batchBodyOnError: operation === "encrypt",
      });
      const requestId = requestIdOf(body);
      if (requestId && onRequestId) onRequestId(requestId);
      out.push(...matchResults(operation, name, chunk, body, pinnedVersion, requestId));
    }
    return out;
  }

  function matchResults(
    operation: VaultOperation,
    name: string,
    chunk: { reference: string }[],
    body: unknown,
    pinnedVersion: number | undefined,
    requestId: string | undefined,
  ): BatchItemResult[] {
    const fail = (why: string) =>
      new VaultProtocolError(`Vault returned an inconsistent batch answer (${why}); nothing from it was used.`, {
        operation,
        keyName: name,
        requestId,
      });
    if (!hasBatchResults(body)) throw fail("no batch_results");
    const results = body.data.batch_results;
    if (results.length !== chunk.length) throw fail(`${results.length} results for ${chunk.length} items`);
    // Vault keeps input order; the reference echo proves it per item. Index by reference, then emit in input
    // order, so a reordered answer is still matched correctly and a missing or foreign reference fails loudly.
    const byReference = new Map<string, Record<string, unknown>>();
    for (const r of results) {
      if (!isObject(r) || typeof r.reference !== "string") throw fail("result without reference");
      if (byReference.has(r.reference)) throw fail("duplicate reference in results");
      byReference.set(r.reference, r);
    }
    return chunk.map(({ reference }) => {
      const r = byReference.get(reference);
      if (!r) throw fail("a reference was not echoed");
      if (typeof r.error === "string" && r.error !== "") {
        return { reference, error: scrubVaultDetail(r.error) ?? "item failed" };
      }
      const ciphertext = r.ciphertext;
      const version = typeof ciphertext === "string" ? ciphertextVersion(ciphertext) : undefined;
      if (typeof ciphertext !== "string" || version === undefined) throw fail("malformed ciphertext");
      const keyVersion = typeof r.key_version === "number" ? r.key_version : version;
      if (keyVersion !== version) throw fail("key_version disagrees with the ciphertext");
      if (pinnedVersion !== undefined && keyVersion !== pinnedVersion) throw fail("result not on the requested key version");
      return { reference, ciphertext, keyVersion };
    });
  }

  const client: VaultClient = {
    async health() {
      const body = await transport.send({
        operation: "health",
        method: "GET",
        // Standbys are healthy for our purposes; a sealed or uninitialised Vault is reported, not thrown.
        path: "sys/health?standbyok=true&perfstandbyok=true",
        retry: "idempotent",
        authenticated: false,
      });
      if (!isObject(body) || typeof body.sealed !== "boolean" || typeof body.initialized !== "boolean") {
        // node-vault resolves any /sys/health answer; an error envelope here means a proxy or injected fault.
        const errors = isObject(body) && Array.isArray(body.errors) ? body.errors : [];
        if (errors.some((e) => typeof e === "string" && e.includes("Vault is sealed"))) {
          return { initialized: true, sealed: true, standby: false, version: "", serverTime: new Date() };
        }
        throw new VaultUnavailableError("Vault health check returned no status.", { operation: "health", reason: "server", outcomeUnknown: false });
      }
      return {
        initialized: body.initialized,
        sealed: body.sealed,
        standby: body.standby === true,
        version: typeof body.version === "string" ? body.version : "",
        serverTime: typeof body.server_time_utc === "number" ? new Date(body.server_time_utc * 1000) : new Date(),
      };
    },

    async listKeys() {
      const body = await transport.send({
        operation: "listKeys",
        method: "GET",
        path: `${mount}/keys?list=true`,
        retry: "idempotent",
        emptyNotFoundAsNull: true,
      });
      if (body === null) return [];
      const keys = isObject(body) && isObject(body.data) ? body.data.keys : undefined;
      if (!Array.isArray(keys) || !keys.every((k): k is string => typeof k === "string")) {
        throw new VaultProtocolError("Vault returned an unexpected key list.", { operation: "listKeys" });
      }
      return [...keys].sort();
    },

    readKey,

    async createKey(name, o = {}) {
      assertKeyName("createKey", name);
      if (o.type !== undefined && !KEY_TYPE.test(o.type)) {
        throw new VaultBadRequestError("Invalid key type.", { operation: "createKey", keyName: name, detail: "invalid key type" });
      }
      if (o.autoRotatePeriodSeconds !== undefined && (!Number.isSafeInteger(o.autoRotatePeriodSeconds) || o.autoRotatePeriodSeconds < 0)) {
        throw new VaultBadRequestError("Invalid auto-rotate period.", { operation: "createKey", keyName: name, detail: "autoRotatePeriodSeconds" });
      }
      await transport.send({
        operation: "createKey",
        keyName: name,
        method: "POST",
        path: keyPath(name),
        body: {
          ...(o.type !== undefined ? { type: o.type } : {}),
          ...(o.derived !== undefined ? { derived: o.derived } : {}),
          ...(o.exportable !== undefined ? { exportable: o.exportable } : {}),
          ...(o.autoRotatePeriodSeconds !== undefined ? { auto_rotate_period: o.autoRotatePeriodSeconds } : {}),
        },
        // Create is an upsert in Vault: sending it twice leaves one key with the first parameters.
        retry: "idempotent",
      });
    },

    async rotateKey(name) {
      assertKeyName("rotateKey", name);
      const body = await transport.send({
        operation: "rotateKey",
        keyName: name,
        method: "POST",
        path: keyPath(name, "/rotate"),
        body: {},
        retry: "unprocessed-only",
      });
      return keyInfoOrRead("rotateKey", name, body);
    },

    async configureKey(name, cfg) {
      assertKeyName("configureKey", name);
      assertPositiveInt("configureKey", "minDecryptionVersion", cfg.minDecryptionVersion);
      if (cfg.minEncryptionVersion !== undefined && (!Number.isSafeInteger(cfg.minEncryptionVersion) || cfg.minEncryptionVersion < 0)) {
        throw new VaultBadRequestError("Invalid minEncryptionVersion.", { operation: "configureKey", keyName: name, detail: "minEncryptionVersion" });
      }
      if (cfg.autoRotatePeriodSeconds !== undefined && (!Number.isSafeInteger(cfg.autoRotatePeriodSeconds) || cfg.autoRotatePeriodSeconds < 0)) {
        throw new VaultBadRequestError("Invalid auto-rotate period.", { operation: "configureKey", keyName: name, detail: "autoRotatePeriodSeconds" });
      }
      const body = await transport.send({
        operation: "configureKey",
        keyName: name,
        method: "POST",
        path: keyPath(name, "/config"),
        body: {
          ...(cfg.minDecryptionVersion !== undefined ? { min_decryption_version: cfg.minDecryptionVersion } : {}),
          ...(cfg.minEncryptionVersion !== undefined ? { min_encryption_version: cfg.minEncryptionVersion } : {}),
          ...(cfg.deletionAllowed !== undefined ? { deletion_allowed: cfg.deletionAllowed } : {}),
          ...(cfg.autoRotatePeriodSeconds !== undefined ? { auto_rotate_period: cfg.autoRotatePeriodSeconds } : {}),
        },
        // Same values twice would be harmless, but another officer's change in between would be overwritten.
        retry: "unprocessed-only",
      });
      return keyInfoOrRead("configureKey", name, body);
    },

    async trimKey(name, minAvailableVersion) {
      assertKeyName("trimKey", name);
      assertPositiveInt("trimKey", "minAvailableVersion", minAvailableVersion);
      const body = await transport.send({
        operation: "trimKey",
        keyName: name,
        method: "POST",
        path: keyPath(name, "/trim"),
        body: { min_available_version: minAvailableVersion },
        retry: "unprocessed-only",
      });
      return keyInfoOrRead("trimKey", name, body);
    },

    async encrypt(name, items, o = {}) {
      assertKeyName("encrypt", name);
      assertPositiveInt("encrypt", "keyVersion", o.keyVersion);
      if (items.length === 0) return [];
      const prepared = items.map((item, index) => ({
        reference: item.reference ?? String(index),
        fields: {
          plaintext: toBase64(item.plaintext),
          ...(item.context !== undefined ? { context: toBase64(item.context) } : {}),
        },
      }));
      // Not retried on ambiguous failures (brief): a lost answer means ciphertexts nobody stored, and a
      // retry would mask the failure from ingest, which must decide itself.
      return batch("encrypt", name, `${mount}/encrypt/${name}`, prepared, "unprocessed-only", o.keyVersion);
    },

    async generateDataKey(name, o = {}) {
      assertKeyName("generateDataKey", name);
      const bits = o.bits ?? 256;
      if (bits !== 128 && bits !== 256 && bits !== 512) {
        throw new VaultBadRequestError("Invalid data key size.", { operation: "generateDataKey", keyName: name, detail: "bits" });
      }
      const body = await transport.send({
        operation: "generateDataKey",
        keyName: name,
        method: "POST",
        path: `${mount}/datakey/plaintext/${name}`,
        body: { bits, ...(o.context !== undefined ? { context: toBase64(o.context) } : {}) },
        retry: "unprocessed-only",
      });
      const data = isObject(body) && isObject(body.data) ? body.data : undefined;
      const ciphertext = data?.ciphertext;
      const version = typeof ciphertext === "string" ? ciphertextVersion(ciphertext) : undefined;
      if (!data || typeof ciphertext !== "string" || version === undefined) {
        throw new VaultProtocolError("Vault returned an unexpected data key answer.", { operation: "generateDataKey", keyName: name });
      }
      const plaintext = fromBase64("generateDataKey", data.plaintext);
      if (plaintext.byteLength !== bits / 8) {
        throw new VaultProtocolError("Vault returned a data key of the wrong size.", { operation: "generateDataKey", keyName: name });
      }
      return { plaintext, ciphertext, keyVersion: typeof data.key_version === "number" ? data.key_version : version };
    },

    async rewrapBatch(name, items, o = {}) {
      assertKeyName("rewrapBatch", name);
      assertPositiveInt("rewrapBatch", "keyVersion", o.keyVersion);
      if (items.length === 0) return [];
      const prepared = items.map((item) => {
        if (typeof item.reference !== "string" || typeof item.ciphertext !== "string") {
          throw new VaultBadRequestError("Every rewrap item needs a reference and a ciphertext.", { operation: "rewrapBatch", keyName: name });
        }
        return {
          reference: item.reference,
          fields: { ciphertext: item.ciphertext, ...(item.context !== undefined ? { context: toBase64(item.context) } : {}) },
        };
      });
      // Retried like a read. Rewrap changes no state in Vault: it decrypts and re-encrypts in memory, so a
      // repeat only yields another valid ciphertext of the same plaintext (fresh nonce). The caller sees the
      // results of exactly one successful request, because results are returned only from the attempt that
      // answered; an earlier attempt whose answer was lost produced ciphertexts no one ever received or stored.
      // With no pinned version a retry after a concurrent rotate may land on the newer version; each result
      // reports its keyVersion, and campaign code pins the version anyway.
      return batch("rewrapBatch", name, `${mount}/rewrap/${name}`, prepared, "idempotent", o.keyVersion, o.onRequestId);
    },

    async hmac(name, input, o = {}) {
      assertKeyName("hmac", name);
      assertPositiveInt("hmac", "keyVersion", o.keyVersion);
      const algorithm = o.algorithm ?? "sha2-256";
      if (!HMAC_ALGORITHMS.has(algorithm)) {
        throw new VaultBadRequestError("Unsupported HMAC algorithm.", { operation: "hmac", keyName: name, detail: "algorithm" });
      }
      const body = await transport.send({
        operation: "hmac",
        keyName: name,
        method: "POST",
        path: `${mount}/hmac/${name}/${algorithm}`,
        body: { input: toBase64(input), ...(o.keyVersion !== undefined ? { key_version: o.keyVersion } : {}) },
        // Deterministic for a given key version and no state change: safe to repeat.
        retry: "idempotent",
      });
      const mac = isObject(body) && isObject(body.data) ? body.data.hmac : undefined;
      if (typeof mac !== "string" || ciphertextVersion(mac) === undefined) {
        throw new VaultProtocolError("Vault returned an unexpected HMAC answer.", { operation: "hmac", keyName: name });
      }
      return mac;
    },

    async verifyHmac(name, input, hmac, o = {}) {
      assertKeyName("verifyHmac", name);
      const algorithm = o.algorithm ?? "sha2-256";
      if (!HMAC_ALGORITHMS.has(algorithm)) {
        throw new VaultBadRequestError("Unsupported HMAC algorithm.", { operation: "verifyHmac", keyName: name, detail: "algorithm" });
      }
      if (typeof hmac !== "string") {
        throw new VaultBadRequestError("HMAC must be a string.", { operation: "verifyHmac", keyName: name });
      }
      const body = await transport.send({
        operation: "verifyHmac",
        keyName: name,
        method: "POST",
        path: `${mount}/verify/${name}/${algorithm}`,
        body: { input: toBase64(input), hmac },
        retry: "idempotent",
      });
      const valid = isObject(body) && isObject(body.data) ? body.data.valid : undefined;
      if (typeof valid !== "boolean") {
        throw new VaultProtocolError("Vault returned an unexpected verification answer.", { operation: "verifyHmac", keyName: name });
      }
      return valid;
    },

    async verifyHmacBatch(name, items, o = {}) {
      assertKeyName("verifyHmac", name);
      const algorithm = o.algorithm ?? "sha2-256";
      if (!HMAC_ALGORITHMS.has(algorithm)) {
        throw new VaultBadRequestError("Unsupported HMAC algorithm.", { operation: "verifyHmac", keyName: name, detail: "algorithm" });
      }
      const out: (boolean | { error: string })[] = [];
      for (let start = 0; start < items.length; start += maxBatchSize) {
        const chunk = items.slice(start, start + maxBatchSize);
        const body = await transport.send({
          operation: "verifyHmac",
          keyName: name,
          method: "POST",
          path: `${mount}/verify/${name}/${algorithm}`,
          body: {
            batch_input: chunk.map((it, i) => {
              if (typeof it.hmac !== "string") {
                throw new VaultBadRequestError("HMAC must be a string.", { operation: "verifyHmac", keyName: name });
              }
              return { input: toBase64(it.input), hmac: it.hmac, reference: String(start + i) };
            }),
          },
          retry: "idempotent",
        });
        const fail = (why: string) =>
          new VaultProtocolError(`Vault returned an inconsistent verification answer (${why}).`, { operation: "verifyHmac", keyName: name });
        if (!hasBatchResults(body)) throw fail("no batch_results");
        const results = body.data.batch_results;
        if (results.length !== chunk.length) throw fail(`${results.length} results for ${chunk.length} items`);
        const byReference = new Map<string, Record<string, unknown>>();
        for (const r of results) {
          if (!isObject(r) || typeof r.reference !== "string") throw fail("result without reference");
          byReference.set(r.reference, r);
        }
        for (let i = 0; i < chunk.length; i++) {
          const r = byReference.get(String(start + i));
          if (!r) throw fail("a reference was not echoed");
          if (typeof r.error === "string" && r.error !== "") out.push({ error: scrubVaultDetail(r.error) ?? "item failed" });
          else out.push(r.valid === true);
        }
      }
      return out;
    },

    close() {
      auth.close();
      transport.destroy();
    },
  };
  return client;
}
