/**
 * Conformance: encrypt and decrypt, single and batch (reference §2.9, §2.10, §3, §4.6, §6).
 */
import { describe, expect, it } from "vitest";
import {
  b64,
  CIPHERTEXT_RE,
  configure,
  createKey,
  decrypt,
  encrypt,
  expectError,
  expectErrorContaining,
  parseCiphertext,
  randomName,
  readKey,
  rotate,
  unb64utf8,
  UUID_RE,
  useTransitMount,
  type VaultResponse,
} from "./harness";

const ctx = useTransitMount();

const DERIVED_NO_CONTEXT =
  "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key";
const MIXED_CONTEXT = "context should be set either in all the request blocks or in none";

/** Flips one bit of the AEAD output (after the nonce) so authentication must fail. */
function tamper(ct: string): string {
  const { version, payload } = parseCiphertext(ct);
  const bytes = Buffer.from(payload);
  const i = bytes.length - 1;
  bytes[i] = (bytes[i] ?? 0) ^ 0x01;
  return `vault:v${version}:${bytes.toString("base64")}`;
}

/** The raw batch-error body (§1.3, §3.3): full envelope, no `errors` key. */
function expectBatchEnvelope(res: VaultResponse) {
  expect(res.body).not.toHaveProperty("errors");
  expect(res.body.request_id).toMatch(UUID_RE);
  expect(res.body).toMatchObject({ lease_id: "", renewable: false, lease_duration: 0, wrap_info: null, auth: null });
  expect(Array.isArray(res.body.data.batch_results)).toBe(true);
}

