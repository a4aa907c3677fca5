/**
 * Conformance: rewrap, datakey, hmac/verify and export (reference §2.11–2.15, §3.3, §5, §6).
 */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  b64,
  configure,
  createKey,
  decrypt,
  encrypt,
  expectEmpty404,
  expectError,
  expectErrorContaining,
  exportKey,
  parseCiphertext,
  randomName,
  rotate,
  unb64,
  useTransitMount,
} from "./harness";

const ctx = useTransitMount();

describe("rewrap (§2.11, §5)", () => {
  it("re-encrypts an old ciphertext with the latest version; no plaintext in the response", async () => {
    const key = await createKey(ctx);
    const v1 = await encrypt(ctx, key, "rewrap me");
    await rotate(ctx, key, 2);
    const res = await ctx.client.post(ctx.t(`rewrap/${key}`), { ciphertext: v1 });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.data).sort()).toEqual(["ciphertext", "key_version"]);
    expect(res.body.data.key_version).toBe(3);
    expect(res.body.data.ciphertext).toMatch(/^vault:v3:/);
    expect(res.text).not.toContain(b64("rewrap me"));
    expect(await decrypt(ctx, key, res.body.data.ciphertext)).toBe("rewrap me");
  });

  it("always re-encrypts, even a ciphertext already on the latest version", async () => {
    const key = await createKey(ctx);
    const ct = await encrypt(ctx, key, "latest already");
    const res = await ctx.client.post(ctx.t(`rewrap/${key}`), { ciphertext: ct });
    expect(res.status).toBe(200);
    expect(res.body.data.ciphertext).toMatch(/^vault:v1:/);
    expect(res.body.data.ciphertext).not.toBe(ct);
    expect(await decrypt(ctx, key, res.body.data.ciphertext)).toBe("latest already");
  });

  it("an explicit key_version equal to latest pins it", async () => {
    const key = await createKey(ctx);
    const v1 = await encrypt(ctx, key, "pin");
    await rotate(ctx, key);
    const res = await ctx.client.post(ctx.t(`rewrap/${key}`), { ciphertext: v1, key_version: 2 });
    expect(res.status).toBe(200);
    expect(res.body.data.key_version).toBe(2);
    expect(parseCiphertext(res.body.data.ciphertext).version).toBe(2);
  });

  it("a key_version below latest but allowed is used (UNVERIFIED §11.3 #8)", async () => {
    const key = await createKey(ctx);
    const v1 = await encrypt(ctx, key, "middle");
    await rotate(ctx, key, 2);
    const res = await ctx.client.post(ctx.t(`rewrap/${key}`), { ciphertext: v1, key_version: 2 });
    expect(res.status).toBe(200);
    expect(res.body.data.ciphertext).toMatch(/^vault:v2:/);
    expect(await decrypt(ctx, key, res.body.data.ciphertext)).toBe("middle");
  });

  it("key_version above latest → 400", async () => {
    const key = await createKey(ctx);
    const ct = await encrypt(ctx, key, "x");
    expectError(
      await ctx.client.post(ctx.t(`rewrap/${key}`), { ciphertext: ct, key_version: 5 }),
      400,
      "requested version for encryption is higher than the latest key version",
    );
  });

  it("key_version below min_encryption_version → 400", async () => {
    const key = await createKey(ctx);
    const ct = await encrypt(ctx, key, "x");
    await rotate(ctx, key, 2);
    await configure(ctx, key, { min_encryption_version: 3 });
    expectError(
      await ctx.client.post(ctx.t(`rewrap/${key}`), { ciphertext: ct, key_version: 2 }),
      400,
      "requested version for encryption is less than the minimum encryption key version",
    );
  });

  it("single-mode errors: too new, too old, empty ciphertext, missing key", async () => {
    const key = await createKey(ctx);
    const v1 = await encrypt(ctx, key, "x");
    expectError(
      await ctx.client.post(ctx.t(`rewrap/${key}`), { ciphertext: v1.replace("vault:v1:", "vault:v2:") }),
      400,
      "invalid ciphertext: version is too new",
    );
    await rotate(ctx, key);
    await configure(ctx, key, { min_decryption_version: 2 });
    expectError(
      await ctx.client.post(ctx.t(`rewrap/${key}`), { ciphertext: v1 }),
      400,
      "ciphertext or signature version is disallowed by policy (too old)",
    );
    expectError(
      await ctx.client.post(ctx.t(`rewrap/${key}`), { ciphertext: "" }),
      400,
      "missing ciphertext to decrypt",
    );
    expectError(
      await ctx.client.post(ctx.t(`rewrap/${randomName("missing")}`), { ciphertext: v1 }),
      400,
      "encryption key not found",
    );
  });

  it("batch → always 200; per-item errors; references echoed; never plaintext", async () => {
    const key = await createKey(ctx);
    const a = await encrypt(ctx, key, "batch-a");
    const b = await encrypt(ctx, key, "batch-b");
    await rotate(ctx, key);
    const tampered = (() => {
      const { payload } = parseCiphertext(b);
      payload[payload.length - 1] = (payload[payload.length - 1] ?? 0) ^ 0xff;
      return `vault:v1:${payload.toString("base64")}`;
    })();
    const res = await ctx.client.post(ctx.t(`rewrap/${key}`), {
      batch_input: [
        { ciphertext: a, reference: "ok" },
        { ciphertext: "no-prefix-here", reference: "np" },
        { ciphertext: tampered, reference: "bad" },
        { ciphertext: "", reference: "empty" },
      ],
    });
    expect(res.status).toBe(200);
    const results = res.body.data.batch_results as Array<Record<string, unknown>>;
    expect(results).toHaveLength(4);
    expect(Object.keys(results[0] ?? {}).sort()).toEqual(["ciphertext", "key_version", "reference"]);
    expect(results[0]).toMatchObject({ key_version: 2, reference: "ok" });
    expect(results.slice(1)).toEqual([
      { error: "invalid ciphertext: no prefix", reference: "np" },
      { error: "cipher: message authentication failed", reference: "bad" },
      { error: "missing ciphertext to decrypt", reference: "empty" },
    ]);
    for (const r of results) expect(r).not.toHaveProperty("plaintext");
    expect(await decrypt(ctx, key, results[0]?.ciphertext as string)).toBe("batch-a");
  });

  it("batch where every item fails is still 200", async () => {
    const key = await createKey(ctx);
    const res = await ctx.client.post(ctx.t(`rewrap/${key}`), {
      batch_input: [{ ciphertext: "vault:v7:AAAA" }, { ciphertext: "vault:v1" }],
    });
    expect(res.status).toBe(200);
    expect(res.body.data.batch_results).toEqual([
      { error: "invalid ciphertext: version is too new", reference: "" },
      { error: "invalid ciphertext: wrong number of fields", reference: "" },
    ]);
  });

  it("partial_failure_response_code is not a rewrap parameter: ignored with a warning", async () => {
    const key = await createKey(ctx);
    const ct = await encrypt(ctx, key, "x");
    const res = await ctx.client.post(ctx.t(`rewrap/${key}`), { ciphertext: ct, partial_failure_response_code: 207 });
    expect(res.status).toBe(200);
    expect(res.body.warnings).toEqual([
      "Endpoint ignored these unrecognized parameters: [partial_failure_response_code]",
    ]);
  });

  it("derived key: rewrap needs the original context", async () => {
    const key = await createKey(ctx, { derived: true });
    const ct = await encrypt(ctx, key, "derived rewrap", { context: b64("ctx") });
    await rotate(ctx, key);
    const res = await ctx.client.post(ctx.t(`rewrap/${key}`), { ciphertext: ct, context: b64("ctx") });
    expect(res.status).toBe(200);
    expect(res.body.data.ciphertext).toMatch(/^vault:v2:/);
    expect(await decrypt(ctx, key, res.body.data.ciphertext, { context: b64("ctx") })).toBe("derived rewrap");
    expectError(
      await ctx.client.post(ctx.t(`rewrap/${key}`), { ciphertext: ct, context: b64("other") }),
      400,
      "cipher: message authentication failed",
    );
  });
});

