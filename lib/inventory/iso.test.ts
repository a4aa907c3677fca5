import { describe, expect, it } from "vitest";
import { msToIso, usToIso } from "./iso";

describe("msToIso", () => {
  it("matches toISOString", () => {
    const fixed = [0, 1, 999, 1000, 86_399_999, 86_400_000, 951_782_400_000, 1_709_251_199_999, 253_402_300_799_999, 253_402_300_800_000, -1, -86_400_001, -62_167_219_200_001, 8.64e15];
    for (const ms of fixed) expect(msToIso(ms)).toBe(new Date(ms).toISOString());
    for (let i = 0; i < 20_000; i++) {
      const ms = Math.floor(Math.random() * 4_102_444_800_000);
      expect(msToIso(ms)).toBe(new Date(ms).toISOString());
    }
  });
  it("truncates microseconds like the bigint division did", () => {
    expect(usToIso(1_700_000_000_123_999)).toBe(new Date(1_700_000_000_123).toISOString());
  });
});
