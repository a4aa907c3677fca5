/**
 * Failure behaviour against the dev Transit server's fault injection. A counting proxy between client and
 * server shows how many attempts the client made.
 */
import { randomBytes } from "node:crypto";
import util from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTransitServer } from "@/lib/devstack/transit/server";
import { createVaultClient, type VaultClient } from "./client";
import { VaultSealedError, VaultUnavailableError } from "./errors";
import { captureLogger, startCountingProxy } from "./test-support";

let server: Awaited<ReturnType<typeof startTransitServer>>;
let proxy: Awaited<ReturnType<typeof startCountingProxy>>;
let client: VaultClient;
const logs = captureLogger();
let onRequest: ((n: number) => void) | undefined;
let ciphertexts: string[] = [];
const plaintext = randomBytes(32);

beforeAll(async () => {
  server = await startTransitServer({ port: 0, quiet: true });
  proxy = await startCountingProxy(server.url, (_m, _p, n) => onRequest?.(n));
  client = createVaultClient({ addr: proxy.url, token: server.token, timeoutMs: 1_000, retries: 2, retryBaseDelayMs: 5, logger: logs.logger });
  await client.createKey("fault-key");
  ciphertexts = (await client.encrypt("fault-key", Array.from({ length: 200 }, () => ({ plaintext })))).map((r) => {
    if (!("ciphertext" in r)) throw new Error("setup encrypt failed");
    return r.ciphertext;
  });
});
afterEach(() => {
  server.setFaults({});
  onRequest = undefined;
  proxy.hits.length = 0;
});
afterAll(async () => {
  client?.close();
  await proxy?.close();
  await server?.close();
});

const keyPath = "/v1/transit/keys/fault-key";
const rotatePath = "/v1/transit/keys/fault-key/rotate";

function expectLeakFree(err: unknown) {
  const dumped = JSON.stringify(err) + util.inspect(err, { depth: 20, showHidden: true }) + logs.text();
  expect(dumped).not.toContain(server.token);
  expect(dumped).not.toContain(plaintext.toString("base64"));
  for (const ct of ciphertexts.slice(0, 3)) expect(dumped).not.toContain(ct.slice(9));
}

