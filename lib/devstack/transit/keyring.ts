/**
 * Transit named keys: versions, policy floors and the symmetric crypto, following Vault's
 * `sdk/helper/keysutil/policy.go` closely enough that ciphertexts and exported keys are interchangeable
 * with real Vault (`vault:v<N>:` + base64(nonce12 ‖ ct ‖ tag16), HKDF-SHA256 derivation, convergent v3).
 *
 * Hot path notes: imported KeyObjects and derived keys are cached per version so per-item work is one
 * cipher init plus the AEAD itself; nonces are sliced from a pooled CSPRNG buffer (each byte used once).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  randomBytes,
  randomFillSync,
  timingSafeEqual,
  type KeyObject,
} from "node:crypto";
import { decodeBase64Std } from "./base64.js";

export type KeyType = "aes128-gcm96" | "aes256-gcm96" | "chacha20-poly1305" | "hmac";

export const ALL_VAULT_KEY_TYPES = new Set([
  "aes128-gcm96", "aes256-gcm96", "chacha20-poly1305", "xchacha20-poly1305", "ecdsa-p256", "ecdsa-p384",
  "ecdsa-p521", "ed25519", "rsa-2048", "rsa-3072", "rsa-4096", "hmac", "managed_key",
]);
export const SUPPORTED_KEY_TYPES = new Set<string>(["aes128-gcm96", "aes256-gcm96", "chacha20-poly1305", "hmac"]);

/** An operation failure. `internal` maps to Vault's errutil.InternalError (HTTP 500), else a user error. */
export class OpError {
  constructor(readonly message: string, readonly internal = false) {}
}

export const ERR_MISSING_CONTEXT =
  "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key";

const NONCE_LEN = 12;
const TAG_LEN = 16;
const NONCE_POOL_SIZE = NONCE_LEN * 4096;
let noncePool = randomBytes(NONCE_POOL_SIZE);
let noncePos = 0;

function writeRandomNonce(dst: Buffer): void {
  if (noncePos + NONCE_LEN > NONCE_POOL_SIZE) {
    noncePool = randomFillSync(Buffer.allocUnsafe(NONCE_POOL_SIZE));
    noncePos = 0;
  }
  noncePool.copy(dst, 0, noncePos, noncePos + NONCE_LEN);
  noncePos += NONCE_LEN;
}

/** RFC 5869 HKDF-SHA256 with empty salt. Hand-rolled because Node's hkdfSync caps `info` at 1024 bytes and Vault does not. */
export function hkdfSha256(ikm: Buffer, info: Buffer, length: number): Buffer {
  const prk = createHmac("sha256", Buffer.alloc(32)).update(ikm).digest();
  const out = Buffer.allocUnsafe(length);
  let prev = Buffer.alloc(0);
  let filled = 0;
  for (let i = 1; filled < length; i++) {
    prev = createHmac("sha256", prk).update(prev).update(info).update(Buffer.of(i)).digest();
    filled += prev.copy(out, filled);
  }
  return out;
}

interface KeyEntry {
  key: Buffer;
  hmacKey: Buffer;
  /** Unix seconds; what Vault reports in `keys` for symmetric keys. */
  time: number;
  keyObject?: KeyObject;
}

export interface KeyState {
  name: string;
  type: KeyType;
  derived: boolean;
  convergent: boolean;
  exportable: boolean;
  allowPlaintextBackup: boolean;
  deletionAllowed: boolean;
  latestVersion: number;
  minDecryptionVersion: number;
  minEncryptionVersion: number;
  minAvailableVersion: number;
  autoRotatePeriod: number;
  keySize: number;
}

export interface StoredKey extends KeyState {
  versions: Record<string, { key: string; hmac_key: string; time: number }>;
}

export const HASH_ALGORITHMS: Record<string, string> = {
  "sha2-224": "sha224", "sha2-256": "sha256", "sha2-384": "sha384", "sha2-512": "sha512",
  "sha3-224": "sha3-224", "sha3-256": "sha3-256", "sha3-384": "sha3-384", "sha3-512": "sha3-512",
};

const DERIVED_CACHE_MAX = 4096;

