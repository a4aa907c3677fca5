import { describe, expect, it } from "vitest";
import { parseTimestamptz } from "./chain-rows";

describe("parseTimestamptz (PostgreSQL's ISO text form)", () => {
  it("reads fractions and offsets, and tells sub-millisecond digits apart", () => {
    expect(parseTimestamptz("2026-12-06 20:43:53+00")).toEqual({ date: new Date("2026-12-06T20:43:53.000Z"), exact: true });
    expect(parseTimestamptz("2026-12-06 20:43:53.1+00")).toEqual({ date: new Date("2026-12-06T20:43:53.100Z"), exact: true });
    expect(parseTimestamptz("2026-12-06 20:43:53.123+00")).toEqual({ date: new Date("2026-12-06T20:43:53.123Z"), exact: true });
    expect(parseTimestamptz("2026-12-06 20:43:53.123000+00")).toEqual({ date: new Date("2026-12-06T20:43:53.123Z"), exact: true });
    expect(parseTimestamptz("2026-12-06 20:43:53.123001+00")).toEqual({ date: new Date("2026-12-06T20:43:53.123Z"), exact: false });
    expect(parseTimestamptz("2026-12-06 22:13:53.5+01:30")).toEqual({ date: new Date("2026-12-06T20:43:53.500Z"), exact: true });
    expect(parseTimestamptz("2026-12-06 13:43:53-07")).toEqual({ date: new Date("2026-12-06T20:43:53.000Z"), exact: true });
    expect(() => parseTimestamptz("Sun Dec 06 20:43:53 2026 UTC")).toThrow(/DateStyle must be ISO/);
  });
});
