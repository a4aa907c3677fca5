/**
 * Error classification, secret hygiene and batch-answer checking, against a scripted stub where exact
 * control of the answer matters (echoing bodies, misaligned batches, old-Vault 204s, closed ports).
 */
import { randomBytes } from "node:crypto";
import util from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { createVaultClient } from "./client";
import {
  scrubVaultDetail,
  VaultBadRequestError,
  VaultNotFoundError,
  VaultPermissionDeniedError,
  VaultProtocolError,
  VaultSealedError,
  VaultUnavailableError,
} from "./errors";
import { captureLogger, startStub, type StubReply, type StubRequest } from "./test-support";

const TOKEN = "hvs.CAESIKnownTokenValue0123456789abcdef";
const PLAINTEXT = randomBytes(32);
const PLAINTEXT_B64 = PLAINTEXT.toString("base64");
const CIPHERTEXT = `vault:v1:${randomBytes(60).toString("base64")}`;

/** Requests other than the background token lookup/renewal every token-auth client starts with. */
const sent = (stub: { requests: StubRequest[] }) => stub.requests.filter((r) => !r.path.startsWith("/v1/auth/token/"));

/** The background lookup-self of token auth is answered like a root token (ttl 0); the rest goes to `handler`. */
const withTokenLookup =
  (handler: (req: StubRequest) => StubReply | Promise<StubReply>) =>
  (req: StubRequest): StubReply | Promise<StubReply> =>
    req.path === "/v1/auth/token/lookup-self" ? { status: 200, json: { data: { ttl: 0, renewable: false } } } : handler(req);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(handler: (req: StubRequest) => StubReply | Promise<StubReply>, extra: { timeoutMs?: number; retries?: number } = {}) {
  const stub = await startStub(withTokenLookup(handler));
  const logs = captureLogger();
  const client = createVaultClient({ addr: stub.url, token: TOKEN, timeoutMs: extra.timeoutMs ?? 2_000, retries: extra.retries ?? 2, retryBaseDelayMs: 5, logger: logs.logger });
  cleanups.push(() => stub.close(), () => client.close());
  return { stub, client, logs };
}

function assertNoSecrets(err: unknown, logText: string) {
  const dumped = [
    JSON.stringify(err),
    util.inspect(err, { depth: 20, showHidden: true }),
    String(err),
    (err as Error).stack ?? "",
    logText,
  ].join("\n");
  for (const secret of [TOKEN, PLAINTEXT_B64, CIPHERTEXT, CIPHERTEXT.slice(9, 40), PLAINTEXT.toString("hex")]) {
    expect(dumped).not.toContain(secret);
  }
  expect(err).not.toHaveProperty("cause");
  expect(err).not.toHaveProperty("config");
  expect(err).not.toHaveProperty("response");
  expect(err).not.toHaveProperty("request");
}

