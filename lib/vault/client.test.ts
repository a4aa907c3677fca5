/**
 * Integration: every client function against the project's dev Transit server, started in-process.
 * The client has no decrypt; the tests decrypt with a raw HTTP call to prove rewrap kept the plaintext.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTransitServer } from "@/lib/devstack/transit/server";
import { createVaultClient, type VaultClient } from "./client";
import { VaultBadRequestError, VaultNotFoundError, VaultPermissionDeniedError } from "./errors";
import { captureLogger } from "./test-support";

let server: Awaited<ReturnType<typeof startTransitServer>>;
let client: VaultClient;
const logs = captureLogger();

beforeAll(async () => {
  server = await startTransitServer({ port: 0, quiet: true });
  client = createVaultClient({ addr: server.url, token: server.token, timeoutMs: 5_000, retryBaseDelayMs: 5, logger: logs.logger });
});
afterAll(async () => {
  client?.close();
  await server?.close();
});

/** Raw decrypt, test-only. */
async function decrypt(name: string, items: { ciphertext: string; context?: Uint8Array }[]): Promise<(Buffer | string)[]> {
  const res = await fetch(`${server.url}/v1/transit/decrypt/${name}`, {
    method: "POST",
    headers: { "X-Vault-Token": server.token, "content-type": "application/json" },
    body: JSON.stringify({
      batch_input: items.map((i) => ({ ciphertext: i.ciphertext, ...(i.context ? { context: Buffer.from(i.context).toString("base64") } : {}) })),
    }),
  });
  const body = (await res.json()) as { data: { batch_results: { plaintext: string; error?: string }[] } };
  return body.data.batch_results.map((r) => (r.error ? r.error : Buffer.from(r.plaintext, "base64")));
}

const ok = <T extends object>(r: T): Extract<T, { ciphertext: string }> => {
  if (!("ciphertext" in r)) throw new Error(`item failed: ${JSON.stringify(r)}`);
  return r as Extract<T, { ciphertext: string }>;
};

