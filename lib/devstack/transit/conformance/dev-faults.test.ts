/**
 * Dev-server-only checks: fault injection through `RunningTransitServer.setFaults` and the HTTP control
 * endpoint `sys/dev/faults` (GET shows, POST replaces the fault set; token required). A real Vault has no
 * such thing, so the whole file is skipped when VAULT_ADDR is set. Failure responses still have to look like
 * the real ones (§1.4, §1.5): `{"errors": [...]}` bodies and the real status codes.
 */
import { afterEach, describe, expect, it } from "vitest";
import { b64, createKey, decrypt, encrypt, expectError, expectErrorContaining, useTransitMount } from "./harness";
import { isRealVault } from "./target";

const ctx = useTransitMount();

function faults() {
  const dev = ctx.target.dev;
  if (!dev) throw new Error("fault injection needs the in-process dev server");
  return dev;
}

describe.skipIf(isRealVault)("dev server fault injection (dev-only)", () => {
  afterEach(() => faults().setFaults({}));

  it("sealedRate 1 → 503 {errors: [\"Vault is sealed\"]}; clearing restores service", async () => {
    const key = await createKey(ctx);
    faults().setFaults({ sealedRate: 1 });
    expectError(await ctx.client.post(ctx.t(`encrypt/${key}`), { plaintext: b64("x") }), 503, "Vault is sealed");
    faults().setFaults({});
    expect(await decrypt(ctx, key, await encrypt(ctx, key, "back"))).toBe("back");
  });

  it("rateLimitRate 1 → 429 with an errors body", async () => {
    const key = await createKey(ctx);
    faults().setFaults({ rateLimitRate: 1 });
    const res = await ctx.client.post(ctx.t(`encrypt/${key}`), { plaintext: b64("x") });
    expect(res.status).toBe(429);
    expect(Array.isArray(res.body?.errors)).toBe(true);
  });

  it("errorRate 1 → a 5xx with an errors body", async () => {
    const key = await createKey(ctx);
    faults().setFaults({ errorRate: 1 });
    const res = await ctx.client.post(ctx.t(`encrypt/${key}`), { plaintext: b64("x") });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.status).toBeLessThan(600);
    expect(Array.isArray(res.body?.errors)).toBe(true);
    expect(res.body.errors.length).toBeGreaterThan(0);
  });

  it("resetRate 1 → the connection is dropped (fetch rejects)", async () => {
    const key = await createKey(ctx);
    faults().setFaults({ resetRate: 1 });
    await expect(ctx.client.post(ctx.t(`encrypt/${key}`), { plaintext: b64("x") })).rejects.toThrow();
  });

  it("latencyMs delays responses", async () => {
    const key = await createKey(ctx);
    faults().setFaults({ latencyMs: 300 });
    const started = performance.now();
    const ct = await encrypt(ctx, key, "slow");
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(ct).toMatch(/^vault:v1:/);
  });

  it("batchItemFailureRate 1 → every batch item carries an error; batch status rules still apply", async () => {
    const key = await createKey(ctx);
    faults().setFaults({ batchItemFailureRate: 1 });
    const res = await ctx.client.post(ctx.t(`encrypt/${key}`), {
      batch_input: [{ plaintext: b64("a"), reference: "a" }, { plaintext: b64("b"), reference: "b" }],
    });
    // All items failed: 400 for user errors, 500 for internal ones (§3.3); never 200.
    expect([400, 500]).toContain(res.status);
    expect(res.body).not.toHaveProperty("errors");
    const results = res.body.data.batch_results as Array<{ error?: string; reference: string }>;
    expect(results.map((r) => r.reference)).toEqual(["a", "b"]);
    for (const r of results) expect(typeof r.error === "string" && r.error.length > 0).toBe(true);
  });

  it("after clearing, nothing is faulty any more", async () => {
    faults().setFaults({ sealedRate: 1, rateLimitRate: 1, errorRate: 1, latencyMs: 200 });
    faults().setFaults({});
    const key = await createKey(ctx);
    const started = performance.now();
    for (let i = 0; i < 10; i++) expect(await decrypt(ctx, key, await encrypt(ctx, key, `n${i}`))).toBe(`n${i}`);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe.skipIf(isRealVault)("dev server fault endpoint sys/dev/faults (dev-only)", () => {
  afterEach(() => faults().setFaults({}));

  const setViaHttp = (body: unknown) => ctx.client.post("sys/dev/faults", body);

  it("POST sets faults and echoes them; GET shows them; POST {} clears", async () => {
    const set = await setViaHttp({ rateLimitRate: 1 });
    expect(set.status).toBe(200);
    expect(set.body.data).toEqual({ rateLimitRate: 1 });
    const got = await ctx.client.get("sys/dev/faults");
    expect(got.status).toBe(200);
    expect(got.body.data).toEqual({ rateLimitRate: 1 });
    const cleared = await setViaHttp({});
    expect(cleared.status).toBe(200);
    expect(cleared.body.data).toEqual({});
  });

  it("sealed via the endpoint → transit 503 Vault is sealed and sys/health 503 sealed:true; clearing works while sealed", async () => {
    const key = await createKey(ctx);
    expect((await setViaHttp({ sealedRate: 1 })).status).toBe(200);
    expectError(await ctx.client.post(ctx.t(`encrypt/${key}`), { plaintext: b64("x") }), 503, "Vault is sealed");
    const health = await ctx.client.get("sys/health", { token: null });
    expect(health.status).toBe(503);
    expect(health.body.sealed).toBe(true);
    expect((await setViaHttp({})).status).toBe(200);
    expect((await ctx.client.get("sys/health", { token: null })).status).toBe(200);
    expect(await decrypt(ctx, key, await encrypt(ctx, key, "unsealed"))).toBe("unsealed");
  });

  it("rate limit via the endpoint → 429; reset via the endpoint → connection dropped; then cleared", async () => {
    const key = await createKey(ctx);
    expect((await setViaHttp({ rateLimitRate: 1 })).status).toBe(200);
    expect((await ctx.client.post(ctx.t(`encrypt/${key}`), { plaintext: b64("x") })).status).toBe(429);
    expect((await setViaHttp({ resetRate: 1 })).status).toBe(200);
    await expect(ctx.client.post(ctx.t(`encrypt/${key}`), { plaintext: b64("x") })).rejects.toThrow();
    expect((await setViaHttp({})).status).toBe(200);
    expect((await ctx.client.post(ctx.t(`encrypt/${key}`), { plaintext: b64("x") })).status).toBe(200);
  });

  it("needs a token (403) and rejects a malformed fault set (400) without changing the current one", async () => {
    expectErrorContaining(
      await ctx.client.post("sys/dev/faults", { sealedRate: 1 }, { token: null }),
      403,
      "permission denied",
    );
    const bad = await setViaHttp({ sealedRate: "always" });
    expect(bad.status).toBe(400);
    expect(Array.isArray(bad.body.errors)).toBe(true);
    expect((await ctx.client.get("sys/dev/faults")).body.data).toEqual({});
    const key = await createKey(ctx);
    expect(await decrypt(ctx, key, await encrypt(ctx, key, "fine"))).toBe("fine");
  });
});