describe("error hygiene", () => {
  it("a 400 that echoes the request body carries neither plaintext nor token", async () => {
    const { client, logs } = await setup((req) => ({ status: 400, json: { errors: [`cannot process ${JSON.stringify(req.body)} for ${TOKEN}`] } }));
    const err = await client.encrypt("k", [{ plaintext: PLAINTEXT, reference: "r1" }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultBadRequestError);
    expect((err as VaultBadRequestError).operation).toBe("encrypt");
    expect((err as VaultBadRequestError).vaultStatus).toBe(400);
    assertNoSecrets(err, logs.text());
  });

  it("a rewrap that fails on the connection carries no ciphertext (axios keeps the body in config.data)", async () => {
    const { client, logs, stub } = await setup(() => "reset");
    const err = await client.rewrapBatch("k", [{ reference: "r1", ciphertext: CIPHERTEXT }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultUnavailableError);
    expect((err as VaultUnavailableError).reason).toBe("network");
    expect((err as VaultUnavailableError).outcomeUnknown).toBe(true);
    expect(sent(stub)).toHaveLength(3); // rewrap is retried (see client.ts)
    assertNoSecrets(err, logs.text());
  });

  it("an encrypt that fails on the connection is not retried and leaks nothing", async () => {
    const { client, logs, stub } = await setup(() => "reset");
    const err = await client.encrypt("k", [{ plaintext: PLAINTEXT }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultUnavailableError);
    expect(sent(stub)).toHaveLength(1);
    assertNoSecrets(err, logs.text());
  });

  it("a datakey answered with 500 and key material in the text leaks nothing", async () => {
    const { client, logs } = await setup(() => ({ status: 500, json: { errors: [`1 error occurred:\n\t* boom ${PLAINTEXT_B64} ${CIPHERTEXT}\n\n`] } }));
    const err = await client.generateDataKey("k").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultUnavailableError);
    expect((err as VaultUnavailableError).outcomeUnknown).toBe(true);
    assertNoSecrets(err, logs.text());
  });

  it("a timeout leaks nothing", async () => {
    const { client, logs } = await setup(() => "hang", { timeoutMs: 200, retries: 0 });
    const err = await client.rewrapBatch("k", [{ reference: "r1", ciphertext: CIPHERTEXT }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultUnavailableError);
    expect((err as VaultUnavailableError).reason).toBe("timeout");
    assertNoSecrets(err, logs.text());
  });

  it("per-item error texts are scrubbed too", async () => {
    const { client } = await setup((req) => {
      const items = (req.body as { batch_input: { reference: string; ciphertext: string }[] }).batch_input;
      return { status: 200, json: { request_id: "rq", data: { batch_results: items.map((i) => ({ reference: i.reference, error: `bad ${i.ciphertext}` })) } } };
    });
    const [r] = await client.rewrapBatch("k", [{ reference: "r1", ciphertext: CIPHERTEXT }]);
    expect(r).toEqual({ reference: "r1", error: "bad vault:v?:[redacted]" });
  });

  it("scrubVaultDetail unwraps multierrors and keeps key names and versions", () => {
    expect(scrubVaultDetail("1 error occurred:\n\t* permission denied\n\n")).toBe("permission denied");
    expect(scrubVaultDetail("cannot set min decryption version of 5, latest key version is 3")).toBe(
      "cannot set min decryption version of 5, latest key version is 3",
    );
    expect(scrubVaultDetail("no existing key named keyshare-prod-evm_2024 could be found")).toContain("keyshare-prod-evm_2024");
    expect(scrubVaultDetail(`token dev-root-${"ab12".repeat(6)} bad`)).toBe("token dev-root-[redacted] bad");
  });
});

describe("status classification", () => {
  const cases: [number, unknown, new (...a: never[]) => Error][] = [
    [403, { errors: ["1 error occurred:\n\t* permission denied\n\n"] }, VaultPermissionDeniedError],
    [404, { errors: [] }, VaultNotFoundError],
    [503, { errors: ["Vault is sealed"] }, VaultSealedError],
    [429, { errors: ["request path \"transit/keys/k\": rate limit quota exceeded"] }, VaultUnavailableError],
    [502, "<html>bad gateway</html>", VaultUnavailableError],
    [418, { errors: ["teapot"] }, VaultProtocolError],
  ];
  it.each(cases)("status %i → %o", async (status, json, cls) => {
    const { client } = await setup(() => ({ status, json }), { retries: 0 });
    await expect(client.readKey("k")).rejects.toBeInstanceOf(cls);
  });

  it("connection refused is unavailable and known not to have run, so even rotate is retried", async () => {
    const stub = await startStub(() => ({ status: 200, json: {} }));
    const addr = stub.url;
    await stub.close();
    const client = createVaultClient({ addr, token: TOKEN, retryBaseDelayMs: 5, logger: captureLogger().logger });
    cleanups.push(() => client.close());
    const err = await client.rotateKey("k").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultUnavailableError);
    expect((err as VaultUnavailableError).outcomeUnknown).toBe(false);
  });

  it("invalid key names are refused before anything is sent", async () => {
    const { client, stub } = await setup(() => ({ status: 200, json: {} }));
    for (const name of ["../sys/seal", "a/b", "", "x.", "-x", "a b"]) {
      await expect(client.readKey(name)).rejects.toBeInstanceOf(VaultBadRequestError);
    }
    expect(sent(stub)).toHaveLength(0);
  });
});

describe("batch answer checking", () => {
  const items = [
    { reference: "a", ciphertext: "vault:v1:AAAA" },
    { reference: "b", ciphertext: "vault:v1:BBBB" },
    { reference: "c", ciphertext: "vault:v1:CCCC" },
  ];
  const ok = (reference: string, v = 2) => ({ reference, ciphertext: `vault:v${v}:${Buffer.from(reference).toString("base64")}`, key_version: v });
  const answer = (results: unknown[]): StubReply => ({ status: 200, json: { request_id: "rq-1", data: { batch_results: results } } });

  it("sends key_version per item, matches by reference and returns input order", async () => {
    const { client, stub } = await setup(() => answer([ok("c"), ok("a"), ok("b")]));
    const ids: string[] = [];
    const res = await client.rewrapBatch("k", items, { keyVersion: 2, onRequestId: (id) => ids.push(id) });
    expect(res.map((r) => r.reference)).toEqual(["a", "b", "c"]);
    expect(ids).toEqual(["rq-1"]);
    const body = sent(stub)[0]?.body as { batch_input: { key_version?: number; reference: string }[] };
    expect(body.batch_input.every((i) => i.key_version === 2)).toBe(true);
  });

  it.each([
    ["a missing result", [ok("a"), ok("b")]],
    ["a reference not echoed", [ok("a"), ok("b"), { ciphertext: "vault:v2:AAAA", key_version: 2, reference: "" }]],
    ["a foreign reference", [ok("a"), ok("b"), ok("zzz")]],
    ["a result on another version than pinned", [ok("a"), ok("b"), ok("c", 3)]],
    ["key_version disagreeing with the ciphertext", [ok("a"), ok("b"), { ...ok("c"), key_version: 5 }]],
  ])("fails loudly on %s", async (_label, results) => {
    const { client } = await setup(() => answer(results));
    await expect(client.rewrapBatch("k", items, { keyVersion: 2 })).rejects.toBeInstanceOf(VaultProtocolError);
  });

  it("encrypt: a 400 batch envelope is a per-item answer, not a request failure", async () => {
    const { client } = await setup(() => ({
      status: 400,
      json: { request_id: "rq", data: { batch_results: [{ ciphertext: "vault:v1:QUJD", key_version: 1, reference: "0" }, { error: "illegal base64 data at input byte 0", reference: "1" }] } },
    }));
    const res = await client.encrypt("k", [{ plaintext: new Uint8Array([1]) }, { plaintext: new Uint8Array([2]) }]);
    expect(res).toEqual([
      { reference: "0", ciphertext: "vault:v1:QUJD", keyVersion: 1 },
      { reference: "1", error: "illegal base64 data at input byte 0" },
    ]);
  });

  it("splits inputs over maxBatchSize, sequentially", async () => {
    const stub = await startStub(withTokenLookup((req) => {
      const input = (req.body as { batch_input: { reference: string }[] }).batch_input;
      return answer(input.map((i) => ok(i.reference)));
    }));
    const client = createVaultClient({ addr: stub.url, token: TOKEN, maxBatchSize: 2, logger: captureLogger().logger });
    cleanups.push(() => stub.close(), () => client.close());
    const res = await client.rewrapBatch("k", items);
    expect(res.map((r) => r.reference)).toEqual(["a", "b", "c"]);
    expect(sent(stub).map((r) => (r.body as { batch_input: unknown[] }).batch_input.length)).toEqual([2, 1]);
  });

  it("refuses duplicate references and mixed context before sending", async () => {
    const { client, stub } = await setup(() => answer([]));
    await expect(client.rewrapBatch("k", [items[0]!, items[0]!])).rejects.toBeInstanceOf(VaultBadRequestError);
    await expect(client.rewrapBatch("k", [{ ...items[0]!, context: new Uint8Array([1]) }, items[1]!])).rejects.toBeInstanceOf(VaultBadRequestError);
    expect(sent(stub)).toHaveLength(0);
  });
});

describe("older Vault answers", () => {
  it("rotate answered with 204 (Vault < 1.14) reads the key afterwards", async () => {
    const { client, stub } = await setup((req) =>
      req.method === "POST"
        ? { status: 204 }
        : { status: 200, json: { request_id: "rq", data: { name: "k", type: "aes256-gcm96", latest_version: 2, min_decryption_version: 1, keys: { "1": 1700000000, "2": 1700000100 } } } },
    );
    const info = await client.rotateKey("k");
    expect(info.latestVersion).toBe(2);
    expect(info.versions.map((v) => v.createdAt.toISOString())).toEqual(["2023-11-14T22:13:20.000Z", "2023-11-14T22:15:00.000Z"]);
    expect(sent(stub).map((r) => r.method)).toEqual(["POST", "GET"]);
  });

  it("health of a sealed Vault (503 with the health body) is reported, not thrown", async () => {
    const { client } = await setup(() => ({ status: 503, json: { initialized: true, sealed: true, standby: false, version: "1.17.0", server_time_utc: 1700000000 } }));
    const h = await client.health();
    expect(h).toMatchObject({ initialized: true, sealed: true, version: "1.17.0" });
  });
});

describe("error names survive minification", () => {
  it("every Vault error class names itself explicitly (callers in other bundles match on name)", async () => {
    const mod = await import("./errors");
    const classes = Object.entries(mod).filter(
      ([exported, value]) => typeof value === "function" && /Error$/.test(exported),
    ) as [string, new (...args: never[]) => Error][];
    expect(classes.length).toBeGreaterThan(5);
    const source = (await import("node:fs")).readFileSync(new URL("./errors.ts", import.meta.url), "utf8");
    for (const [exported] of classes) {
      // A minifier renames classes, so `new.target.name` would turn into "l": the name must be a literal.
      expect(source, exported).toContain(`override name = "${exported}";`);
    }
  });
});