describe("health and keys", () => {
  it("health reports an unsealed, initialised server with its time", async () => {
    const h = await client.health();
    expect(h).toMatchObject({ initialized: true, sealed: false, standby: false });
    expect(typeof h.version).toBe("string");
    expect(Math.abs(h.serverTime.getTime() - Date.now())).toBeLessThan(5_000);
  });

  it("listKeys is [] on an empty mount", async () => {
    expect(await client.listKeys()).toEqual([]);
  });

  it("createKey, readKey and listKeys", async () => {
    await client.createKey("plain-key");
    await client.createKey("derived-key", { derived: true, exportable: true, autoRotatePeriodSeconds: 7200 });
    expect(await client.listKeys()).toEqual(["derived-key", "plain-key"]);

    const plain = await client.readKey("plain-key");
    expect(plain).toMatchObject({
      name: "plain-key",
      type: "aes256-gcm96",
      latestVersion: 1,
      minDecryptionVersion: 1,
      minEncryptionVersion: 0,
      minAvailableVersion: 0,
      derived: false,
      exportable: false,
      allowPlaintextBackup: false,
      deletionAllowed: false,
      autoRotatePeriodSeconds: 0,
      supportsEncryption: true,
    });
    expect(plain.versions).toHaveLength(1);
    expect(plain.versions[0]!.version).toBe(1);
    expect(Math.abs(plain.versions[0]!.createdAt.getTime() - Date.now())).toBeLessThan(10_000);

    const derived = await client.readKey("derived-key");
    expect(derived).toMatchObject({ derived: true, exportable: true, autoRotatePeriodSeconds: 7200 });
  });

  it("createKey with another type", async () => {
    await client.createKey("aes128-key", { type: "aes128-gcm96" });
    expect((await client.readKey("aes128-key")).type).toBe("aes128-gcm96");
  });

  it("readKey of a missing key throws VaultNotFoundError", async () => {
    const err = await client.readKey("no-such-key").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultNotFoundError);
    expect((err as VaultNotFoundError).keyName).toBe("no-such-key");
  });

  it("rotateKey, configureKey and trimKey return the new key state", async () => {
    await client.createKey("lifecycle-key");
    const r2 = await client.rotateKey("lifecycle-key");
    expect(r2.latestVersion).toBe(2);
    const r3 = await client.rotateKey("lifecycle-key");
    expect(r3.versions.map((v) => v.version)).toEqual([1, 2, 3]);

    const cfg = await client.configureKey("lifecycle-key", { minDecryptionVersion: 2, minEncryptionVersion: 2, deletionAllowed: true, autoRotatePeriodSeconds: 3600 });
    expect(cfg).toMatchObject({ minDecryptionVersion: 2, minEncryptionVersion: 2, deletionAllowed: true, autoRotatePeriodSeconds: 3600 });
    expect(cfg.versions.map((v) => v.version)).toEqual([2, 3]);

    // Lowering min_decryption_version is the undo (DESIGN §5.4) until a trim.
    expect((await client.configureKey("lifecycle-key", { minDecryptionVersion: 1, minEncryptionVersion: 0 })).versions).toHaveLength(3);
    await client.configureKey("lifecycle-key", { minDecryptionVersion: 2, minEncryptionVersion: 2 });

    const trimmed = await client.trimKey("lifecycle-key", 2);
    expect(trimmed.minAvailableVersion).toBe(2);
    await expect(client.configureKey("lifecycle-key", { minDecryptionVersion: 1 })).rejects.toBeInstanceOf(VaultBadRequestError);
  });

  it("configureKey beyond the latest version is a VaultBadRequestError with Vault's reason", async () => {
    await client.createKey("cfg-key");
    const err = await client.configureKey("cfg-key", { minDecryptionVersion: 9 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultBadRequestError);
    expect((err as VaultBadRequestError).detail).toContain("cannot set min decryption version of 9");
    expect((err as VaultBadRequestError).operation).toBe("configureKey");
  });

  it("rotate/config/trim on a missing key are bad requests, as Vault answers them", async () => {
    await expect(client.rotateKey("ghost-key")).rejects.toBeInstanceOf(VaultBadRequestError);
    await expect(client.configureKey("ghost-key", { deletionAllowed: true })).rejects.toBeInstanceOf(VaultBadRequestError);
    await expect(client.trimKey("ghost-key", 1)).rejects.toBeInstanceOf(VaultBadRequestError);
  });
});

