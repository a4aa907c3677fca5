import "server-only";
import { randomUUID } from "node:crypto";
import { NextResponse } from "next/server";
import { requirePermission, type Permission, type SessionUser } from "@/lib/auth";
import { toPublicError } from "@/lib/errors";
import { logger } from "@/lib/log";

/**
 * GET route handlers that return DTOs as JSON. Authorisation happens here, first, for every request; the
 * proxy and the page that links here decide nothing. Expected errors map to their status with a safe
 * message; anything else is logged under an id and answered with a generic 500 (STYLE §5).
 */
export function jsonRoute<Ctx>(
  permission: Permission,
  handler: (req: Request, user: SessionUser, ctx: Ctx) => Promise<unknown>,
) {
  return async (req: Request, ctx: Ctx): Promise<Response> => {
    try {
      const user = await requirePermission(permission);
      const body = await handler(req, user, ctx);
      return NextResponse.json(body, { headers: { "Cache-Control": "no-store" } });
    } catch (err) {
      const errorId = randomUUID();
      const pub = toPublicError(err);
      if (pub.status >= 500) logger.error({ errorId, err }, "route failed");
      return NextResponse.json(
        { error: pub.message, ...(pub.status >= 500 ? { errorId } : {}) },
        { status: pub.status, headers: { "Cache-Control": "no-store" } },
      );
    }
  };
}
