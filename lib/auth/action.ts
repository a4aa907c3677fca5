import "server-only";
import { randomUUID } from "node:crypto";
import { DomainError, toPublicError } from "@/lib/errors";
import { logger } from "@/lib/log";

/**
 * What every server action answers (built by `command()` in ./command.ts): `{ ok: true, data }` or
 * `{ ok: false, error, code }`. Domain errors carry their user-safe message; anything else is logged under an
 * id and answered generically. `reauth_required` carries the URL that signs the user in again and returns.
 */
export type ActionResult<T> =
  | { ok: true; data: T }
  | {
      ok: false;
      error: string;
      code: "unauthorized" | "forbidden" | "invalid" | "not_found" | "conflict" | "unavailable" | "reauth_required" | "error";
      fieldErrors?: Record<string, string[]>;
      errorId?: string;
      reauthUrl?: string;
    };

export type ActionError = Exclude<ActionResult<never>, { ok: true }>;

const CODES: Record<number, ActionError["code"]> = {
  400: "invalid",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  503: "unavailable",
};

export function toActionError(err: unknown): ActionError {
  const pub = toPublicError(err);
  const code = CODES[pub.status] ?? "error";
  if (err instanceof DomainError || pub.status < 500) return { ok: false, error: pub.message, code };
  const errorId = randomUUID();
  logger.error({ errorId, err }, "server action failed");
  return { ok: false, error: pub.message, code, errorId };
}