describe("faults → domain errors and retry policy", () => {
  it("latency above timeoutMs is a timeout (VaultUnavailableError, outcome unknown)", async () => {
    const before = (await client.readKey("fault-key")).latestVersion;
    proxy.hits.length = 0;
    server.setFaults({ latencyMs: 1_500 });
    const started = Date.now();
    const err = await client.rotateKey("fault-key").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultUnavailableError);
    expect((err as VaultUnavailableError).reason).toBe("timeout");
    expect((err as VaultUnavailableError).outcomeUnknown).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_400);
    expect(proxy.count(rotatePath)).toBe(1); // ambiguous: never retried for rotate
    expectLeakFree(err);
    // Why: the abandoned request still runs. Once it lands the key has rotated exactly once, not three times.
    server.setFaults({});
    await new Promise((r) => setTimeout(r, 800));
    expect((await client.readKey("fault-key")).latestVersion).toBe(before + 1);
  });

  it("sealed → VaultSealedError; reads retried, and rotate too (a sealed Vault provably did nothing)", async () => {
    server.setFaults({ sealedRate: 1 });
    const err = await client.readKey("fault-key").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultSealedError);
    expect(err).toBeInstanceOf(VaultUnavailableError);
    expect((err as VaultSealedError).vaultStatus).toBe(503);
    expect(proxy.count(keyPath)).toBe(3);
    proxy.hits.length = 0;
    await expect(client.rotateKey("fault-key")).rejects.toBeInstanceOf(VaultSealedError);
    expect(proxy.count(rotatePath)).toBe(3);
  });

  it("429 → VaultUnavailableError rate-limited, retried", async () => {
    server.setFaults({ rateLimitRate: 1 });
    const err = await client.readKey("fault-key").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultUnavailableError);
    expect((err as VaultUnavailableError).reason).toBe("rate-limited");
    expect((err as VaultUnavailableError).vaultStatus).toBe(429);
    expect(proxy.count(keyPath)).toBe(3);
  });

  it("500 → VaultUnavailableError; reads retried 2×, rotate not retried", async () => {
    const before = (await client.readKey("fault-key")).latestVersion;
    proxy.hits.length = 0;
    server.setFaults({ errorRate: 1 });
    const readErr = await client.readKey("fault-key").catch((e: unknown) => e);
    expect(readErr).toBeInstanceOf(VaultUnavailableError);
    expect((readErr as VaultUnavailableError).reason).toBe("server");
    expect(proxy.count(keyPath)).toBe(3);

    proxy.hits.length = 0;
    const rotErr = await client.rotateKey("fault-key").catch((e: unknown) => e);
    expect(rotErr).toBeInstanceOf(VaultUnavailableError);
    expect((rotErr as VaultUnavailableError).outcomeUnknown).toBe(true);
    expect(proxy.count(rotatePath)).toBe(1);
    server.setFaults({});
    expect((await client.readKey("fault-key")).latestVersion).toBe(before);
    expectLeakFree(rotErr);
  });

  it("connection reset → VaultUnavailableError network; reads retried, rotate not", async () => {
    server.setFaults({ resetRate: 1 });
    const err = await client.readKey("fault-key").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultUnavailableError);
    expect((err as VaultUnavailableError).reason).toBe("network");
    expect(proxy.count(keyPath)).toBe(3);
    proxy.hits.length = 0;
    await expect(client.rotateKey("fault-key")).rejects.toBeInstanceOf(VaultUnavailableError);
    expect(proxy.count(rotatePath)).toBe(1);
  });

  it("a read recovers when the fault clears between attempts (rate 1, then 0)", async () => {
    server.setFaults({ errorRate: 1 });
    onRequest = (n) => {
      if (n === 2) server.setFaults({});
    };
    const info = await client.readKey("fault-key");
    expect(info.name).toBe("fault-key");
    expect(proxy.count(keyPath)).toBe(2);
  });

  it("rewrap is retried through a transient 500 and returns exactly one result per item", async () => {
    server.setFaults({ errorRate: 1 });
    onRequest = (n) => {
      if (n === 2) server.setFaults({});
    };
    const items = ciphertexts.slice(0, 50).map((c, i) => ({ reference: `r${i}`, ciphertext: c }));
    const res = await client.rewrapBatch("fault-key", items);
    expect(res).toHaveLength(50);
    expect(res.every((r) => "ciphertext" in r)).toBe(true);
    expect(proxy.count("/v1/transit/rewrap/fault-key")).toBe(2);
  });

  it("encrypt is not retried on a 500", async () => {
    server.setFaults({ errorRate: 1 });
    await expect(client.encrypt("fault-key", [{ plaintext }])).rejects.toBeInstanceOf(VaultUnavailableError);
    expect(proxy.count("/v1/transit/encrypt/fault-key")).toBe(1);
  });

  it("per-item batch failures are surfaced, not thrown", async () => {
    server.setFaults({ batchItemFailureRate: 0.5 });
    const items = ciphertexts.map((c, i) => ({ reference: `r${i}`, ciphertext: c }));
    const res = await client.rewrapBatch("fault-key", items);
    expect(res.map((r) => r.reference)).toEqual(items.map((i) => i.reference));
    const failed = res.filter((r) => "error" in r);
    expect(failed.length).toBeGreaterThan(40);
    expect(failed.length).toBeLessThan(160);
    for (const f of failed) expect(typeof (f as { error: string }).error).toBe("string");

    server.setFaults({ batchItemFailureRate: 1 });
    const all = await client.rewrapBatch("fault-key", items.slice(0, 10));
    expect(all.every((r) => "error" in r)).toBe(true);
    expectLeakFree(all);
  });
});
