import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTransitServer, type RunningTransitServer, type TransitFaults } from "./server";
import { call, connect, rawRequest } from "./test-helpers";

let srv: RunningTransitServer;
const T = "root";
beforeAll(async () => {
  srv = await startTransitServer({ port: 0, quiet: true, rootToken: T });
  expect((await call(srv.url, T, "POST", "transit/keys/k")).status).toBe(200);
});
afterAll(() => srv.close());
afterEach(() => srv.setFaults({}));

const encrypt = () => call(srv.url, T, "POST", "transit/encrypt/k", { plaintext: "aGk=" });

describe("request faults", () => {
  const cases: Array<[keyof TransitFaults, number, string]> = [
    ["sealedRate", 503, "Vault is sealed"],
    ["rateLimitRate", 429, 'request path "transit/encrypt/k": rate limit quota exceeded'],
    ["errorRate", 500, "1 error occurred:\n\t* internal error\n\n"],
  ];
  it.each(cases)("%s=1 answers %i, =0 answers normally", async (fault, status, message) => {
    srv.setFaults({ [fault]: 1 });
    for (let i = 0; i < 3; i++) {
      const r = await encrypt();
      expect(r.status).toBe(status);
      expect(r.json).toEqual({ errors: [message] });
    }
    srv.setFaults({ [fault]: 0 });
    expect((await encrypt()).status).toBe(200);
  });

  it("sealedRate applies before the token check and makes sys/health answer 503 sealed", async () => {
    srv.setFaults({ sealedRate: 1 });
    expect((await call(srv.url, undefined, "POST", "transit/encrypt/k", { plaintext: "" })).status).toBe(503);
    const h = await call(srv.url, undefined, "GET", "sys/health");
    expect(h.status).toBe(503);
    expect(h.json).toMatchObject({ initialized: true, sealed: true });
    expect((await call(srv.url, undefined, "GET", "sys/health?sealedcode=200")).status).toBe(200);
    srv.setFaults({});
    expect((await call(srv.url, undefined, "GET", "sys/health")).json.sealed).toBe(false);
  });

  it("rate-limit answers carry Retry-After", async () => {
    srv.setFaults({ rateLimitRate: 1 });
    expect((await encrypt()).headers.get("retry-after")).toBe("1");
  });

  it("resetRate=1 destroys the connection without an answer", async () => {
    srv.setFaults({ resetRate: 1 });
    const { socket, reader } = await connect(srv.url);
    socket.write(rawRequest("GET", "/v1/sys/health"));
    await expect(reader.next()).rejects.toThrow(/closed/);
    await expect(encrypt()).rejects.toThrow();
    srv.setFaults({ resetRate: 0 });
    expect((await encrypt()).status).toBe(200);
  });

  it("latencyMs delays answers", async () => {
    srv.setFaults({ latencyMs: 150 });
    const t0 = performance.now();
    expect((await encrypt()).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    srv.setFaults({ latencyMs: 0 });
    const t1 = performance.now();
    await encrypt();
    expect(performance.now() - t1).toBeLessThan(140);
  });

  it("rates between 0 and 1 fail some requests and not others", async () => {
    srv.setFaults({ errorRate: 0.5 });
    const statuses = await Promise.all(Array.from({ length: 60 }, () => encrypt().then((r) => r.status)));
    expect(statuses).toContain(500);
    expect(statuses).toContain(200);
  });
});

describe("batch item faults", () => {
  let cts: string[] = [];
  beforeAll(async () => {
    const r = await call(srv.url, T, "POST", "transit/encrypt/k", { batch_input: [{ plaintext: "YQ==" }, { plaintext: "Yg==" }] });
    cts = r.json.data.batch_results.map((x: { ciphertext: string }) => x.ciphertext);
  });

  it("batchItemFailureRate=1 fails every item following each endpoint's status rules", async () => {
    srv.setFaults({ batchItemFailureRate: 1 });
    const enc = await call(srv.url, T, "POST", "transit/encrypt/k", { batch_input: [{ plaintext: "YQ==", reference: "r1" }] });
    expect(enc.status).toBe(400);
    expect(enc.json.data.batch_results[0]).toMatchObject({ reference: "r1", error: expect.stringContaining("injected") });
    const dec = await call(srv.url, T, "POST", "transit/decrypt/k", { batch_input: cts.map((c) => ({ ciphertext: c })) });
    expect(dec.status).toBe(400);
    expect(dec.json.data.batch_results.every((x: { error?: string; plaintext: string }) => x.error && x.plaintext === "")).toBe(true);
    const rw = await call(srv.url, T, "POST", "transit/rewrap/k", { batch_input: cts.map((c) => ({ ciphertext: c })) });
    expect(rw.status).toBe(200); // rewrap batches are always 200
    expect(rw.json.data.batch_results.every((x: { error?: string }) => x.error)).toBe(true);
    const hm = await call(srv.url, T, "POST", "transit/hmac/k", { batch_input: [{ input: "YQ==" }] });
    expect(hm.status).toBe(200);
    expect(hm.json.data.batch_results[0].error).toContain("injected");
    // Single-item (non-batch) requests are not affected.
    expect((await encrypt()).status).toBe(200);
  });

  it("partial injected failures honour partial_failure_response_code", async () => {
    srv.setFaults({ batchItemFailureRate: 0.5 });
    let seenPartial = false;
    for (let i = 0; i < 20 && !seenPartial; i++) {
      const r = await call(srv.url, T, "POST", "transit/decrypt/k", {
        batch_input: Array.from({ length: 10 }, () => ({ ciphertext: cts[0] })),
        partial_failure_response_code: 207,
      });
      const errs = r.json.data.batch_results.filter((x: { error?: string }) => x.error).length;
      if (errs > 0 && errs < 10) {
        expect(r.status).toBe(207);
        seenPartial = true;
      }
    }
    expect(seenPartial).toBe(true);
  });

  it("batchItemFailureRate=0 leaves batches alone", async () => {
    srv.setFaults({ batchItemFailureRate: 0 });
    const dec = await call(srv.url, T, "POST", "transit/decrypt/k", { batch_input: cts.map((c) => ({ ciphertext: c })) });
    expect(dec.status).toBe(200);
    expect(dec.json.data.batch_results.map((x: { plaintext: string }) => x.plaintext)).toEqual(["YQ==", "Yg=="]);
  });
});

describe("control endpoint sys/dev/faults", () => {
  it("requires the root token", async () => {
    expect((await call(srv.url, undefined, "GET", "sys/dev/faults")).status).toBe(403);
    expect((await call(srv.url, "wrong", "POST", "sys/dev/faults", {})).status).toBe(403);
  });

  it("replaces faults at run time, reports them, and is itself never faulted", async () => {
    const set = await call(srv.url, T, "POST", "sys/dev/faults", { errorRate: 1, resetRate: 1, sealedRate: 1, latencyMs: 0 });
    expect(set.status).toBe(200);
    expect(set.json.data).toEqual({ errorRate: 1, resetRate: 1, sealedRate: 1, latencyMs: 0 });
    expect(set.json.request_id).toMatch(/^[0-9a-f-]{36}$/);
    await expect(encrypt()).rejects.toThrow(); // reset wins
    const get = await call(srv.url, T, "GET", "sys/dev/faults");
    expect(get.json.data).toMatchObject({ errorRate: 1 });
    // POST replaces rather than merges.
    expect((await call(srv.url, T, "POST", "sys/dev/faults", { errorRate: 1 })).json.data).toEqual({ errorRate: 1 });
    expect((await encrypt()).status).toBe(500);
    expect((await call(srv.url, T, "POST", "sys/dev/faults", {})).json.data).toEqual({});
    expect((await encrypt()).status).toBe(200);
  });

  it("setFaults() is visible through the endpoint", async () => {
    srv.setFaults({ rateLimitRate: 0.25 });
    expect((await call(srv.url, T, "GET", "sys/dev/faults")).json.data).toEqual({ rateLimitRate: 0.25 });
  });

  it("rejects invalid fault objects with 400 and keeps the current faults", async () => {
    srv.setFaults({ latencyMs: 1 });
    for (const bad of [{ errorRate: 2 }, { errorRate: "1" }, { nope: 1 }, { latencyMs: -5 }, [1]]) {
      expect((await call(srv.url, T, "POST", "sys/dev/faults", bad)).status).toBe(400);
    }
    expect((await call(srv.url, T, "POST", "sys/dev/faults", "{not json")).status).toBe(400);
    expect((await call(srv.url, T, "GET", "sys/dev/faults")).json.data).toEqual({ latencyMs: 1 });
    expect(() => srv.setFaults({ sealedRate: -1 })).toThrow();
  });

  it("faults can be set at start", async () => {
    const s2 = await startTransitServer({ port: 0, quiet: true, faults: { sealedRate: 1 } });
    try {
      expect((await call(s2.url, s2.token, "GET", "sys/mounts")).status).toBe(503);
    } finally {
      await s2.close();
    }
  });
});
