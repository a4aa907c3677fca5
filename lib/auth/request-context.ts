import "server-only";
import { headers } from "next/headers";

/**
 * Who is asking, for audit events: client IP, user agent and the request id proxy.ts assigns.
 * X-Forwarded-For is taken at face value (first hop): the app is meant to sit behind its own reverse proxy,
 * which must overwrite, not append to, a client-supplied header. Outside a request (scripts, tests) all null.
 */
export interface RequestContext {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export const REQUEST_ID_HEADER = "x-request-id";

export function requestContextFrom(h: Headers): RequestContext {
  const xff = h.get("x-forwarded-for")?.split(",")[0]?.trim();
  return {
    ip: xff || h.get("x-real-ip") || null,
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
