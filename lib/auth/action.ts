import "server-only";
import { randomUUID } from "node:crypto";
import { unstable_rethrow } from "next/navigation";
import type { z } from "zod";
import type { AuditActor } from "@/lib/audit";
import { DomainError, toPublicError } from "@/lib/errors";
import { logger } from "@/lib/log";
import type { Permission } from "./permissions";
import { getRequestContext } from "./request-context";
import { auditActorFor, requirePermission, type SessionUser } from "./session";

/**
 * The fail-closed server action wrapper (STYLE 4–5). Every server action is a public POST endpoint, so:
 * 1. authorise first (`requirePermission`; a refusal is audited) — before parsing or touching data;
 * 2. validate the input with zod; nothing unparsed reaches `fn`;
 * 3. return `{ ok: true, data }` or `{ ok: false, error }`. Domain errors carry their user-safe message;
 *    anything else is logged under an id and answered generically. Next's redirect/notFound pass through.
 *
 *   export const pauseCampaignAction = authedAction("campaign:pause", pauseSchema, async (input, { user, actor }) => …);
 *
 * `fn` must itself write its audit event (withAudit with `ctx.actor` and `ctx.requestId`).
 */

export type ActionResult<T> =
  | { ok: true; data: T }
  | { ok: false; error: string; code: "unauthorized" | "forbidden" | "invalid" | "not_found" | "conflict" | "unavailable" | "error"; fieldErrors?: Record<string, string[]>; errorId?: string };

export interface ActionContext {
  user: SessionUser;
  actor: AuditActor;
  requestId: string | null;
}

const CODES: Record<number, Exclude<ActionResult<never>, { ok: true }>["code"]> = {
  400: "invalid",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  503: "unavailable",
};

export function toActionError(err: unknown): Exclude<ActionResult<never>, { ok: true }> {
  const pub = toPublicError(err);
  const code = CODES[pub.status] ?? "error";
  if (err instanceof DomainError || pub.status < 500) return { ok: false, error: pub.message, code };
  const errorId = randomUUID();
  logger.error({ errorId, err }, "server action failed");
  return { ok: false, error: pub.message, code, errorId };
}

function fieldErrorsOf(error: z.ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.join(".") || "_";
    (out[key] ??= []).push(issue.message);
  }
  return out;
}

export function authedAction<S extends z.ZodType, T>(
  permission: Permission,
  schema: S,
  fn: (input: z.output<S>, ctx: ActionContext) => Promise<T>,
): (input: z.input<S>) => Promise<ActionResult<T>> {
  return async (input) => {
    try {
      const user = await requirePermission(permission);
      const parsed = schema.safeParse(input);
      if (!parsed.success) {
        // Field messages come from our own schemas, never from the submitted values.
        return { ok: false, error: "Some of the input is not valid.", code: "invalid", fieldErrors: fieldErrorsOf(parsed.error) };
      }
      const reqCtx = await getRequestContext();
      const data = await fn(parsed.data, { user, actor: auditActorFor(user, reqCtx), requestId: reqCtx.requestId });
      return { ok: true, data };
    } catch (err) {
      unstable_rethrow(err);
      return toActionError(err);
    }
  };
}
