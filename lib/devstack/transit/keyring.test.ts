import { createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ERR_MISSING_CONTEXT, OpError, TransitKey, computeHmac, hkdfSha256, parseVersioned } from "./keyring";

function mk(init: Partial<TransitKey> = {}): TransitKey {
  const k = TransitKey.create({ name: "k", ...init });
  if (k instanceof OpError) throw new Error(k.message);
  return k;
}
function enc(k: TransitKey, pt: Buffer, ver = 0, ctx: Buffer | null = null, aad: Buffer | null = null): string {
  const r = k.encrypt(pt, ver, ctx, aad);
  if (r instanceof OpError) throw new Error(r.message);
  return r.ciphertext;
}
const msg = (r: unknown) => (r instanceof OpError ? r.message : "ok");

describe("hkdfSha256", () => {
  it("matches RFC 5869 test case 3 (empty salt and info)", () => {
    const okm = hkdfSha256(Buffer.alloc(22, 0x0b), Buffer.alloc(0), 42);
    expect(okm.toString("hex")).toBe("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
  });
  it("matches Node's hkdfSync and also allows info longer than 1024 bytes", () => {
    const ikm = randomBytes(32);
    const info = randomBytes(100);
    expect(hkdfSha256(ikm, info, 64)).toEqual(Buffer.from(hkdfSync("sha256", ikm, Buffer.alloc(0), info, 64)));
    expect(hkdfSha256(ikm, randomBytes(5000), 32)).toHaveLength(32);
  });
});

describe("ciphertext format", () => {
  it.each(["aes256-gcm96", "aes128-gcm96", "chacha20-poly1305"] as const)("%s is vault:vN: + base64(nonce12 | ct | tag16) under the raw key", (type) => {
    const k = mk({ type });
    const pt = Buffer.from("the quick brown fox");
    const ct = enc(k, pt);
    expect(ct).toMatch(/^vault:v1:[A-Za-z0-9+/]+={0,2}$/);
    const raw = Buffer.from(ct.slice("vault:v1:".length), "base64");
    expect(raw.length).toBe(pt.length + 28);
    const key = Buffer.from(k.exportKey(1, "encryption-key") as string, "base64");
    expect(key.length).toBe(type === "aes128-gcm96" ? 16 : 32);
    const algo = type === "aes128-gcm96" ? "aes-128-gcm" : type === "chacha20-poly1305" ? "chacha20-poly1305" : "aes-256-gcm";
    const d = createDecipheriv(algo as "aes-256-gcm", key, raw.subarray(0, 12), { authTagLength: 16 });
    d.setAuthTag(raw.subarray(raw.length - 16));
    expect(Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()])).toEqual(pt);
    expect(enc(k, pt)).not.toBe(ct); // random nonce
  });

  it("binds associated data", () => {
    const k = mk();
    const ct = enc(k, Buffer.from("x"), 0, null, Buffer.from("aad"));
    expect(k.decrypt(ct, null, Buffer.from("aad"))).toEqual(Buffer.from("x"));
    expect(msg(k.decrypt(ct, null, null))).toBe("cipher: message authentication failed");
    const c = mk({ type: "chacha20-poly1305" });
    const cct = enc(c, Buffer.from("x"), 0, null, Buffer.from("a"));
    expect(msg(c.decrypt(cct, null, Buffer.from("b")))).toBe("chacha20poly1305: message authentication failed");
  });

  it("derives per-context keys with HKDF-SHA256(key, info=context)", () => {
    const k = mk({ derived: true });
    const ctx = Buffer.from("tenant-1");
    const ct = enc(k, Buffer.from("secret"), 0, ctx);
    expect(k.decrypt(ct, ctx, null)).toEqual(Buffer.from("secret"));
    expect(msg(k.decrypt(ct, Buffer.from("tenant-2"), null))).toBe("cipher: message authentication failed");
    expect(msg(k.decrypt(ct, null, null))).toBe(ERR_MISSING_CONTEXT);
    expect(msg(k.encrypt(Buffer.from("x"), 0, null, null))).toBe(ERR_MISSING_CONTEXT);
    const derived = hkdfSha256(Buffer.from(k.exportKey(1, "encryption-key") as string, "base64"), ctx, 32);
    const raw = Buffer.from(ct.slice(9), "base64");
    const d = createDecipheriv("aes-256-gcm", derived, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(raw.length - 16));
    expect(Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString()).toBe("secret");
  });

  it("convergent keys give equal ciphertexts for equal (context, plaintext)", () => {
    const k = mk({ derived: true, convergent: true });
    const a = Buffer.from("c1");
    expect(enc(k, Buffer.from("p"), 0, a)).toBe(enc(k, Buffer.from("p"), 0, a));
    expect(enc(k, Buffer.from("p"), 0, a)).not.toBe(enc(k, Buffer.from("p"), 0, Buffer.from("c2")));
    expect(k.decrypt(enc(k, Buffer.from("p"), 0, a), a, null)).toEqual(Buffer.from("p"));
  });
});

