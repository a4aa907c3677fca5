import { describe, expect, it } from "vitest";
import { canonicalJson } from "./hash";
import { REDACTED, redactDetails } from "./redact";

describe("redactDetails", () => {
  it("censors share, ciphertext, key and token fields by name at any depth", () => {
    const out = redactDetails({
      walletId: "w-1",
      encrypted_key_shares: "anything",
      nested: { wrappedKey: "x", accessToken: "y", deep: [{ "client-secret": "z", count: 3 }] },
      Plaintext: "p",
    });
    expect(out).toEqual({
      walletId: "w-1",
      encrypted_key_shares: REDACTED,
      nested: { wrappedKey: REDACTED, accessToken: REDACTED, deep: [{ "client-secret": REDACTED, count: 3 }] },
      Plaintext: REDACTED,
    });
  });

  it("censors values shaped like ciphertexts, tokens, blobs and bytes whatever the key", () => {
    const out = redactDetails({
      note: "vault:v3:abcdef==",
      t: "hvs.CAESIJ0000000000000000",
      blob: "QUJDRA+/".repeat(12),
      bytes: new Uint8Array([1, 2, 3]),
      hash: "a".repeat(64),
      keyName: "wallet-shares-prod",
    });
    expect(out).toEqual({
      note: REDACTED,
      t: REDACTED,
      blob: REDACTED,
      bytes: REDACTED,
      hash: "a".repeat(64),
      keyName: "wallet-shares-prod",
    });
  });

  it("is JSON-safe: drops functions and undefined, stringifies bigint and dates", () => {
    const out = redactDetails({ f: () => 1, u: undefined, n: 10n, d: new Date(0) });
    expect(out).toEqual({ n: "10", d: "1970-01-01T00:00:00.000Z" });
  });
});

describe("canonicalJson", () => {
  it("is independent of key order", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 1, x: 2 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { x: 2, y: 1 }] }, b: 1 }),
    );
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });
});