describe("datakey (§2.12)", () => {
  it("plaintext: 256-bit default; ciphertext decrypts to exactly the returned plaintext", async () => {
    const key = await createKey(ctx);
    const res = await ctx.client.post(ctx.t(`datakey/plaintext/${key}`), {});
    expect(res.status).toBe(200);
    const d = res.body.data;
    expect(d.key_version).toBe(1);
    expect(d.ciphertext).toMatch(/^vault:v1:/);
    expect(unb64(d.plaintext).length).toBe(32);
    const dec = await ctx.client.post(ctx.t(`decrypt/${key}`), { ciphertext: d.ciphertext });
    expect(dec.body.data.plaintext).toBe(d.plaintext);
  });

  it.each([128, 256, 512])("bits=%i gives bits/8 random bytes", async (bits) => {
    const key = await createKey(ctx);
    const res = await ctx.client.post(ctx.t(`datakey/plaintext/${key}`), { bits });
    expect(res.status).toBe(200);
    expect(unb64(res.body.data.plaintext).length).toBe(bits / 8);
    expect(parseCiphertext(res.body.data.ciphertext).payload.length).toBe(bits / 8 + 28);
  });

  it("wrapped: no plaintext in the response; the ciphertext decrypts to a 32-byte key", async () => {
    const key = await createKey(ctx);
    const res = await ctx.client.post(ctx.t(`datakey/wrapped/${key}`), {});
    expect(res.status).toBe(200);
    expect(res.body.data).not.toHaveProperty("plaintext");
    expect(res.body.data.key_version).toBe(1);
    const dec = await ctx.client.post(ctx.t(`decrypt/${key}`), { ciphertext: res.body.data.ciphertext });
    expect(dec.status).toBe(200);
    expect(unb64(dec.body.data.plaintext).length).toBe(32);
  });

  it("two data keys differ", async () => {
    const key = await createKey(ctx);
    const a = await ctx.client.post(ctx.t(`datakey/plaintext/${key}`), {});
    const b = await ctx.client.post(ctx.t(`datakey/plaintext/${key}`), {});
    expect(a.body.data.plaintext).not.toBe(b.body.data.plaintext);
  });

  it("bad :type → 400 Invalid path, must be 'plaintext' or 'wrapped'", async () => {
    const key = await createKey(ctx);
    expectError(
      await ctx.client.post(ctx.t(`datakey/both/${key}`), {}),
      400,
      "Invalid path, must be 'plaintext' or 'wrapped'",
    );
  });

  it("bad bits → 400 invalid bit length", async () => {
    const key = await createKey(ctx);
    expectError(await ctx.client.post(ctx.t(`datakey/plaintext/${key}`), { bits: 100 }), 400, "invalid bit length");
  });

  it("missing key → 400 encryption key not found (no upsert)", async () => {
    const key = randomName("missing");
    expectError(await ctx.client.post(ctx.t(`datakey/wrapped/${key}`), {}), 400, "encryption key not found");
    expect((await ctx.client.get(ctx.t(`keys/${key}`))).status).toBe(404);
  });

  it("derived key: needs context, and decrypts with the same context", async () => {
    const key = await createKey(ctx, { derived: true });
    const res = await ctx.client.post(ctx.t(`datakey/plaintext/${key}`), { context: b64("dk") });
    expect(res.status).toBe(200);
    const dec = await ctx.client.post(ctx.t(`decrypt/${key}`), {
      ciphertext: res.body.data.ciphertext,
      context: b64("dk"),
    });
    expect(dec.body.data.plaintext).toBe(res.body.data.plaintext);
  });
});