describe("versions and decrypt checks", () => {
  it("applies Vault's check order and messages", () => {
    const k = mk();
    k.rotate();
    k.rotate();
    const v1 = enc(k, Buffer.from("a"), 1);
    expect(v1.startsWith("vault:v1:")).toBe(true);
    expect(msg(k.decrypt("nope", null, null))).toBe("invalid ciphertext: no prefix");
    expect(msg(k.decrypt("vault:v1", null, null))).toBe("invalid ciphertext: wrong number of fields");
    expect(msg(k.decrypt("vault:vX:abc", null, null))).toBe("invalid ciphertext: version number could not be decoded");
    expect(msg(k.decrypt("vault:v9:AAAA", null, null))).toBe("invalid ciphertext: version is too new");
    expect(msg(k.decrypt("vault:v1:abc", null, null))).toBe("invalid ciphertext: could not decode base64");
    expect(msg(k.decrypt("vault:v1:AAAA", null, null))).toBe("invalid ciphertext length");
    expect(msg(k.decrypt(`vault:v0:${v1.slice(9)}`, null, null))).toBe("ok"); // v0 means v1
    k.minDecryptionVersion = 2;
    expect(msg(k.decrypt(v1, null, null))).toBe("ciphertext or signature version is disallowed by policy (too old)");
    expect(msg(k.encrypt(Buffer.from("a"), 1, null, null))).toBe("no such key version");
    expect(msg(k.encrypt(Buffer.from("a"), -1, null, null))).toBe("requested version for encryption is negative");
    expect(msg(k.encrypt(Buffer.from("a"), 4, null, null))).toBe("requested version for encryption is higher than the latest key version");
    k.minEncryptionVersion = 3;
    expect(msg(k.encrypt(Buffer.from("a"), 2, null, null))).toBe("requested version for encryption is less than the minimum encryption key version");
    expect(Object.keys(k.info()["keys"] as object)).toEqual(["2", "3"]);
    k.minDecryptionVersion = 1;
    expect(k.decrypt(v1, null, null)).toEqual(Buffer.from("a")); // lowering the floor restores access
    k.trimTo(2);
    expect([...k.versions.keys()]).toEqual([2, 3]);
  });

  it("parses versioned strings like strconv.Atoi", () => {
    expect(parseVersioned("vault:v+2:x", "invalid ciphertext")).toEqual({ version: 2, payload: "x" });
    expect(msg(parseVersioned("vault:v 2:x", "invalid HMAC"))).toBe("invalid HMAC: version number could not be decoded");
  });

  it("hmac uses the per-version HMAC key (known answer from Vault's path_hmac_test.go)", () => {
    const k = mk();
    k.setVersionMaterial(1, randomBytes(32), Buffer.from("01234567890123456789012345678901"));
    const hk = k.hmacKey(1) as Buffer;
    expect(computeHmac("sha256", hk, Buffer.from("the quick brown fox")).toString("base64")).toBe("UcBvm5VskkukzZHlPgm3p5P/Yr/PV6xpuOGZISya3A4=");
    expect(computeHmac("sha256", hk, Buffer.alloc(0)).toString("base64")).toBe("BCfVv6rlnRsIKpjCZCxWvh5iYwSSabRXpX9XJniuNgc=");
    expect(msg(k.hmacKey(2))).toBe("key version does not exist; latest key version is 1");
  });

  it("hmac keys need a key size in 32..512 and cannot encrypt", () => {
    expect(msg(TransitKey.create({ name: "h", type: "hmac" }))).toBe("invalid key size for HMAC key, must be between 32 and 512 bytes");
    const h = mk({ type: "hmac", keySize: 64 });
    expect((h.hmacKey(1) as Buffer).length).toBe(64);
    expect(msg(h.encrypt(Buffer.from("x"), 0, null, null))).toBe("message encryption not supported for key type hmac");
    expect(h.info()).not.toHaveProperty("keys");
  });

  it("survives a stored round trip", () => {
    const k = mk({ derived: true, exportable: true });
    k.rotate();
    const ct = enc(k, Buffer.from("z"), 0, Buffer.from("c"));
    const back = TransitKey.fromStored(JSON.parse(JSON.stringify(k.toStored())));
    expect(back.decrypt(ct, Buffer.from("c"), null)).toEqual(Buffer.from("z"));
    expect(back.info()).toEqual(k.info());
  });
});
