import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encodeDirect, encodeEnvelope, openShares, parseShareRecord, rewrapTarget, sealShares } from "./share-format";

describe("share record formats", () => {
  it("round-trips the envelope layout and binds it to the wallet id", () => {
    const key = randomBytes(32);
    const shares = Buffer.from("serialized shares");
    const bytes = encodeEnvelope("vault:v4:d3JhcHBlZA==", sealShares(shares, key, "w-1"));
    expect(bytes.toString("utf8")).toMatch(/^\{"v":1,"wrapped_key":"vault:v4:d3JhcHBlZA==","iv":"/);
    const parsed = parseShareRecord(bytes);
    expect(parsed?.layout).toBe("envelope");
    if (parsed?.layout !== "envelope") return;
    expect(parsed.keyVersion).toBe(4);
    expect(parsed.sealed.iv).toHaveLength(12);
    expect(openShares(parsed.sealed, key, "w-1").equals(shares)).toBe(true);
    expect(() => openShares(parsed.sealed, key, "w-2")).toThrow();
  });

  it("uses a fresh IV per record", () => {
    const key = randomBytes(32);
    const a = sealShares(Buffer.from("x"), key, "w");
    const b = sealShares(Buffer.from("x"), key, "w");
    expect(Buffer.from(a.iv).equals(Buffer.from(b.iv))).toBe(false);
  });

  it("re-wrap replaces only the wrapped key of an envelope, and the whole direct ciphertext", () => {
    const env = encodeEnvelope("vault:v1:b2xk", sealShares(Buffer.from("s"), randomBytes(32), "w"));
    const target = rewrapTarget(env);
    expect(target?.transitCiphertext).toBe("vault:v1:b2xk");
    const next = target!.replace("vault:v2:bmV3");
    expect(next.toString()).toBe(env.toString().replace("vault:v1:b2xk", "vault:v2:bmV3"));
    const direct = rewrapTarget(encodeDirect("vault:v1:b2xk"));
    expect(direct?.replace("vault:v3:bmV3").toString()).toBe("vault:v3:bmV3");
  });

  it("rejects unknown bytes", () => {
    expect(parseShareRecord(Buffer.from([0xff, 0x00]))).toBeUndefined();
    expect(parseShareRecord(Buffer.from('{"v":2}'))).toBeUndefined();
    expect(() => encodeDirect("plain")).toThrow();
  });
});
