import "server-only";
import { BlockList, isIP } from "node:net";

/**
 * Which address a request came from, for audit events and the sessions list.
 *
 * What the app can see: Next.js (`next start`) gives route handlers, server actions and proxy.ts no socket
 * address. Its server sets `X-Forwarded-For` to the socket's address only when the request carries none
 * (`??=`, it never appends), so the header the app receives is either exactly the peer's address or
 * whatever the peer sent — and a client can send anything.
 *
 * Rules:
 * - TRUSTED_PROXIES unset: no address is recorded (null). A client-sent X-Forwarded-For and a socket address
 *   look the same here, and a recorded address that the client chose is worse than none.
 * - TRUSTED_PROXIES set (the operator's statement that the app is reachable only through those proxies,
 *   each of which appends the address it received the request from): walk X-Forwarded-For from the right,
 *   skipping trusted proxies; the first address that is not one is the client. Entries left of it were sent
 *   by the client and are ignored. An unparsable entry met before that ends the walk with null. When every
 *   entry is a trusted proxy (a request from a proxy host itself), the left-most is the client.
 * - X-Real-IP and any other client-settable header are never read.
 */

export interface TrustedProxy {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

/** More hops than any real proxy chain; a longer header is walked only over its right-most part. */
const MAX_HOPS = 32;

export function trustedProxyBlockList(proxies: readonly TrustedProxy[]): BlockList | null {
  if (proxies.length === 0) return null;
  const list = new BlockList();
  for (const p of proxies) list.addSubnet(p.address, p.prefix, p.family);
  return list;
}

/**
 * One X-Forwarded-For element as an address: bare IPv4 or IPv6, `[v6]`, `[v6]:port`, `v4:port`. An
 * IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, how Node reports IPv4 peers on a dual-stack socket) is
 * returned as IPv4. Anything else is null.
 */
export function parseForwardedAddress(raw: string): { address: string; family: "ipv4" | "ipv6" } | null {
  let s = raw.trim();
  const withPort = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(s) ?? /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(s);
  if (withPort) {
    if (withPort[2] !== undefined && Number(withPort[2]) > 65535) return null;
    s = withPort[1]!;
  }
  // A zone index (fe80::1%eth0) names a local interface; it is not part of the address.
  const zone = s.indexOf("%");
  if (zone !== -1) s = s.slice(0, zone);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(s);
  if (mapped) s = mapped[1]!;
  const v = isIP(s);
  if (v === 4) return { address: s, family: "ipv4" };
  if (v === 6) return { address: s.toLowerCase(), family: "ipv6" };
  return null;
}

/** The client address from an X-Forwarded-For value under the rules above. */
export function clientIpFrom(forwardedFor: string | null, trusted: BlockList | null): string | null {
  if (!trusted || !forwardedFor) return null;
  const entries = forwardedFor
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "")
    .slice(-MAX_HOPS);
  let leftmostTrusted: string | null = null;
  for (let i = entries.length - 1; i >= 0; i--) {
    const parsed = parseForwardedAddress(entries[i]!);
    if (!parsed) return null;
    if (!trusted.check(parsed.address, parsed.family)) return parsed.address;
    leftmostTrusted = parsed.address;
  }
  return leftmostTrusted;
}
