/**
 * Conformance: the ciphertext byte layout, checked with node:crypto against exported keys (reference §2.15,
 * §4.1–4.4). `vault:v<N>:` + base64(nonce 12 ‖ AEAD ciphertext ‖ tag 16); derived keys use HKDF-SHA256 with an
 * empty salt and info = context; convergent v3 keys take the nonce from HMAC-SHA256 over the plaintext.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  b64,
  createKey,
  decrypt,
  encrypt,
  exportKey,
  parseCiphertext,
  rotate,
  useTransitMount,
} from "./harness";

const ctx = useTransitMount();

type KeyType = "aes256-gcm96" | "aes128-gcm96" | "chacha20-poly1305";
const NONCE = 12;
const TAG = 16;

function seal(type: KeyType, key: Buffer, nonce: Buffer, plaintext: Buffer, aad?: Buffer): Buffer {
  const cipher =
    type === "chacha20-poly1305"
      ? createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG })
      : createCipheriv(type === "aes256-gcm96" ? "aes-256-gcm" : "aes-128-gcm", key, nonce, { authTagLength: TAG });
  if (aad) cipher.setAAD(aad, { plaintextLength: plaintext.length });
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

function open(type: KeyType, key: Buffer, payload: Buffer, aad?: Buffer): Buffer {
  const nonce = payload.subarray(0, NONCE);
  const tag = payload.subarray(payload.length - TAG);
  const body = payload.subarray(NONCE, payload.length - TAG);
  const decipher =
    type === "chacha20-poly1305"
      ? createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG })
      : createDecipheriv(type === "aes256-gcm96" ? "aes-256-gcm" : "aes-128-gcm", key, nonce, { authTagLength: TAG });
  if (aad) decipher.setAAD(aad, { plaintextLength: body.length });
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]);
}

const hkdf = (ikm: Buffer, context: Buffer, length: number) =>
  Buffer.from(hkdfSync("sha256", ikm, Buffer.alloc(0), context, length));

async function exportedKey(name: string, version = "1"): Promise<Buffer> {
  const k = (await exportKey(ctx, name))[version];
  if (!k) throw new Error(`export of ${name} has no version ${version}`);
  return k;
}

describe.each<[KeyType, number]>([
  ["aes256-gcm96", 32],
  ["aes128-gcm96", 16],
  ["chacha20-poly1305", 32],
])("%s, non-derived (§4.2)", (type, keyLen) => {
  it("server ciphertext opens locally with the exported key (nonce 12 ‖ ct ‖ tag 16)", async () => {
    const name = await createKey(ctx, { type, exportable: true });
    const message = `server → local for ${type}`;
    const ct = await encrypt(ctx, name, message);
    const { version, payload } = parseCiphertext(ct);
    expect(version).toBe(1);
    expect(payload.length).toBe(Buffer.byteLength(message) + NONCE + TAG);
    const key = await exportedKey(name);
    expect(key.length).toBe(keyLen);
    expect(open(type, key, payload).toString("utf8")).toBe(message);
  });

  it("a locally built vault:v1: ciphertext decrypts on the server", async () => {
    const name = await createKey(ctx, { type, exportable: true });
    const key = await exportedKey(name);
    const message = `local → server for ${type}`;
    const payload = seal(type, key, randomBytes(NONCE), Buffer.from(message));
    expect(await decrypt(ctx, name, `vault:v1:${payload.toString("base64")}`)).toBe(message);
  });

  it("associated_data is the AEAD AAD, in both directions", async () => {
    const name = await createKey(ctx, { type, exportable: true });
    const key = await exportedKey(name);
    const aad = Buffer.from("record-7");
    const ct = await encrypt(ctx, name, "with aad", { associated_data: aad.toString("base64") });
    expect(open(type, key, parseCiphertext(ct).payload, aad).toString()).toBe("with aad");
    expect(() => open(type, key, parseCiphertext(ct).payload)).toThrow();
    const local = seal(type, key, randomBytes(NONCE), Buffer.from("local aad"), aad);
    expect(
      await decrypt(ctx, name, `vault:v1:${local.toString("base64")}`, { associated_data: aad.toString("base64") }),
    ).toBe("local aad");
  });
});

describe("versions (§4.1)", () => {
  it("vault:v2: ciphertexts use exported key version 2, not 1", async () => {
    const name = await createKey(ctx, { exportable: true });
    await rotate(ctx, name);
    const ct = await encrypt(ctx, name, "second version");
    const { version, payload } = parseCiphertext(ct);
    expect(version).toBe(2);
    const keys = await exportKey(ctx, name);
    expect(open("aes256-gcm96", keys["2"] ?? Buffer.alloc(32), payload).toString()).toBe("second version");
    expect(() => open("aes256-gcm96", keys["1"] ?? Buffer.alloc(32), payload)).toThrow();
    // A v2 payload relabelled as v1 must fail authentication on the server too.
    const relabelled = await ctx.client.post(ctx.t(`decrypt/${name}`), {
      ciphertext: `vault:v1:${payload.toString("base64")}`,
    });
    expect(relabelled.status).toBe(400);
    expect(relabelled.body.errors).toEqual(["cipher: message authentication failed"]);
  });
});

describe("derived keys: HKDF-SHA256, salt empty, info = context (§4.3)", () => {
  it.each<[KeyType, number]>([
    ["aes256-gcm96", 32],
    ["aes128-gcm96", 16],
  ])("%s: server ciphertext opens with HKDF(exported key, context)", async (type, keyLen) => {
    const name = await createKey(ctx, { type, derived: true, exportable: true });
    const context = Buffer.from("wallet-0042");
    const ct = await encrypt(ctx, name, "derived secret", { context: context.toString("base64") });
    const base = await exportedKey(name);
    expect(base.length).toBe(keyLen);
    expect(open(type, hkdf(base, context, keyLen), parseCiphertext(ct).payload).toString()).toBe("derived secret");
    // The base key itself must not open it: derivation really happened.
    expect(() => open(type, base, parseCiphertext(ct).payload)).toThrow();
  });

  it("a locally derived-key ciphertext decrypts on the server with the same context only", async () => {
    const name = await createKey(ctx, { derived: true, exportable: true });
    const context = Buffer.from("tenant-a");
    const derived = hkdf(await exportedKey(name), context, 32);
    const ct = `vault:v1:${seal("aes256-gcm96", derived, randomBytes(NONCE), Buffer.from("from local")).toString("base64")}`;
    expect(await decrypt(ctx, name, ct, { context: context.toString("base64") })).toBe("from local");
    const wrong = await ctx.client.post(ctx.t(`decrypt/${name}`), { ciphertext: ct, context: b64("tenant-b") });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors).toEqual(["cipher: message authentication failed"]);
  });

  it("chacha20-poly1305 derived: the same HKDF applies", async () => {
    const name = await createKey(ctx, { type: "chacha20-poly1305", derived: true, exportable: true });
    const context = Buffer.from("chacha-ctx");
    const ct = await encrypt(ctx, name, "derived chacha", { context: context.toString("base64") });
    const derived = hkdf(await exportedKey(name), context, 32);
    expect(open("chacha20-poly1305", derived, parseCiphertext(ct).payload).toString()).toBe("derived chacha");
  });
});

describe("convergent v3 (§4.4)", () => {
  it("nonce = HMAC-SHA256(HKDF bytes [32,64), plaintext)[:12]; AEAD key = HKDF bytes [0,32)", async () => {
    const name = await createKey(ctx, { derived: true, convergent_encryption: true, exportable: true });
    const context = Buffer.from("convergent-ctx");
    const plaintext = Buffer.from("same in, same out");
    const ct = await encrypt(ctx, name, plaintext.toString("utf8"), { context: context.toString("base64") });
    const { payload } = parseCiphertext(ct);
    const material = hkdf(await exportedKey(name), context, 64);
    const expectedNonce = createHmac("sha256", material.subarray(32)).update(plaintext).digest().subarray(0, NONCE);
    expect(payload.subarray(0, NONCE).equals(expectedNonce)).toBe(true);
    expect(open("aes256-gcm96", material.subarray(0, 32), payload).toString()).toBe("same in, same out");
    // Fully reproducible locally.
    expect(seal("aes256-gcm96", material.subarray(0, 32), expectedNonce, plaintext).equals(payload)).toBe(true);
  });
});