describe("hmac and verify (§2.13, §2.14)", () => {
  const INPUT = b64("the quick brown fox");

  it("default sha2-256: vault:v1:<32-byte MAC>, equal to HMAC-SHA256 with the exported hmac-key", async () => {
    const key = await createKey(ctx, { exportable: true });
    const res = await ctx.client.post(ctx.t(`hmac/${key}`), { input: INPUT });
    expect(res.status).toBe(200);
    const mac = res.body.data.hmac as string;
    expect(mac).toMatch(/^vault:v1:[A-Za-z0-9+/]+=*$/);
    const macBytes = unb64(mac.slice("vault:v1:".length));
    expect(macBytes.length).toBe(32);
    const hmacKey = (await exportKey(ctx, key, "hmac-key"))["1"];
    expect(hmacKey?.length).toBe(32);
    const local = createHmac("sha256", hmacKey ?? Buffer.alloc(0)).update(unb64(INPUT)).digest();
    expect(macBytes.equals(local)).toBe(true);
  });

  it.each([
    ["sha2-224", 28, "sha224"],
    ["sha2-384", 48, "sha384"],
    ["sha2-512", 64, "sha512"],
    ["sha3-256", 32, "sha3-256"],
    ["sha3-512", 64, "sha3-512"],
  ])("algorithm %s in the URL → %i-byte MAC matching node:crypto", async (algorithm, size, nodeAlg) => {
    const key = await createKey(ctx, { exportable: true });
    const res = await ctx.client.post(ctx.t(`hmac/${key}/${algorithm}`), { input: INPUT });
    expect(res.status).toBe(200);
    const macBytes = unb64((res.body.data.hmac as string).replace(/^vault:v1:/, ""));
    expect(macBytes.length).toBe(size);
    const hmacKey = (await exportKey(ctx, key, "hmac-key"))["1"] ?? Buffer.alloc(0);
    expect(macBytes.equals(createHmac(nodeAlg, hmacKey).update(unb64(INPUT)).digest())).toBe(true);
  });

  it("`algorithm` in the body is used; the URL overrides it", async () => {
    const key = await createKey(ctx);
    const body = await ctx.client.post(ctx.t(`hmac/${key}`), { input: INPUT, algorithm: "sha2-512" });
    expect(unb64(body.body.data.hmac.replace(/^vault:v1:/, "")).length).toBe(64);
    const url = await ctx.client.post(ctx.t(`hmac/${key}/sha2-256`), { input: INPUT, algorithm: "sha2-512" });
    expect(unb64(url.body.data.hmac.replace(/^vault:v1:/, "")).length).toBe(32);
  });

  it("verify: the right MAC → valid true; another input → 200 valid false", async () => {
    const key = await createKey(ctx);
    const mac = (await ctx.client.post(ctx.t(`hmac/${key}`), { input: INPUT })).body.data.hmac;
    const ok = await ctx.client.post(ctx.t(`verify/${key}`), { input: INPUT, hmac: mac });
    expect(ok.status).toBe(200);
    expect(ok.body.data.valid).toBe(true);
    const bad = await ctx.client.post(ctx.t(`verify/${key}`), { input: b64("the quick brown cat"), hmac: mac });
    expect(bad.status).toBe(200);
    expect(bad.body.data.valid).toBe(false);
  });

  it("verify with the algorithm in the URL", async () => {
    const key = await createKey(ctx);
    const mac = (await ctx.client.post(ctx.t(`hmac/${key}/sha2-384`), { input: INPUT })).body.data.hmac;
    expect((await ctx.client.post(ctx.t(`verify/${key}/sha2-384`), { input: INPUT, hmac: mac })).body.data.valid).toBe(
      true,
    );
    expect((await ctx.client.post(ctx.t(`verify/${key}/sha2-256`), { input: INPUT, hmac: mac })).body.data.valid).toBe(
      false,
    );
  });

  it("key_version: old versions usable and prefixed vault:vN:; above latest → 400", async () => {
    const key = await createKey(ctx);
    await rotate(ctx, key);
    const latest = await ctx.client.post(ctx.t(`hmac/${key}`), { input: INPUT });
    expect(latest.body.data.hmac).toMatch(/^vault:v2:/);
    const old = await ctx.client.post(ctx.t(`hmac/${key}`), { input: INPUT, key_version: 1 });
    expect(old.body.data.hmac).toMatch(/^vault:v1:/);
    expect(old.body.data.hmac.slice(9)).not.toBe(latest.body.data.hmac.slice(9));
    const verified = await ctx.client.post(ctx.t(`verify/${key}`), { input: INPUT, hmac: old.body.data.hmac });
    expect(verified.body.data.valid).toBe(true);
    expectError(
      await ctx.client.post(ctx.t(`hmac/${key}`), { input: INPUT, key_version: 3 }),
      400,
      "key version does not exist; latest key version is 2",
    );
  });

  it("batch: always 200, per-item hmac or error, references echoed", async () => {
    const key = await createKey(ctx);
    const res = await ctx.client.post(ctx.t(`hmac/${key}`), {
      batch_input: [
        { input: INPUT, reference: "fox" },
        { input: ":;.?", reference: "bad" },
      ],
    });
    expect(res.status).toBe(200);
    const [ok, bad] = res.body.data.batch_results;
    expect(ok.reference).toBe("fox");
    expect(ok.hmac).toMatch(/^vault:v1:/);
    expect(ok).not.toHaveProperty("error");
    expect(bad.reference).toBe("bad");
    expect(bad).not.toHaveProperty("hmac");
    expect(bad.error).toContain("illegal base64 data at input byte 0");
    const single = await ctx.client.post(ctx.t(`hmac/${key}`), { input: INPUT });
    expect(single.body.data.hmac).toBe(ok.hmac);
  });

  it("verify batch: valid omitted when false", async () => {
    const key = await createKey(ctx);
    const mac = (await ctx.client.post(ctx.t(`hmac/${key}`), { input: INPUT })).body.data.hmac;
    const res = await ctx.client.post(ctx.t(`verify/${key}`), {
      batch_input: [
        { input: INPUT, hmac: mac, reference: "yes" },
        { input: b64("other"), hmac: mac, reference: "no" },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.data.batch_results).toEqual([
      { valid: true, reference: "yes" },
      { reference: "no" },
    ]);
  });

  it("errors: missing input, bad base64, missing key, unknown algorithm", async () => {
    const key = await createKey(ctx);
    expectError(await ctx.client.post(ctx.t(`hmac/${key}`), {}), 400, "missing input for HMAC");
    expectError(
      await ctx.client.post(ctx.t(`hmac/${key}`), { input: ":;.?" }),
      400,
      "unable to decode input as base64: illegal base64 data at input byte 0",
    );
    expectError(
      await ctx.client.post(ctx.t(`hmac/${randomName("missing")}`), { input: INPUT }),
      400,
      "encryption key not found",
    );
    // OpenBao prints a garbled algorithm name: prefix only.
    expectErrorContaining(
      await ctx.client.post(ctx.t(`hmac/${key}`), { input: INPUT, algorithm: "md5" }),
      400,
      "unsupported algorithm",
    );
  });

  it("verify errors: no prefix, neither, version too new", async () => {
    const key = await createKey(ctx);
    expectError(
      await ctx.client.post(ctx.t(`verify/${key}`), { input: INPUT, hmac: "abcd" }),
      400,
      "invalid HMAC to verify: no prefix",
    );
    expectError(
      await ctx.client.post(ctx.t(`verify/${key}`), { input: INPUT }),
      400,
      "neither a 'signature' nor an 'hmac' were given to verify",
    );
    expectError(
      await ctx.client.post(ctx.t(`verify/${key}`), { input: INPUT, hmac: "vault:v5:AAAA" }),
      400,
      "invalid HMAC: version is too new",
    );
  });
});

describe("export (§2.15)", () => {
  it("not exportable → 400 private key material is not exportable", async () => {
    const key = await createKey(ctx);
    expectError(
      await ctx.client.get(ctx.t(`export/encryption-key/${key}`)),
      400,
      "private key material is not exportable",
    );
  });

  it("missing key → 404 {errors: []}", async () => {
    expectEmpty404(await ctx.client.get(ctx.t(`export/encryption-key/${randomName("missing")}`)));
  });

  it("invalid export type → 400", async () => {
    const key = await createKey(ctx, { exportable: true });
    expectError(await ctx.client.get(ctx.t(`export/private-key/${key}`)), 400, "invalid export type: private-key");
  });

  it.each([
    ["aes256-gcm96", 32],
    ["aes128-gcm96", 16],
    ["chacha20-poly1305", 32],
  ])("%s encryption-key export: {name, type, keys: {ver: base64 raw key}}", async (type, size) => {
    const key = await createKey(ctx, { type, exportable: true });
    await rotate(ctx, key);
    const res = await ctx.client.get(ctx.t(`export/encryption-key/${key}`));
    expect(res.status).toBe(200);
    expect(res.body.data.name).toBe(key);
    expect(res.body.data.type).toBe(type);
    expect(Object.keys(res.body.data.keys).sort()).toEqual(["1", "2"]);
    const k1 = unb64(res.body.data.keys["1"]);
    const k2 = unb64(res.body.data.keys["2"]);
    expect(k1.length).toBe(size);
    expect(k2.length).toBe(size);
    expect(k1.equals(k2)).toBe(false);
  });

  it("a single version: /N, vN and latest; below min_decryption_version and missing → 400", async () => {
    const key = await createKey(ctx, { exportable: true });
    await rotate(ctx, key, 2);
    const all = await exportKey(ctx, key);
    for (const [suffix, ver] of [
      ["1", "1"],
      ["v2", "2"],
      ["latest", "3"],
    ] as const) {
      const res = await ctx.client.get(ctx.t(`export/encryption-key/${key}/${suffix}`));
      expect(res.status, suffix).toBe(200);
      expect(Object.keys(res.body.data.keys)).toEqual([ver]);
      expect(unb64(res.body.data.keys[ver]).equals(all[ver] ?? Buffer.alloc(0))).toBe(true);
    }
    expectError(
      await ctx.client.get(ctx.t(`export/encryption-key/${key}/9`)),
      400,
      "version does not exist or cannot be found",
    );
    await configure(ctx, key, { min_decryption_version: 2 });
    expectError(
      await ctx.client.get(ctx.t(`export/encryption-key/${key}/1`)),
      400,
      "version for export is below minimum decryption version",
    );
    expect(Object.keys(await exportKey(ctx, key)).sort()).toEqual(["2", "3"]);
  });

  it("hmac-key export differs from the encryption key", async () => {
    const key = await createKey(ctx, { exportable: true });
    const enc = (await exportKey(ctx, key))["1"];
    const mac = (await exportKey(ctx, key, "hmac-key"))["1"];
    expect(enc?.length).toBe(32);
    expect(mac?.length).toBe(32);
    expect(enc?.equals(mac ?? Buffer.alloc(0))).toBe(false);
  });
});
