import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./index";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, logger: createLogger({ level: "info", destination }) };
}

describe("logger redaction", () => {
  it("censors share, ciphertext, token and cookie fields at any of the first levels", () => {
    const { lines, logger } = capture();
    const secret = "vault:v3:c2VjcmV0LXNoYXJlLW1hdGVyaWFs";
    logger.info(
      {
        ciphertext: secret,
        record: { encrypted_key_shares: secret, id: "r1" },
        req: { headers: { cookie: "session=abc", "x-vault-token": "hvs.abc" } },
        vault: { response: { data: { plaintext: "cGxhaW4=" } } },
        token: "hvs.root",
      },
      "event",
    );
    const out = lines.join("");
    expect(out).not.toContain(secret);
    expect(out).not.toContain("session=abc");
    expect(out).not.toContain("hvs.abc");
    expect(out).not.toContain("hvs.root");
    expect(out).not.toContain("cGxhaW4=");
    expect(out).toContain('"id":"r1"');
    expect(out).toContain("[redacted]");
  });
});
