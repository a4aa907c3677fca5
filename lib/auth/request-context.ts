import "server-only";
import type { BlockList } from "node:net";
import { headers } from "next/headers";
import { getConfig } from "@/lib/config/env";
import { clientIpFrom, trustedProxyBlockList } from "./client-ip";

/**
 * Who is asking, for audit events: client IP, user agent and the request id proxy.ts assigns.
 * The IP follows lib/auth/client-ip.ts: the right-most X-Forwarded-For entry that is not one of
 * TRUSTED_PROXIES, and null when TRUSTED_PROXIES is unset (a client-chosen value is never recorded).
 * Outside a request (scripts, tests) all null.
 */
export interface RequestContext {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export const REQUEST_ID_HEADER = "x-request-id";

let trusted: { source: unknown; list: BlockList | null } | undefined;

function trustedProxies(): BlockList | null {
  const source = getConfig().trustedProxies;
  if (trusted?.source !== source) trusted = { source, list: trustedProxyBlockList(source) };
  return trusted.list;
}

export function requestContextFrom(h: Headers): RequestContext {
  return {
    ip: clientIpFrom(h.get("x-forwarded-for"), trustedProxies()),
    userAgent: h.get("user-agent"),
    requestId: h.get(REQUEST_ID_HEADER),
  };
}

export async function getRequestContext(): Promise<RequestContext> {
  try {
    return requestContextFrom(await headers());
  } catch {
    return { ip: null, userAgent: null, requestId: null };
  }
}
