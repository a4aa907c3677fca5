import "server-only";
import pino, { type Logger } from "pino";
import { isError, replaceErrors, safeMessageOf, scrubText, serializeError } from "./errors";

/**
 * Structured logger. Redaction is the fourth layer of the share-material invariant (DESIGN §2): any field
 * that could carry share plaintext or ciphertext, a data key, a token or a cookie is censored wherever it
 * appears in a logged object, up to three levels deep. Never log raw Vault request or response bodies.
 *
 * Errors are redacted structurally (lib/log/errors.ts): wherever an error object appears in a log call — as
 * the first argument, under `err`/`error`, or as any value up to three levels deep — only a scrubbed copy is
 * written, never its query parameters, driver fields or request config. So call sites log the error itself
 * (`logger.error({ err }, "…")`), not `err.message` or `String(err)`; strings under `err`/`error` and the
 * message are scrubbed of Drizzle's "Failed query: … params: …" as a second line of defence.
 */
const SENSITIVE_KEYS = [
  "plaintext",
  "ciphertext",
  "encrypted_key_shares",
  "encryptedKeyShares",
  "keyShares",
  "key_shares",
  "shares",
  "wrappedKey",
  "wrapped_key",
  "dataKey",
  "data_key",
  "batch_input",
  "batch_results",
  "token",
  "client_token",
  "accessToken",
  "access_token",
  "refreshToken",
  "refresh_token",
  "id_token",
  "idToken",
  "secret",
  "secret_id",
  "secretId",
  "clientSecret",
  "client_secret",
  "password",
  "authorization",
  "cookie",
  "set-cookie",
  "x-vault-token",
  "sessionToken",
  "session_token",
];

export const REDACT_PATHS = SENSITIVE_KEYS.flatMap((k) => {
  const key = /^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`;
  const dot = key.startsWith("[") ? key : `.${key}`;
  return [key, `*${dot}`, `*.*${dot}`, `*.*.*${dot}`];
});

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? "info",
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      base: { service: "keyshare-console" },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: serializeError, error: serializeError, msg: (m: unknown) => (typeof m === "string" ? scrubText(m) : m) },
      formatters: { log: (obj) => replaceErrors(obj, -1) as Record<string, unknown> },
      hooks: {
        // Pino takes the message from `err.message` when none is given; give it the scrubbed one instead.
        logMethod(args, method) {
          const [first, second] = args as unknown[];
          if (isError(first)) {
            const rest = typeof second === "string" ? args.slice(1) : [safeMessageOf(first)];
            return method.apply(this, [{ err: first }, ...rest] as Parameters<typeof method>);
          }
          const err = first !== null && typeof first === "object" ? (first as { err?: unknown }).err : undefined;
          if (isError(err) && typeof second !== "string") {
            return method.apply(this, [first, safeMessageOf(err), ...args.slice(1)] as Parameters<typeof method>);
          }
          return method.apply(this, args);
        },
      },
    },
    options.destination,
  );
}

export const logger: Logger = createLogger();

export { scrubText, serializeError } from "./errors";
