import { describe, expect, it, vi } from "vitest";
import { ConfigError, loadConfig } from "@/lib/config/env";
import { clientIpFrom, parseForwardedAddress, trustedProxyBlockList } from "./client-ip";

/** Which address an audit row records, from X-Forwarded-For and TRUSTED_PROXIES. */

vi.mock("next/headers", () => ({ headers: async () => new Headers() }));

const trusted = (spec: string) => trustedProxyBlockList(loadConfig({ TRUSTED_PROXIES: spec }).trustedProxies);

describe("clientIpFrom", () => {
  const proxies = trusted("10.0.0.0/8, 172.16.0.0/12, fd00::/8, 2001:db8:ffff::1");

  it("takes the right-most address that is not a trusted proxy; entries the client wrote are ignored", () => {
    expect(clientIpFrom("203.0.113.5", proxies)).toBe("203.0.113.5");
    expect(clientIpFrom("203.0.113.5, 10.0.0.2", proxies)).toBe("203.0.113.5");
    // The client sent "X-Forwarded-For: 1.1.1.1, 127.0.0.1"; the proxy appended the address it saw.
    expect(clientIpFrom("1.1.1.1, 127.0.0.1, 203.0.113.5, 10.0.0.2", proxies)).toBe("203.0.113.5");
    // A client pretending to be a proxy only adds entries left of its real address.
    expect(clientIpFrom("10.0.0.9, 203.0.113.5, 10.0.0.2", proxies)).toBe("203.0.113.5");
  });

  it("walks a chain of trusted proxies (CDN → load balancer → ingress)", () => {
    expect(clientIpFrom("198.51.100.77, 172.16.4.4, 10.1.1.1, 10.2.2.2", proxies)).toBe("198.51.100.77");
  });

  it("IPv6, bracketed and with ports, and IPv4-mapped addresses", () => {
    expect(clientIpFrom("2001:db8::5, fd00::1", proxies)).toBe("2001:db8::5");
    expect(clientIpFrom("[2001:DB8::5]:443, fd12:3456::9", proxies)).toBe("2001:db8::5");
    expect(clientIpFrom("203.0.113.5:51234, 2001:db8:ffff::1", proxies)).toBe("203.0.113.5");
    expect(clientIpFrom("203.0.113.5, ::ffff:10.0.0.2", proxies)).toBe("203.0.113.5");
    expect(clientIpFrom("::ffff:198.51.100.1", proxies)).toBe("198.51.100.1");
    expect(clientIpFrom("2001:db8::1, 2001:db8:ffff::2", proxies)).toBe("2001:db8:ffff::2");
  });

  it("a request from a proxy host itself records the left-most (only trusted) address", () => {
    expect(clientIpFrom("10.0.0.5, 10.0.0.2", proxies)).toBe("10.0.0.5");
  });

  it("garbage at the trust boundary gives null, garbage the client added further left is ignored", () => {
    expect(clientIpFrom("unknown, 10.0.0.2", proxies)).toBeNull();
    expect(clientIpFrom("<script>, 203.0.113.5, 10.0.0.2", proxies)).toBe("203.0.113.5");
    expect(clientIpFrom("", proxies)).toBeNull();
    expect(clientIpFrom(null, proxies)).toBeNull();
  });

  it("without TRUSTED_PROXIES no address is recorded, whatever the headers say", () => {
    const none = trustedProxyBlockList(loadConfig({}).trustedProxies);
    expect(none).toBeNull();
    expect(clientIpFrom("203.0.113.5", none)).toBeNull();
    expect(clientIpFrom("1.1.1.1, 203.0.113.5", none)).toBeNull();
  });

  it("parses only addresses", () => {
    expect(parseForwardedAddress(" 192.0.2.1 ")).toEqual({ address: "192.0.2.1", family: "ipv4" });
    expect(parseForwardedAddress("[::1]")).toEqual({ address: "::1", family: "ipv6" });
    expect(parseForwardedAddress("fe80::1%eth0")).toEqual({ address: "fe80::1", family: "ipv6" });
    for (const bad of ["unknown", "192.0.2.256", "192.0.2.1:99999", "_hidden", "[::1", "1.2.3.4/24"]) expect(parseForwardedAddress(bad)).toBeNull();
  });
});

describe("requestContextFrom", () => {
  async function contextWith(env: Record<string, string | undefined>, headers: Record<string, string>) {
    vi.resetModules();
    const saved = process.env.TRUSTED_PROXIES;
    if (env.TRUSTED_PROXIES === undefined) delete process.env.TRUSTED_PROXIES;
    else process.env.TRUSTED_PROXIES = env.TRUSTED_PROXIES;
    try {
      const { requestContextFrom } = await import("./request-context");
      return requestContextFrom(new Headers(headers));
    } finally {
      if (saved === undefined) delete process.env.TRUSTED_PROXIES;
      else process.env.TRUSTED_PROXIES = saved;
    }
  }

  const spoofing = {
    "x-forwarded-for": "6.6.6.6, 203.0.113.5, 10.0.0.2",
    "x-real-ip": "7.7.7.7",
    "x-keyshare-client-ip": "8.8.8.8",
    "x-client-ip": "9.9.9.9",
    forwarded: "for=5.5.5.5",
    "user-agent": "ua",
  };

  it("with TRUSTED_PROXIES: the X-Forwarded-For rule; client-sent X-Real-IP and internal-looking headers are ignored", async () => {
    expect((await contextWith({ TRUSTED_PROXIES: "10.0.0.0/8" }, spoofing)).ip).toBe("203.0.113.5");
    const { "x-forwarded-for": _, ...noXff } = spoofing;
    expect((await contextWith({ TRUSTED_PROXIES: "10.0.0.0/8" }, noXff)).ip).toBeNull();
  });

  it("without TRUSTED_PROXIES: null, whatever the client sent", async () => {
    expect(await contextWith({}, spoofing)).toMatchObject({ ip: null, userAgent: "ua" });
  });
});

describe("TRUSTED_PROXIES validation", () => {
  it("accepts IPv4 and IPv6 addresses and CIDR ranges", () => {
    expect(loadConfig({ TRUSTED_PROXIES: " 10.0.0.0/8,192.0.2.1 , 2001:db8::/32,::1 " }).trustedProxies).toEqual([
      { address: "10.0.0.0", prefix: 8, family: "ipv4" },
      { address: "192.0.2.1", prefix: 32, family: "ipv4" },
      { address: "2001:db8::", prefix: 32, family: "ipv6" },
      { address: "::1", prefix: 128, family: "ipv6" },
    ]);
    expect(loadConfig({ TRUSTED_PROXIES: "" }).trustedProxies).toEqual([]);
  });

  it.each(["10.0.0.0/33", "::1/129", "proxy.internal", "10.0.0.0/8/1", "10.0.0.0/", "10.0.0.0/x", "fe80::1%eth0", "10.0.0.0/-1"])(
    "refuses %s and names the setting",
    (value) => {
      expect(() => loadConfig({ TRUSTED_PROXIES: value })).toThrow(ConfigError);
      expect(() => loadConfig({ TRUSTED_PROXIES: value })).toThrow(/TRUSTED_PROXIES/);
    },
  );
});
