import { describe, expect, it } from "vitest";
import { encodeDirect, parseShareRecord, rewrapTarget, serializeEnvelope, transitKeyVersion, type Envelope } from "./share-format";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const ENVELOPE: Envelope = { v: 1, wrapped_key: "vault:v4:d3JhcHBlZA==", iv: b64("twelve-bytes"), ciphertext: b64("sealed shares"), tag: b64("sixteen-byte-tag") };

describe("share record formats", () => {
  it("serializes an envelope in the documented order and parses it back", () => {
    const bytes = serializeEnvelope(ENVELOPE);
    expect(bytes.toString("utf8")).toBe(
      `{"v":1,"wrapped_key":"vault:v4:d3JhcHBlZA==","iv":"${ENVELOPE.iv}","ciphertext":"${ENVELOPE.ciphertext}","tag":"${ENVELOPE.tag}"}`,
    );
    const parsed = parseShareRecord(bytes);
    expect(parsed?.layout).toBe("envelope");
    if (parsed?.layout !== "envelope") return;
    expect(parsed.keyVersion).toBe(4);
    expect(parsed.envelope).toEqual(ENVELOPE);
    expect(Buffer.from(parsed.sealed.iv).toString()).toBe("twelve-bytes");
    expect(Buffer.from(parsed.sealed.ciphertext).toString()).toBe("sealed shares");
    expect(Buffer.from(parsed.sealed.tag).toString()).toBe("sixteen-byte-tag");
    expect(() => serializeEnvelope({ ...ENVELOPE, wrapped_key: "plain" })).toThrow();
  });

  it("parses the direct layout and reads Transit key versions", () => {
    expect(parseShareRecord(encodeDirect("vault:v7:b2xk"))).toEqual({ layout: "direct", transitCiphertext: "vault:v7:b2xk", keyVersion: 7 });
    expect(transitKeyVersion("vault:v12:abc=")).toBe(12);
    expect(transitKeyVersion("vault:v0:abc=")).toBeUndefined();
    expect(transitKeyVersion("vault:v1:")).toBeUndefined();
  });

  it("re-wrap replaces only the wrapped key of an envelope, and the whole direct ciphertext", () => {
    const env = serializeEnvelope({ ...ENVELOPE, wrapped_key: "vault:v1:b2xk" });
    const target = rewrapTarget(env);
    expect(target?.transitCiphertext).toBe("vault:v1:b2xk");
    const next = target!.replace("vault:v2:bmV3");
    expect(next.toString()).toBe(env.toString().replace("vault:v1:b2xk", "vault:v2:bmV3"));
    expect(() => target!.replace("not transit")).toThrow();
    const direct = rewrapTarget(encodeDirect("vault:v1:b2xk"));
    expect(direct?.replace("vault:v3:bmV3").toString()).toBe("vault:v3:bmV3");
  });

  it("rejects unknown bytes", () => {
    expect(parseShareRecord(Buffer.from([0xff, 0x00]))).toBeUndefined();
    expect(parseShareRecord(Buffer.from('{"v":2}'))).toBeUndefined();
    expect(parseShareRecord(Buffer.from('{"v":1,"wrapped_key":"nope","iv":"","ciphertext":"","tag":""}'))).toBeUndefined();
    expect(rewrapTarget(Buffer.from("vault:vX:abc"))).toBeUndefined();
    expect(() => encodeDirect("plain")).toThrow();
  });
});