export class TransitKey implements KeyState {
  name = "";
  type: KeyType = "aes256-gcm96";
  derived = false;
  convergent = false;
  exportable = false;
  allowPlaintextBackup = false;
  deletionAllowed = false;
  latestVersion = 0;
  minDecryptionVersion = 1;
  minEncryptionVersion = 0;
  minAvailableVersion = 0;
  autoRotatePeriod = 0;
  keySize = 0;
  /** Every version not yet trimmed, including archived ones below min_decryption_version. */
  readonly versions = new Map<number, KeyEntry>();
  private readonly derivedCache = new Map<string, Buffer>();

  static create(init: Partial<KeyState> & { name: string }): TransitKey | OpError {
    const k = new TransitKey();
    Object.assign(k, init);
    const err = k.rotate();
    return err ?? k;
  }

  get encryptionSupported(): boolean {
    return this.type !== "hmac";
  }

  get encKeyLength(): number {
    return this.type === "aes128-gcm96" ? 16 : 32;
  }

  // Typed as the GCM name so one createCipheriv overload (with authTagLength) covers all three AEADs.
  private get cipherName(): "aes-256-gcm" {
    return (this.type === "aes128-gcm96" ? "aes-128-gcm" : this.type === "chacha20-poly1305" ? "chacha20-poly1305" : "aes-256-gcm") as "aes-256-gcm";
  }

  private get authFailedMessage(): string {
    return this.type === "chacha20-poly1305" ? "chacha20poly1305: message authentication failed" : "cipher: message authentication failed";
  }

  rotate(nowMs = Date.now()): OpError | undefined {
    let key: Buffer;
    if (this.type === "hmac") {
      if (this.keySize < 32 || this.keySize > 512) {
        return new OpError("invalid key size for HMAC key, must be between 32 and 512 bytes", true);
      }
      key = randomBytes(this.keySize);
    } else {
      key = randomBytes(this.encKeyLength);
    }
    this.latestVersion += 1;
    this.versions.set(this.latestVersion, { key, hmacKey: randomBytes(32), time: Math.floor(nowMs / 1000) });
    return undefined;
  }

  /** Versions in the working set (min_decryption_version..latest), the only ones Vault shows or uses. */
  workingVersions(): number[] {
    const out: number[] = [];
    for (let v = Math.max(1, this.minDecryptionVersion); v <= this.latestVersion; v++) if (this.versions.has(v)) out.push(v);
    return out;
  }

  /** Deletes versions below the new floor for good (Vault's trim). */
  trimTo(minAvailable: number): void {
    this.minAvailableVersion = minAvailable;
    for (const v of [...this.versions.keys()]) if (v < minAvailable) this.versions.delete(v);
    this.derivedCache.clear();
  }

  private entry(ver: number): KeyEntry | OpError {
    const e = ver >= this.minDecryptionVersion ? this.versions.get(ver) : undefined;
    return e ?? new OpError("no such key version");
  }

  /** Vault's GetKey: raw key for non-derived keys, HKDF(key, context) otherwise. */
  private encKey(ver: number, context: Buffer | null, numBytes: number): KeyObject | Buffer | OpError {
    const e = this.entry(ver);
    if (e instanceof OpError) return e;
    if (!this.derived) {
      e.keyObject ??= createSecretKey(e.key);
      return e.keyObject;
    }
    if (context === null || context.length === 0) return new OpError(ERR_MISSING_CONTEXT);
    const cacheKey = `${ver}:${numBytes}:${context.toString("base64")}`;
    let k = this.derivedCache.get(cacheKey);
    if (k === undefined) {
      k = hkdfSha256(e.key, context, numBytes);
      if (this.derivedCache.size >= DERIVED_CACHE_MAX) this.derivedCache.clear();
      this.derivedCache.set(cacheKey, k);
    }
    return k;
  }

  private checkEncryptVersion(ver: number): number | OpError {
    if (ver === 0) return this.latestVersion;
    if (ver < 0) return new OpError("requested version for encryption is negative");
    if (ver > this.latestVersion) return new OpError("requested version for encryption is higher than the latest key version");
    if (ver < this.minEncryptionVersion) return new OpError("requested version for encryption is less than the minimum encryption key version");
    return ver;
  }