describe("encrypt, single mode (§2.9)", () => {
  it("returns vault:v1:<b64> and key_version 1; the payload is plaintext + 28 bytes", async () => {
    const key = await createKey(ctx);
    const res = await ctx.client.post(ctx.t(`encrypt/${key}`), { plaintext: b64("sixteen byte msg") });
    expect(res.status).toBe(200);
    expect(res.body.data.key_version).toBe(1);
    expect(res.body.data.ciphertext).toMatch(CIPHERTEXT_RE);
    const { version, payload } = parseCiphertext(res.body.data.ciphertext);
    expect(version).toBe(1);
    expect(payload.length).toBe(16 + 28);
  });

  it("the same plaintext encrypts differently each time (random nonce) and both decrypt", async () => {
    const key = await createKey(ctx);
    const a = await encrypt(ctx, key, "same");
    const b = await encrypt(ctx, key, "same");
    expect(a).not.toBe(b);
    expect(await decrypt(ctx, key, a)).toBe("same");
    expect(await decrypt(ctx, key, b)).toBe("same");
  });

  it("empty plaintext is allowed and decrypts to \"\"", async () => {
    const key = await createKey(ctx);
    const ct = await encrypt(ctx, key, "");
    expect(parseCiphertext(ct).payload.length).toBe(28);
    const res = await ctx.client.post(ctx.t(`decrypt/${key}`), { ciphertext: ct });
    expect(res.status).toBe(200);
    expect(res.body.data.plaintext).toBe("");
  });

  it("no plaintext → 400 missing plaintext to encrypt", async () => {
    const key = await createKey(ctx);
    expectError(await ctx.client.post(ctx.t(`encrypt/${key}`), {}), 400, "missing plaintext to encrypt");
  });

  it("bad base64 ':;.?' → 400 illegal base64 data at input byte 0", async () => {
    const key = await createKey(ctx);
    expectError(
      await ctx.client.post(ctx.t(`encrypt/${key}`), { plaintext: ":;.?" }),
      400,
      "illegal base64 data at input byte 0",
    );
  });

  // Offsets other than the byte-0 case are UNVERIFIED (§11.3 #5): only the message prefix is asserted.
  it.each([
    ["a space", "simple plaintext"],
    ["missing padding", "YWJjZA"],
    ["URL-safe alphabet '-'", "-_-_"],
    ["URL-safe alphabet '_' in otherwise valid input", "YWJj_A=="],
  ])("bad base64 (%s) → 400 illegal base64 data (UNVERIFIED offset)", async (_what, plaintext) => {
    const key = await createKey(ctx);
    expectErrorContaining(
      await ctx.client.post(ctx.t(`encrypt/${key}`), { plaintext }),
      400,
      "illegal base64 data at input byte",
    );
  });

  it("base64-looking text such as 'abcd' is decoded, not taken literally (§4.6)", async () => {
    const key = await createKey(ctx);
    const res = await ctx.client.post(ctx.t(`encrypt/${key}`), { plaintext: "abcd" });
    expect(res.status).toBe(200);
    const dec = await ctx.client.post(ctx.t(`decrypt/${key}`), { ciphertext: res.body.data.ciphertext });
    expect(dec.body.data.plaintext).toBe("abcd");
    expect(parseCiphertext(res.body.data.ciphertext).payload.length).toBe(3 + 28);
  });

  it("context on a non-derived key is ignored: decrypt without it works", async () => {
    const key = await createKey(ctx);
    const ct = await encrypt(ctx, key, "ctx ignored", { context: b64("whatever") });
    expect(await decrypt(ctx, key, ct)).toBe("ctx ignored");
  });

  it("derived key without context → 400 missing 'context' for key derivation", async () => {
    const key = await createKey(ctx, { derived: true });
    expectError(
      await ctx.client.post(ctx.t(`encrypt/${key}`), { plaintext: b64("x") }),
      400,
      DERIVED_NO_CONTEXT,
    );
  });

  it("derived key round trip needs the same context; another context fails authentication", async () => {
    const key = await createKey(ctx, { derived: true });
    const ct = await encrypt(ctx, key, "per-tenant", { context: b64("tenant-1") });
    expect(await decrypt(ctx, key, ct, { context: b64("tenant-1") })).toBe("per-tenant");
    expectError(
      await ctx.client.post(ctx.t(`decrypt/${key}`), { ciphertext: ct, context: b64("tenant-2") }),
      400,
      "cipher: message authentication failed",
    );
    expectError(await ctx.client.post(ctx.t(`decrypt/${key}`), { ciphertext: ct }), 400, DERIVED_NO_CONTEXT);
  });

  it("convergent key: same context and plaintext → identical ciphertext; other context → different", async () => {
    const key = await createKey(ctx, { derived: true, convergent_encryption: true });
    const a = await encrypt(ctx, key, "deterministic", { context: b64("c1") });
    const b = await encrypt(ctx, key, "deterministic", { context: b64("c1") });
    const c = await encrypt(ctx, key, "deterministic", { context: b64("c2") });
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it("associated_data: round trip with the same AAD; missing or wrong AAD fails authentication", async () => {
    const key = await createKey(ctx);
    const ct = await encrypt(ctx, key, "bound", { associated_data: b64("row-42") });
    expect(await decrypt(ctx, key, ct, { associated_data: b64("row-42") })).toBe("bound");
    expectError(
      await ctx.client.post(ctx.t(`decrypt/${key}`), { ciphertext: ct }),
      400,
      "cipher: message authentication failed",
    );
    expectError(
      await ctx.client.post(ctx.t(`decrypt/${key}`), { ciphertext: ct, associated_data: b64("row-43") }),
      400,
      "cipher: message authentication failed",
    );
  });

  it("chacha20-poly1305 authentication failure (Go text UNVERIFIED §11.3 #4: substring only)", async () => {
    const key = await createKey(ctx, { type: "chacha20-poly1305" });
    const ct = await encrypt(ctx, key, "chacha", { associated_data: b64("a") });
    expect(await decrypt(ctx, key, ct, { associated_data: b64("a") })).toBe("chacha");
    expectErrorContaining(
      await ctx.client.post(ctx.t(`decrypt/${key}`), { ciphertext: ct, associated_data: b64("b") }),
      400,
      "message authentication failed",
    );
  });
});

describe("upsert (§1.6, §2.9 step 6, §2.16)", () => {
  it("encrypting to a missing key creates an aes256-gcm96 key", async () => {
    const key = randomName("upsert");
    const ct = await encrypt(ctx, key, "created on the fly");
    expect(ct.startsWith("vault:v1:")).toBe(true);
    expect(await readKey(ctx, key)).toMatchObject({ type: "aes256-gcm96", derived: false, latest_version: 1 });
    expect(await decrypt(ctx, key, ct)).toBe("created on the fly");
  });

  it("upsert with a context creates a derived key", async () => {
    const key = randomName("upsert");
    await encrypt(ctx, key, "x", { context: b64("c") });
    expect((await readKey(ctx, key)).derived).toBe(true);
  });

  it("upsert honours `type`", async () => {
    const key = randomName("upsert");
    await encrypt(ctx, key, "x", { type: "chacha20-poly1305" });
    expect((await readKey(ctx, key)).type).toBe("chacha20-poly1305");
  });

  it("upsert with convergent_encryption but no context → 400", async () => {
    const key = randomName("upsert");
    expectError(
      await ctx.client.post(ctx.t(`encrypt/${key}`), { plaintext: b64("x"), convergent_encryption: true }),
      400,
      "convergent encryption requires derivation to be enabled, so context is required",
    );
  });

  it("with config/keys disable_upsert=true a missing key → 400 encryption key not found; existing keys still work", async () => {
    const existing = await createKey(ctx);
    const set = await ctx.client.post(ctx.t("config/keys"), { disable_upsert: true });
    expect(set.status).toBe(200);
    try {
      const missing = randomName("noupsert");
      expectError(
        await ctx.client.post(ctx.t(`encrypt/${missing}`), { plaintext: b64("x") }),
        400,
        "encryption key not found",
      );
      expect((await ctx.client.get(ctx.t(`keys/${missing}`))).status).toBe(404);
      expect(await decrypt(ctx, existing, await encrypt(ctx, existing, "still fine"))).toBe("still fine");
    } finally {
      await ctx.client.post(ctx.t("config/keys"), { disable_upsert: false });
    }
  });
});

describe("key_version on encrypt (§2.9 step 7, §7)", () => {
  it("an explicit older version is used and reported", async () => {
    const key = await createKey(ctx);
    await rotate(ctx, key, 2);
    const res = await ctx.client.post(ctx.t(`encrypt/${key}`), { plaintext: b64("v2"), key_version: 2 });
    expect(res.status).toBe(200);
    expect(res.body.data.key_version).toBe(2);
    expect(res.body.data.ciphertext.startsWith("vault:v2:")).toBe(true);
    const latest = await ctx.client.post(ctx.t(`encrypt/${key}`), { plaintext: b64("v3") });
    expect(latest.body.data.key_version).toBe(3);
    expect(latest.body.data.ciphertext.startsWith("vault:v3:")).toBe(true);
  });

  it("key_version above latest → 400", async () => {
    const key = await createKey(ctx);
    expectError(
      await ctx.client.post(ctx.t(`encrypt/${key}`), { plaintext: b64("x"), key_version: 2 }),
      400,
      "requested version for encryption is higher than the latest key version",
    );
  });

  it("negative key_version → 400", async () => {
    const key = await createKey(ctx);
    expectError(
      await ctx.client.post(ctx.t(`encrypt/${key}`), { plaintext: b64("x"), key_version: -1 }),
      400,
      "requested version for encryption is negative",
    );
  });

  it("key_version below min_encryption_version → 400", async () => {
    const key = await createKey(ctx);
    await rotate(ctx, key, 2);
    await configure(ctx, key, { min_encryption_version: 3 });
    expectError(
      await ctx.client.post(ctx.t(`encrypt/${key}`), { plaintext: b64("x"), key_version: 2 }),
      400,
      "requested version for encryption is less than the minimum encryption key version",
    );
  });

  it("archived key_version (below min_decryption_version, E = 0) is refused (UNVERIFIED §11.3 #14: status only)", async () => {
    const key = await createKey(ctx);
    await rotate(ctx, key, 2);
    await configure(ctx, key, { min_decryption_version: 2 });
    const res = await ctx.client.post(ctx.t(`encrypt/${key}`), { plaintext: b64("x"), key_version: 1 });
    expect(res.status).toBe(400);
    expect(res.body.errors).toHaveLength(1);
  });
});

describe("encrypt, batch (§3)", () => {
  it("all ok → 200; results in input order with references echoed; no top-level ciphertext", async () => {
    const key = await createKey(ctx);
    const res = await ctx.client.post(ctx.t(`encrypt/${key}`), {
      plaintext: b64("ignored in batch mode"),
      batch_input: [
        { plaintext: b64("one"), reference: "r1" },
        { plaintext: b64("two") },
        { plaintext: b64("three"), reference: "r3" },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.data).not.toHaveProperty("ciphertext");
    const results = res.body.data.batch_results as Array<Record<string, unknown>>;
    expect(results).toHaveLength(3);
    expect(results.map((r) => r.reference)).toEqual(["r1", "", "r3"]);
    for (const r of results) {
      expect(Object.keys(r).sort()).toEqual(["ciphertext", "key_version", "reference"]);
      expect(r.key_version).toBe(1);
    }
    const plain = await Promise.all(results.map((r) => decrypt(ctx, key, r.ciphertext as string)));
    expect(plain).toEqual(["one", "two", "three"]);
  });

  it("batch_input: [] → 400 missing batch input to process", async () => {
    const key = await createKey(ctx);
    expectError(
      await ctx.client.post(ctx.t(`encrypt/${key}`), { batch_input: [] }),
      400,
      "missing batch input to process",
    );
  });

  it("a failed item → 400 with the envelope body and per-item error; other items still succeed", async () => {
    const key = await createKey(ctx);
    const res = await ctx.client.post(ctx.t(`encrypt/${key}`), {
      batch_input: [
        { plaintext: b64("good"), reference: "a" },
        { plaintext: "simple plaintext", reference: "b" },
      ],
    });
    expect(res.status).toBe(400);
    expectBatchEnvelope(res);
    expect(res.body.warnings).toBeNull();
    const [ok, bad] = res.body.data.batch_results;
    expect(ok.reference).toBe("a");
    expect(await decrypt(ctx, key, ok.ciphertext)).toBe("good");
    expect(Object.keys(bad).sort()).toEqual(["error", "reference"]);
    expect(bad.reference).toBe("b");
    expect(bad.error).toContain("illegal base64 data at input byte");
  });

  it("partial_failure_response_code replaces 400 when at least one item succeeded", async () => {
    const key = await createKey(ctx);
    const res = await ctx.client.post(ctx.t(`encrypt/${key}`), {
      partial_failure_response_code: 207,
      batch_input: [{ plaintext: b64("good") }, { plaintext: "@@@@" }],
    });
    expect(res.status).toBe(207);
    expectBatchEnvelope(res);
    expect(res.body.data.batch_results[0].ciphertext).toMatch(CIPHERTEXT_RE);
    expect(res.body.data.batch_results[1].error).toContain("illegal base64 data");
  });

  it("an item without a plaintext key fails the whole request (UNVERIFIED §11.3 #1: 500 expected, 400|500 accepted)", async () => {
    const key = await createKey(ctx);
    const res = await ctx.client.post(ctx.t(`encrypt/${key}`), {
      batch_input: [{ plaintext: b64("fine") }, { reference: "no-plaintext" }],
    });
    expect([400, 500]).toContain(res.status);
    expect(res.body).not.toHaveProperty("data");
    expect((res.body.errors as string[]).join("\n")).toContain("missing plaintext to encrypt");
  });

  it("mixed context presence → 400 for the whole request", async () => {
    const key = await createKey(ctx, { derived: true });
    expectError(
      await ctx.client.post(ctx.t(`encrypt/${key}`), {
        batch_input: [{ plaintext: b64("a"), context: b64("c") }, { plaintext: b64("b") }],
      }),
      400,
      MIXED_CONTEXT,
    );
  });

  it("per-item context and key_version on a derived key", async () => {
    const key = await createKey(ctx, { derived: true });
    await rotate(ctx, key);
    const res = await ctx.client.post(ctx.t(`encrypt/${key}`), {
      batch_input: [
        { plaintext: b64("a"), context: b64("c1"), key_version: 1 },
        { plaintext: b64("b"), context: b64("c2") },
      ],
    });
    expect(res.status).toBe(200);
    const [a, b] = res.body.data.batch_results;
    expect(a.key_version).toBe(1);
    expect(a.ciphertext.startsWith("vault:v1:")).toBe(true);
    expect(b.key_version).toBe(2);
    expect(await decrypt(ctx, key, a.ciphertext, { context: b64("c1") })).toBe("a");
    expect(await decrypt(ctx, key, b.ciphertext, { context: b64("c2") })).toBe("b");
  });
});

describe("decrypt, single mode (§2.10, §6)", () => {
  it("round trip returns the base64 plaintext", async () => {
    const key = await createKey(ctx);
    const ct = await encrypt(ctx, key, "round trip ✓");
    const res = await ctx.client.post(ctx.t(`decrypt/${key}`), { ciphertext: ct });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ plaintext: b64("round trip ✓") });
  });

  it("missing ciphertext → 400", async () => {
    const key = await createKey(ctx);
    expectError(await ctx.client.post(ctx.t(`decrypt/${key}`), {}), 400, "missing ciphertext to decrypt");
    expectError(
      await ctx.client.post(ctx.t(`decrypt/${key}`), { ciphertext: "" }),
      400,
      "missing ciphertext to decrypt",
    );
  });

  it("missing key → 400 encryption key not found (no upsert on decrypt)", async () => {
    const key = randomName("missing");
    expectError(
      await ctx.client.post(ctx.t(`decrypt/${key}`), { ciphertext: "vault:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }),
      400,
      "encryption key not found",
    );
    expect((await ctx.client.get(ctx.t(`keys/${key}`))).status).toBe(404);
  });

  it.each([
    ["no prefix", "dGhpcyBpcyBub3Qgb25l", "invalid ciphertext: no prefix"],
    ["wrong number of fields", "vault:v1", "invalid ciphertext: wrong number of fields"],
    ["version not a number", "vault:vX:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "invalid ciphertext: version number could not be decoded"],
    ["version too new", "vault:v9:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "invalid ciphertext: version is too new"],
    ["payload not base64", "vault:v1:not*base64!", "invalid ciphertext: could not decode base64"],
    ["payload shorter than the nonce", "vault:v1:AAAA", "invalid ciphertext length"],
  ])("%s → 400 %s", async (_what, ciphertext, message) => {
    const key = await createKey(ctx);
    expectError(await ctx.client.post(ctx.t(`decrypt/${key}`), { ciphertext }), 400, message);
  });

  it("tampered ciphertext → 400 cipher: message authentication failed", async () => {
    const key = await createKey(ctx);
    const ct = await encrypt(ctx, key, "do not touch");
    expectError(
      await ctx.client.post(ctx.t(`decrypt/${key}`), { ciphertext: tamper(ct) }),
      400,
      "cipher: message authentication failed",
    );
  });

  it("a ciphertext from another key fails authentication", async () => {
    const a = await createKey(ctx);
    const b = await createKey(ctx);
    expectError(
      await ctx.client.post(ctx.t(`decrypt/${b}`), { ciphertext: await encrypt(ctx, a, "for a") }),
      400,
      "cipher: message authentication failed",
    );
  });

  it("version below min_decryption_version → 400 too old; lowering it again makes it decrypt", async () => {
    const key = await createKey(ctx);
    const v1 = await encrypt(ctx, key, "old one");
    await rotate(ctx, key, 2);
    await configure(ctx, key, { min_decryption_version: 2 });
    expectError(
      await ctx.client.post(ctx.t(`decrypt/${key}`), { ciphertext: v1 }),
      400,
      "ciphertext or signature version is disallowed by policy (too old)",
    );
    await configure(ctx, key, { min_decryption_version: 1 });
    expect(await decrypt(ctx, key, v1)).toBe("old one");
  });

  it("vault:v0: is read as version 1", async () => {
    const key = await createKey(ctx);
    const ct = await encrypt(ctx, key, "zero");
    expect(await decrypt(ctx, key, ct.replace(/^vault:v1:/, "vault:v0:"))).toBe("zero");
  });
});

describe("decrypt, batch (§3.2–3.4)", () => {
  it("all ok → 200 with exactly {plaintext, reference} items", async () => {
    const key = await createKey(ctx);
    const c1 = await encrypt(ctx, key, "x");
    const c2 = await encrypt(ctx, key, "");
    const res = await ctx.client.post(ctx.t(`decrypt/${key}`), {
      batch_input: [{ ciphertext: c1, reference: "one" }, { ciphertext: c2 }],
    });
    expect(res.status).toBe(200);
    expect(res.body.data.batch_results).toEqual([
      { plaintext: b64("x"), reference: "one" },
      { plaintext: "", reference: "" },
    ]);
  });

  it("a failed item → 400, envelope body, failed item has plaintext \"\" and the error", async () => {
    const key = await createKey(ctx);
    const good = await encrypt(ctx, key, "the quick brown fox");
    const res = await ctx.client.post(ctx.t(`decrypt/${key}`), {
      batch_input: [
        { ciphertext: tamper(good), reference: "foo" },
        { ciphertext: good, reference: "bar" },
        { ciphertext: "", reference: "baz" },
      ],
    });
    expect(res.status).toBe(400);
    expectBatchEnvelope(res);
    expect(res.body.data.batch_results).toEqual([
      { plaintext: "", error: "cipher: message authentication failed", reference: "foo" },
      { plaintext: b64("the quick brown fox"), reference: "bar" },
      { plaintext: "", error: "missing ciphertext to decrypt", reference: "baz" },
    ]);
  });

  it("partial_failure_response_code 202 applies to a partial failure", async () => {
    const key = await createKey(ctx);
    const good = await encrypt(ctx, key, "ok");
    const res = await ctx.client.post(ctx.t(`decrypt/${key}`), {
      partial_failure_response_code: 202,
      batch_input: [{ ciphertext: good }, { ciphertext: "vault:v1" }],
    });
    expect(res.status).toBe(202);
    expectBatchEnvelope(res);
    expect(res.body.data.batch_results[0].plaintext).toBe(b64("ok"));
    expect(res.body.data.batch_results[1].error).toBe("invalid ciphertext: wrong number of fields");
  });

  it("partial_failure_response_code is ignored when every item failed → 400", async () => {
    const key = await createKey(ctx);
    const res = await ctx.client.post(ctx.t(`decrypt/${key}`), {
      partial_failure_response_code: 202,
      batch_input: [{ ciphertext: "vault:v1" }, { ciphertext: "nope" }],
    });
    expect(res.status).toBe(400);
    expectBatchEnvelope(res);
    expect(res.body.data.batch_results.map((r: { error: string }) => r.error)).toEqual([
      "invalid ciphertext: wrong number of fields",
      "invalid ciphertext: no prefix",
    ]);
  });

  it("an out-of-range override keeps 400 and puts the 'reverting' warning in the body", async () => {
    const key = await createKey(ctx);
    const good = await encrypt(ctx, key, "ok");
    const res = await ctx.client.post(ctx.t(`decrypt/${key}`), {
      partial_failure_response_code: 700,
      batch_input: [{ ciphertext: good }, { ciphertext: "nope" }],
    });
    expect(res.status).toBe(400);
    expectBatchEnvelope(res);
    expect(res.body.warnings).toEqual([
      "invalid HTTP response code override from partial_failure_response_code, reverting to 400",
    ]);
  });

  it("mixed context presence → 400 for the whole request", async () => {
    const key = await createKey(ctx, { derived: true });
    const ct = await encrypt(ctx, key, "x", { context: b64("c") });
    expectError(
      await ctx.client.post(ctx.t(`decrypt/${key}`), {
        batch_input: [{ ciphertext: ct, context: b64("c") }, { ciphertext: ct }],
      }),
      400,
      MIXED_CONTEXT,
    );
  });

  it("round trip through batch encrypt → batch decrypt keeps order and references", async () => {
    const key = await createKey(ctx);
    const words = ["alpha", "beta", "gamma", "delta"];
    const enc = await ctx.client.post(ctx.t(`encrypt/${key}`), {
      batch_input: words.map((w) => ({ plaintext: b64(w), reference: w })),
    });
    expect(enc.status).toBe(200);
    const dec = await ctx.client.post(ctx.t(`decrypt/${key}`), {
      batch_input: (enc.body.data.batch_results as Array<{ ciphertext: string; reference: string }>).map((r) => ({
        ciphertext: r.ciphertext,
        reference: r.reference,
      })),
    });
    expect(dec.status).toBe(200);
    const results = dec.body.data.batch_results as Array<{ plaintext: string; reference: string }>;
    expect(results.map((r) => [r.reference, unb64utf8(r.plaintext)])).toEqual(words.map((w) => [w, w]));
  });
});
