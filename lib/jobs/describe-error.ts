import "server-only";
import { DrizzleQueryError } from "drizzle-orm";
import { sanitizeDbError } from "@/lib/db/client";

export interface ErrorSummary {
  name: string;
  message: string;
  code?: string;
}

/**
 * What a job failure may log: name, message, code. A database error passes through sanitizeDbError first —
 * Drizzle's "Failed query … params: …" message lists bound parameters, which for the share table would be
 * ciphertext — so only the database's own message and SQLSTATE remain.
 */
export function describeError(err: unknown): ErrorSummary {
  if (!(err instanceof Error)) return { name: "unknown", message: "non-error thrown" };
  // DrizzleQueryError keeps the plain name "Error": recognise it by class, and by its message's shape in case
  // two copies of drizzle-orm are loaded.
  if (err instanceof DrizzleQueryError || /Postgres|Database/i.test(err.name) || /^Failed query|\nparams:/.test(err.message)) {
    const e = sanitizeDbError(err);
    return { name: e.name, message: e.message, code: e.code };
  }
  const code = (err as { code?: unknown }).code;
  return { name: err.name, message: err.message, code: typeof code === "string" ? code : undefined };
}