  /** Encrypts raw plaintext bytes; returns the `vault:vN:` string. */
  encrypt(plaintext: Buffer, requestedVersion: number, context: Buffer | null, aad: Buffer | null): { ciphertext: string; version: number } | OpError {
    if (!this.encryptionSupported) return new OpError(`message encryption not supported for key type ${this.type}`);
    const ver = this.checkEncryptVersion(requestedVersion);
    if (ver instanceof OpError) return ver;
    const encLen = this.encKeyLength;
    const convergent = this.convergent && this.derived;
    const material = this.encKey(ver, context, convergent ? encLen + 32 : encLen);
    if (material instanceof OpError) return material;
    let key: KeyObject | Buffer = material;
    const out = Buffer.allocUnsafe(NONCE_LEN + plaintext.length + TAG_LEN);
    if (convergent) {
      const buf = material as Buffer;
      key = buf.subarray(0, encLen);
      // Convergent v3: nonce = HMAC-SHA256(derived hmac key, plaintext)[:12], so equal inputs give equal output.
      createHmac("sha256", buf.subarray(encLen)).update(plaintext).digest().copy(out, 0, 0, NONCE_LEN);
    } else {
      writeRandomNonce(out);
    }
    const cipher = createCipheriv(this.cipherName, key, out.subarray(0, NONCE_LEN), { authTagLength: TAG_LEN });
    if (aad !== null) cipher.setAAD(aad);
    const n = cipher.update(plaintext).copy(out, NONCE_LEN);
    cipher.final();
    cipher.getAuthTag().copy(out, NONCE_LEN + n);
    return { ciphertext: `vault:v${ver}:${out.toString("base64")}`, version: ver };
  }

  /** Parses and opens a `vault:vN:` ciphertext, with Vault's check order and messages. */
  decrypt(value: string, context: Buffer | null, aad: Buffer | null): Buffer | OpError {
    if (!this.encryptionSupported) return new OpError(`message decryption not supported for key type ${this.type}`);
    const parsed = parseVersioned(value, "invalid ciphertext");
    if (parsed instanceof OpError) return parsed;
    let ver = parsed.version;
    if (ver === 0) ver = 1;
    if (ver > this.latestVersion) return new OpError("invalid ciphertext: version is too new");
    if (this.minDecryptionVersion > 0 && ver < this.minDecryptionVersion) {
      return new OpError("ciphertext or signature version is disallowed by policy (too old)");
    }
    const decoded = decodeBase64Std(parsed.payload);
    if (!(decoded instanceof Buffer)) return new OpError("invalid ciphertext: could not decode base64");
    const encLen = this.encKeyLength;
    const material = this.encKey(ver, context, this.convergent && this.derived ? encLen + 32 : encLen);
    if (material instanceof OpError) return material;
    const key = this.convergent && this.derived ? (material as Buffer).subarray(0, encLen) : material;
    if (decoded.length < NONCE_LEN) return new OpError("invalid ciphertext length");
    if (decoded.length < NONCE_LEN + TAG_LEN) return new OpError(this.authFailedMessage);
    const tagStart = decoded.length - TAG_LEN;
    const decipher = createDecipheriv(this.cipherName, key, decoded.subarray(0, NONCE_LEN), { authTagLength: TAG_LEN });
    decipher.setAuthTag(decoded.subarray(tagStart));
    if (aad !== null) decipher.setAAD(aad);
    const plain = decipher.update(decoded.subarray(NONCE_LEN, tagStart));
    try {
      decipher.final();
    } catch {
      return new OpError(this.authFailedMessage);
    }
    return plain;
  }

  /** The per-version HMAC secret (the key itself for `hmac` keys). Mirrors Policy.HMACKey. */
  hmacKey(ver: number): Buffer | OpError {
    if (ver < this.minDecryptionVersion) {
      return new OpError(`key version disallowed by policy (minimum is ${this.minDecryptionVersion})`);
    }
    if (ver > this.latestVersion) return new OpError(`key version does not exist; latest key version is ${this.latestVersion}`);
    const e = this.versions.get(ver);
    if (!e) return new OpError("no HMAC key exists for that key version");
    return this.type === "hmac" ? e.key : e.hmacKey;
  }

  exportKey(ver: number, kind: "encryption-key" | "hmac-key"): string | undefined {
    const e = this.versions.get(ver);
    if (!e) return undefined;
    return (kind === "encryption-key" ? e.key : this.type === "hmac" ? e.key : e.hmacKey).toString("base64");
  }

