import { describe, expect, it } from "vitest";
import { Base64Error, decodeBase64Std } from "./base64";

const ok = (s: string) => {
  const r = decodeBase64Std(s);
  if (r instanceof Base64Error) throw new Error(`unexpected error ${r.message}`);
  return r.toString("latin1");
};
const err = (s: string) => {
  const r = decodeBase64Std(s);
  return r instanceof Base64Error ? r.message : `decoded ${r.toString("hex")}`;
};

describe("decodeBase64Std (Go StdEncoding semantics)", () => {
  it("decodes padded standard base64, including empty input", () => {
    expect(ok("aGVsbG8=")).toBe("hello");
    expect(ok("aGVsbA==")).toBe("hell");
    expect(ok("aGVs")).toBe("hel");
    expect(ok("")).toBe("");
  });

  it("reports Go's byte offsets", () => {
    expect(err(":;.?")).toBe("illegal base64 data at input byte 0");
    expect(err("simple plaintext")).toBe("illegal base64 data at input byte 6");
    expect(err("YWJjZA")).toBe("illegal base64 data at input byte 4"); // missing padding
    expect(err("YWJjZA=")).toBe("illegal base64 data at input byte 7");
    expect(err("YWJjZ===")).toBe("illegal base64 data at input byte 5");
    expect(err("aGVsbG8=aGVs")).toBe("illegal base64 data at input byte 8"); // trailing garbage after padding
  });

  it("rejects the URL-safe alphabet that Buffer.from accepts", () => {
    expect(Buffer.from("-_-_", "base64").length).toBe(3);
    expect(err("-_-_")).toBe("illegal base64 data at input byte 0");
    expect(err("ab_c")).toBe("illegal base64 data at input byte 2");
  });

  it("skips CR and LF anywhere but rejects other whitespace", () => {
    expect(ok("aGVs\r\nbG8=")).toBe("hello");
    expect(ok("aG\nVsbA=\n=")).toBe("hell");
    expect(err("aGVs bG8=")).toBe("illegal base64 data at input byte 4");
  });

  it("accepts non-zero trailing bits (non-strict mode)", () => {
    expect(ok("aGVsbG9=")).toBe("hello");
  });

  it("counts offsets in UTF-8 bytes for non-ASCII input", () => {
    expect(err("ab\u00e9d")).toBe("illegal base64 data at input byte 2");
  });

  it("agrees with a reference strict decoder on random inputs", () => {
    const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const junk = `${alpha}=-_ \r\n*.\u00e9\u0000`;
    const ref = (s: string) => {
      const t = s.replace(/[\r\n]/g, "");
      if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(t)) return null;
      return Buffer.from(t, "base64").toString("hex");
    };
    for (let i = 0; i < 20000; i++) {
      let s = "";
      const n = Math.floor(Math.random() * 13);
      for (let j = 0; j < n; j++) s += Math.random() < 0.85 ? alpha[Math.floor(Math.random() * 64)] : junk[Math.floor(Math.random() * junk.length)];
      if (Math.random() < 0.3) s += "=".repeat(1 + Math.floor(Math.random() * 2));
      const r = decodeBase64Std(s);
      expect(r instanceof Base64Error ? null : r.toString("hex"), JSON.stringify(s)).toBe(ref(s));
    }
  });
});
