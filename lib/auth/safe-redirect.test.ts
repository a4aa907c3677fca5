import { describe, expect, it } from "vitest";
import { safeCallbackPath } from "./safe-redirect";

describe("safeCallbackPath", () => {
  it("keeps same-origin paths", () => {
    expect(safeCallbackPath("/wallets?chain=EVM")).toBe("/wallets?chain=EVM");
    expect(safeCallbackPath("/")).toBe("/");
  });
  it.each(["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)", "wallets", "", "/login", "/api/auth/signout", "/no-access", "/reauth?callbackUrl=/reauth", "/\r\nSet-Cookie:x", "/a\tb"])(
    "rejects %j",
    (v) => {
      expect(safeCallbackPath(v)).toBe("/");
    },
  );
  it("rejects non-strings", () => {
    expect(safeCallbackPath(null)).toBe("/");
    expect(safeCallbackPath(["/x"])).toBe("/");
  });
});