  /** KeyInfo as Vault's formatKeyPolicy builds it (keys sorted as Go's JSON encoder sorts map keys). */
  info(): Record<string, unknown> {
    const d: Record<string, unknown> = {
      allow_plaintext_backup: this.allowPlaintextBackup,
      auto_rotate_period: this.autoRotatePeriod,
      deletion_allowed: this.deletionAllowed,
      derived: this.derived,
      exportable: this.exportable,
      imported_key: false,
      latest_version: this.latestVersion,
      min_available_version: this.minAvailableVersion,
      min_decryption_version: this.minDecryptionVersion,
      min_encryption_version: this.minEncryptionVersion,
      name: this.name,
      supports_decryption: this.encryptionSupported,
      supports_derivation: this.encryptionSupported,
      supports_encryption: this.encryptionSupported,
      supports_signing: false,
      type: this.type,
    };
    if (this.keySize !== 0) d["key_size"] = this.keySize;
    if (this.derived) {
      d["kdf"] = "hkdf_sha256";
      d["convergent_encryption"] = this.convergent;
      if (this.convergent) d["convergent_encryption_version"] = -1;
    }
    if (this.type !== "hmac") {
      const keys: Record<string, number> = {};
      for (const v of this.workingVersions()) keys[String(v)] = (this.versions.get(v) as KeyEntry).time;
      d["keys"] = keys;
    }
    return Object.fromEntries(Object.entries(d).sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  latestCreationMs(): number {
    return ((this.versions.get(this.latestVersion)?.time ?? 0) * 1000);
  }

  toStored(): StoredKey {
    const versions: StoredKey["versions"] = {};
    for (const [v, e] of this.versions) versions[String(v)] = { key: e.key.toString("base64"), hmac_key: e.hmacKey.toString("base64"), time: e.time };
    return {
      name: this.name, type: this.type, derived: this.derived, convergent: this.convergent, exportable: this.exportable,
      allowPlaintextBackup: this.allowPlaintextBackup, deletionAllowed: this.deletionAllowed, latestVersion: this.latestVersion,
      minDecryptionVersion: this.minDecryptionVersion, minEncryptionVersion: this.minEncryptionVersion,
      minAvailableVersion: this.minAvailableVersion, autoRotatePeriod: this.autoRotatePeriod, keySize: this.keySize, versions,
    };
  }

  static fromStored(s: StoredKey): TransitKey {
    const k = new TransitKey();
    const { versions, ...state } = s;
    Object.assign(k, state);
    for (const [v, e] of Object.entries(versions)) {
      k.versions.set(Number(v), { key: Buffer.from(e.key, "base64"), hmacKey: Buffer.from(e.hmac_key, "base64"), time: e.time });
    }
    return k;
  }

  /** Test seam: install known key material for a version (known-answer tests). */
  setVersionMaterial(ver: number, key: Buffer, hmacKey: Buffer): void {
    const e = this.versions.get(ver);
    if (!e) throw new Error(`no version ${ver}`);
    e.key = key;
    e.hmacKey = hmacKey;
    delete e.keyObject;
    this.derivedCache.clear();
  }
}

/** Splits `vault:v<N>:<payload>` (also used for HMAC strings, with their own message prefix). */
export function parseVersioned(value: string, what: "invalid ciphertext" | "invalid HMAC"): { version: number; payload: string } | OpError {
  if (!value.startsWith("vault:v")) {
    return new OpError(what === "invalid ciphertext" ? "invalid ciphertext: no prefix" : "invalid HMAC to verify: no prefix");
  }
  const sep = value.indexOf(":", 7);
  if (sep < 0) return new OpError(`${what}: wrong number of fields`);
  const version = goAtoi(value.slice(7, sep));
  if (version === undefined) return new OpError(`${what}: version number could not be decoded`);
  return { version, payload: value.slice(sep + 1) };
}

/** strconv.Atoi: optional sign, decimal digits, int64 range. */
export function goAtoi(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  if (Math.abs(n) > 9223372036854775807) return undefined;
  return n;
}

export function computeHmac(alg: string, key: Buffer, input: Buffer): Buffer {
  return createHmac(alg, key).update(input).digest();
}

export function hmacEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
