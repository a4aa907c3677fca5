import { describe, expect, it } from "vitest";
import { isServerActionRequest, serverActionRefusal, type ActionOriginPolicy } from "./server-action-origin";

const PROD: ActionOriginPolicy = { publicOrigin: "https://keyshare.example.com", trustLoopbackHost: false };
const DEV: ActionOriginPolicy = { publicOrigin: "http://localhost:3000", trustLoopbackHost: true };

function post(headers: Record<string, string>, pathname = "/settings", method = "POST") {
  return { method, pathname, headers: new Headers(headers) };
}

describe("isServerActionRequest", () => {
  it("a POST with Next-Action anywhere, or any POST to a page path (form posts carry the id in the body)", () => {
    expect(isServerActionRequest(post({ "next-action": "40ab" }))).toBe(true);
    expect(isServerActionRequest(post({ "Next-Action": "40ab" }, "/api/health"))).toBe(true);
    expect(isServerActionRequest(post({ "content-type": "multipart/form-data; boundary=x" }, "/login"))).toBe(true);
    expect(isServerActionRequest(post({ "content-type": "text/plain" }, "/"))).toBe(true);
  });

  it("not GET, nor a POST to a route handler without the header", () => {
    expect(isServerActionRequest(post({ "next-action": "40ab" }, "/settings", "GET"))).toBe(false);
    expect(isServerActionRequest(post({}, "/api/auth/callback/oidc"))).toBe(false);
  });
});

describe("serverActionRefusal", () => {
  it("refuses a missing, null, foreign or malformed Origin and a cross-site fetch", () => {
    const action = { "next-action": "40ab", host: "keyshare.example.com" };
    expect(serverActionRefusal(post(action), PROD)).toBe("no Origin header");
    expect(serverActionRefusal(post({ ...action, origin: "" }), PROD)).toBe("no Origin header");
    expect(serverActionRefusal(post({ ...action, origin: "null" }), PROD)).toBe("opaque Origin");
    expect(serverActionRefusal(post({ ...action, origin: "https://evil.example" }), PROD)).toBe("foreign Origin");
    expect(serverActionRefusal(post({ ...action, origin: "http://keyshare.example.com" }), PROD)).toBe("foreign Origin");
    expect(serverActionRefusal(post({ ...action, origin: "https://keyshare.example.com.evil.example" }), PROD)).toBe("foreign Origin");
    expect(serverActionRefusal(post({ ...action, origin: "https://keyshare.example.com:8443" }), PROD)).toBe("foreign Origin");
    expect(serverActionRefusal(post({ ...action, origin: "not a url" }), PROD)).toBe("malformed Origin");
    expect(serverActionRefusal(post({ ...action, origin: PROD.publicOrigin!, "sec-fetch-site": "cross-site" }), PROD)).toBe("cross-site request");
  });

  it("production: only the public origin, whatever Host says", () => {
    expect(serverActionRefusal(post({ "next-action": "x", origin: "https://keyshare.example.com" }), PROD)).toBeNull();
    expect(serverActionRefusal(post({ "next-action": "x", origin: "https://KEYSHARE.example.com:443" }), PROD)).toBeNull();
    expect(serverActionRefusal(post({ "next-action": "x", origin: "https://keyshare.example.com", "sec-fetch-site": "same-origin" }), PROD)).toBeNull();
    // A forged Host matching a foreign Origin buys nothing outside dev mode.
    expect(serverActionRefusal(post({ "next-action": "x", origin: "http://localhost:3000", host: "localhost:3000" }), PROD)).toBe("foreign Origin");
    // Not an action: untouched.
    expect(serverActionRefusal(post({ origin: "https://evil.example" }, "/api/auth/signout"), PROD)).toBeNull();
  });

  it("dev mode: the public origin or the request's own loopback host", () => {
    expect(serverActionRefusal(post({ "next-action": "x", origin: "http://localhost:3000", host: "localhost:3000" }), DEV)).toBeNull();
    expect(serverActionRefusal(post({ "next-action": "x", origin: "http://127.0.0.1:3000", host: "127.0.0.1:3000" }), DEV)).toBeNull();
    expect(serverActionRefusal(post({ "next-action": "x", origin: "http://127.0.0.1:3000", host: "localhost:3000" }), DEV)).toBe("foreign Origin");
    // A DNS-rebound name matches its own Host but is not loopback.
    expect(serverActionRefusal(post({ "next-action": "x", origin: "http://rebind.evil.example:3000", host: "rebind.evil.example:3000" }), DEV)).toBe("foreign Origin");
    expect(serverActionRefusal(post({ "next-action": "x", host: "localhost:3000" }), DEV)).toBe("no Origin header");
  });
});