describe("encrypt, datakey, rewrap", () => {
  it("encrypt returns one result per item in input order, decryptable to the same bytes", async () => {
    await client.createKey("enc-key");
    const plaintexts = Array.from({ length: 5 }, (_, i) => randomBytes(16 + i));
    const res = await client.encrypt("enc-key", plaintexts.map((p, i) => ({ plaintext: p, ...(i % 2 ? { reference: `rec-${i}` } : {}) })));
    expect(res.map((r) => r.reference)).toEqual(["0", "rec-1", "2", "rec-3", "4"]);
    const cts = res.map(ok);
    expect(cts.every((r) => r.keyVersion === 1 && r.ciphertext.startsWith("vault:v1:"))).toBe(true);
    expect(await decrypt("enc-key", cts)).toEqual(plaintexts);
    expect(await client.encrypt("enc-key", [])).toEqual([]);
  });

  it("encrypt reports per-item failures (version too new) instead of throwing", async () => {
    const res = await client.encrypt("enc-key", [{ plaintext: randomBytes(8) }], { keyVersion: 7 });
    expect(res).toEqual([{ reference: "0", error: expect.stringContaining("higher than the latest key version") }]);
  });

  it("encrypt with a derived key needs context per item", async () => {
    const context = randomBytes(16);
    const pt = randomBytes(32);
    const [r] = await client.encrypt("derived-key", [{ plaintext: pt, context, reference: "w1" }]);
    expect(await decrypt("derived-key", [{ ciphertext: ok(r!).ciphertext, context }])).toEqual([pt]);
    const [noCtx] = await client.encrypt("derived-key", [{ plaintext: pt, reference: "w2" }]);
    expect(noCtx).toEqual({ reference: "w2", error: expect.stringContaining("missing 'context'") });
  });

  it("generateDataKey returns the key and its wrapped form", async () => {
    for (const bits of [128, 256, 512] as const) {
      const dk = await client.generateDataKey("enc-key", { bits });
      expect(dk.plaintext.byteLength).toBe(bits / 8);
      expect(dk.keyVersion).toBe(1);
      expect(await decrypt("enc-key", [dk])).toEqual([Buffer.from(dk.plaintext)]);
    }
    const context = randomBytes(8);
    const dk = await client.generateDataKey("derived-key", { context });
    expect(await decrypt("derived-key", [{ ciphertext: dk.ciphertext, context }])).toEqual([Buffer.from(dk.plaintext)]);
  });

  it("rewrapBatch moves records to the pinned version, then the latest, keeping the plaintext", async () => {
    await client.createKey("rewrap-key");
    const plaintexts = Array.from({ length: 250 }, () => randomBytes(48));
    const v1 = (await client.encrypt("rewrap-key", plaintexts.map((p, i) => ({ plaintext: p, reference: `id-${i}` })))).map(ok);
    await client.rotateKey("rewrap-key");
    await client.rotateKey("rewrap-key");

    const requestIds: string[] = [];
    const toV2 = await client.rewrapBatch("rewrap-key", v1.map((r) => ({ reference: r.reference, ciphertext: r.ciphertext })), {
      keyVersion: 2,
      onRequestId: (id) => requestIds.push(id),
    });
    expect(toV2.map((r) => r.reference)).toEqual(v1.map((r) => r.reference));
    expect(toV2.map(ok).every((r) => r.keyVersion === 2 && r.ciphertext.startsWith("vault:v2:"))).toBe(true);
    expect(requestIds).toHaveLength(1);
    expect(await decrypt("rewrap-key", toV2.map(ok))).toEqual(plaintexts);

    const toLatest = (await client.rewrapBatch("rewrap-key", toV2.map(ok))).map(ok);
    expect(toLatest.every((r) => r.keyVersion === 3)).toBe(true);
    expect(await decrypt("rewrap-key", toLatest)).toEqual(plaintexts);
    // Always re-encrypts: a fresh nonce, so a different string even on the same version.
    const again = (await client.rewrapBatch("rewrap-key", toLatest.slice(0, 1))).map(ok);
    expect(again[0]!.ciphertext).not.toBe(toLatest[0]!.ciphertext);
  });

  it("rewrapBatch surfaces per-item failures and keeps the good items", async () => {
    const [good] = (await client.encrypt("rewrap-key", [{ plaintext: randomBytes(16), reference: "good" }])).map(ok);
    const foreign = (await client.encrypt("enc-key", [{ plaintext: randomBytes(16), reference: "foreign" }])).map(ok)[0]!;
    const res = await client.rewrapBatch("rewrap-key", [
      { reference: "good", ciphertext: good!.ciphertext },
      { reference: "foreign", ciphertext: foreign.ciphertext },
      { reference: "too-new", ciphertext: good!.ciphertext.replace(/^vault:v\d+:/, "vault:v99:") },
      { reference: "garbage", ciphertext: "not-a-ciphertext" },
    ]);
    expect(res[0]).toMatchObject({ reference: "good", keyVersion: 3 });
    expect(res[1]).toEqual({ reference: "foreign", error: expect.stringContaining("message authentication failed") });
    expect(res[2]).toEqual({ reference: "too-new", error: expect.stringContaining("version is too new") });
    expect(res[3]).toEqual({ reference: "garbage", error: expect.stringContaining("no prefix") });
  });

  it("rewrapBatch of a derived key passes the context", async () => {
    const context = randomBytes(16);
    const pt = randomBytes(32);
    const [r] = (await client.encrypt("derived-key", [{ plaintext: pt, context, reference: "d" }])).map(ok);
    await client.rotateKey("derived-key");
    const [w] = (await client.rewrapBatch("derived-key", [{ reference: "d", ciphertext: r!.ciphertext, context }])).map(ok);
    expect(w!.keyVersion).toBe(2);
    expect(await decrypt("derived-key", [{ ciphertext: w!.ciphertext, context }])).toEqual([pt]);
  });

  it("rewrapBatch to a key that does not exist is a request-level error", async () => {
    await expect(client.rewrapBatch("ghost-key", [{ reference: "a", ciphertext: "vault:v1:AAAA" }])).rejects.toBeInstanceOf(VaultBadRequestError);
  });
});

