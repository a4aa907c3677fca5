import "server-only";
import pino, { type Logger } from "pino";

/**
 * Structured logger. Redaction is the fourth layer of the share-material invariant (DESIGN §2): any field
 * that could carry share plaintext or ciphertext, a data key, a token or a cookie is censored wherever it
 * appears in a logged object, up to three levels deep. Never log raw Vault request or response bodies.
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
    },
    options.destination,
  );
}

export const logger: Logger = createLogger();
