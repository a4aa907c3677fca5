/**
 * Dev-server-only checks: fault injection through `RunningTransitServer.setFaults`. A real Vault has no such
 * thing, so the whole file is skipped when VAULT_ADDR is set. Failure responses still have to look like the
 * real ones (§1.4, §1.5): `{"errors": [...]}` bodies and the real status codes.
 */
import { afterEach, describe, expect, it } from "vitest";
import { b64, createKey, decrypt, encrypt, expectError, useTransitMount } from "./harness";
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