describe("hmac", () => {
  it("hmac and verifyHmac, both algorithms, pinned version", async () => {
    await client.createKey("hmac-key");
    const input = Buffer.from("checkpoint 42");
    const mac = await client.hmac("hmac-key", input);
    expect(mac).toMatch(/^vault:v1:/);
    expect(await client.verifyHmac("hmac-key", input, mac)).toBe(true);
    expect(await client.verifyHmac("hmac-key", Buffer.from("checkpoint 43"), mac)).toBe(false);

    const mac512 = await client.hmac("hmac-key", input, { algorithm: "sha2-512" });
    expect(Buffer.from(mac512.split(":")[2]!, "base64")).toHaveLength(64);
    expect(await client.verifyHmac("hmac-key", input, mac512, { algorithm: "sha2-512" })).toBe(true);
    expect(await client.verifyHmac("hmac-key", input, mac512)).toBe(false);

    await client.rotateKey("hmac-key");
    expect(await client.hmac("hmac-key", input)).toMatch(/^vault:v2:/);
    expect(await client.hmac("hmac-key", input, { keyVersion: 1 })).toBe(mac);
    await expect(client.verifyHmac("hmac-key", input, "not-an-hmac")).rejects.toBeInstanceOf(VaultBadRequestError);
  });

  it("verifyHmacBatch answers per item, in input order, across chunks", async () => {
    await client.createKey("hmac-batch-key");
    const inputs = Array.from({ length: 5 }, (_, i) => Buffer.from(`checkpoint ${i}`));
    const macs = await Promise.all(inputs.map((input) => client.hmac("hmac-batch-key", input)));
    const chunked = createVaultClient({ addr: server.url, token: server.token, maxBatchSize: 2, logger: logs.logger });
    try {
      const answers = await chunked.verifyHmacBatch("hmac-batch-key", [
        { input: inputs[0]!, hmac: macs[0]! },
        { input: inputs[1]!, hmac: macs[2]! },
        { input: inputs[2]!, hmac: "vault:v9:AAAA" },
        { input: inputs[3]!, hmac: "not-an-hmac" },
        { input: inputs[4]!, hmac: macs[4]! },
      ]);
      expect(answers.slice(0, 2)).toEqual([true, false]);
      expect(answers[2]).toMatchObject({ error: expect.stringMatching(/too new/) });
      expect(answers[3]).toMatchObject({ error: expect.any(String) });
      expect(answers[4]).toBe(true);
    } finally {
      chunked.close();
    }
  });
});

describe("auth", () => {
  it("a wrong token is VaultPermissionDeniedError and the token does not appear in it", async () => {
    const bad = createVaultClient({ addr: server.url, token: "wrong-token-0123456789abcdefABCDEF", retryBaseDelayMs: 5, logger: logs.logger });
    try {
      const err = await bad.readKey("plain-key").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VaultPermissionDeniedError);
      expect(JSON.stringify(err)).not.toContain("wrong-token");
      await expect(bad.rewrapBatch("plain-key", [{ reference: "a", ciphertext: "vault:v1:AAAA" }])).rejects.toBeInstanceOf(VaultPermissionDeniedError);
      // health needs no token
      expect((await bad.health()).sealed).toBe(false);
    } finally {
      bad.close();
    }
  });

  it("nothing logged by these tests carries the root token", () => {
    expect(logs.text()).not.toContain(server.token);
  });
});
