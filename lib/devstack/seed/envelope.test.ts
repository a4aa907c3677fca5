import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseShareRecord, rewrapTarget } from "@/lib/db/share-format";
import { encodeEnvelope, openShares, sealShares } from "./envelope";

describe("sealing envelope records (dev seeder)", () => {
  it("round-trips through the production parser and binds the record to the wallet id", () => {
    const key = randomBytes(32);
    const shares = Buffer.from("serialized shares");
    const bytes = encodeEnvelope("vault:v4:d3JhcHBlZA==", sealShares(shares, key, "w-1"));
    expect(bytes.toString("utf8")).toMatch(/^\{"v":1,"wrapped_key":"vault:v4:d3JhcHBlZA==","iv":"/);
    const parsed = parseShareRecord(bytes);
    expect(parsed?.layout).toBe("envelope");
    if (parsed?.layout !== "envelope") return;
    expect(parsed.keyVersion).toBe(4);
    expect(parsed.sealed.iv).toHaveLength(12);
    expect(parsed.sealed.tag).toHaveLength(16);
    expect(openShares(parsed.sealed, key, "w-1").equals(shares)).toBe(true);
    expect(() => openShares(parsed.sealed, key, "w-2")).toThrow();
    expect(() => openShares(parsed.sealed, randomBytes(32), "w-1")).toThrow();
  });

  it("uses a fresh IV per record and refuses a short data key or a non-Transit wrapped key", () => {
    const key = randomBytes(32);
    const a = sealShares(Buffer.from("x"), key, "w");
    const b = sealShares(Buffer.from("x"), key, "w");
    expect(Buffer.from(a.iv).equals(Buffer.from(b.iv))).toBe(false);
    expect(() => sealShares(Buffer.from("x"), randomBytes(16), "w")).toThrow();
    expect(() => encodeEnvelope("plain", a)).toThrow();
  });

  it("a re-wrapped envelope still opens with the same data key", () => {
    const key = randomBytes(32);
    const env = encodeEnvelope("vault:v1:b2xk", sealShares(Buffer.from("s"), key, "w"));
    const next = rewrapTarget(env)!.replace("vault:v2:bmV3");
    const parsed = parseShareRecord(next);
    if (parsed?.layout !== "envelope") throw new Error("not an envelope");
    expect(parsed.keyVersion).toBe(2);
    expect(openShares(parsed.sealed, key, "w").toString()).toBe("s");
  });
});
