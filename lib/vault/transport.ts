import "server-only";
import http from "node:http";
import https from "node:https";
import axios from "axios";
import nodeVault from "node-vault";
import type { Logger } from "pino";
import { isObject, requestIdOf } from "./codec";
import {
  scrubVaultDetail,
  VaultBadRequestError,
  VaultError,
  VaultNotFoundError,
  VaultPermissionDeniedError,
  VaultProtocolError,
  VaultSealedError,
  VaultUnavailableError,
  type VaultOperation,
} from "./errors";

/**
 * The only module that talks HTTP. Wraps node-vault with: a deadline on every attempt, classification of
 * every failure into a domain error (dropping the raw error, which carries request body and token), and
 * bounded retries with exponential backoff and full jitter.
 *
 * Retry classes:
 * - "idempotent": retried on any VaultUnavailableError (timeout, reset, 5xx, 429, sealed, refused).
 * - "unprocessed-only": retried only when the request provably did not run — connection refused or DNS
 *   failure (never sent), 429 (Vault's rate limiter answers before routing) and 503 `Vault is sealed`.
 *   A timeout, reset or 5xx is ambiguous: rotating twice, or trimming after someone else changed the key,
 *   would be wrong, so the error surfaces with `outcomeUnknown: true` and the caller re-reads state.
 */
export type RetryClass = "idempotent" | "unprocessed-only";

export interface RequestSpec {
  operation: VaultOperation;
  keyName?: string;
  method: "GET" | "POST";
  /** Relative to /v1/, no leading slash; may carry a query string. */
  path: string;
  body?: Record<string, unknown>;
  retry: RetryClass;
  /** false: sent without a token and without the auth hook (login, health). */
  authenticated?: boolean;
  /** false: skip ensure()/re-login around this call (token renewal uses the current token as it is). */
  authHooks?: boolean;
  /**
   * Encrypt batches answer 400/500 with the normal envelope (data.batch_results) when some item failed
   * (reference §3.3); such an answer is a result to inspect per item, not a request failure.
   */
  batchBodyOnError?: boolean;
  /** Read/list answering 404 with an empty `errors` array means "nothing there": resolve with null. */
  emptyNotFoundAsNull?: boolean;
}

/** Hooks the auth strategy provides (see auth.ts). */
export interface AuthHooks {
  ensure(): Promise<void>;
  /** Called on 403; returns true when a fresh login was obtained and the request may be sent once more. */
  refreshAfterDenied(): Promise<boolean>;
}

export interface TransportOptions {
  addr: string;
  token?: string;
  namespace?: string;
  timeoutMs: number;
  retries: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /** PEM of the CA(s) that sign Vault's TLS certificate, in place of Node's built-in roots. */
  caCert?: string;
  logger: Logger;
}

interface NodeVaultClient {
  token: string | undefined;
  namespace: string | undefined;
  pathPrefix: string;
  request(options: Record<string, unknown>): Promise<unknown>;
}

const DEADLINE = Symbol("deadline");
/** TLS verification failures: decided during the handshake, before any request byte (or token) is sent. */
const TLS_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_REVOKED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_CHAIN_TOO_LONG",
  "INVALID_CA",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  // https:// pointed at a port that speaks plain HTTP.
  "EPROTO",
  "ERR_SSL_WRONG_VERSION_NUMBER",
]);

interface HookRequest {
  method: string;
  uri: string;
  headers: Record<string, string>;
  json?: unknown;
  timeout?: number;
  httpAgent?: http.Agent;
  httpsAgent?: https.Agent;
}

/**
 * node-vault's HTTP layer, replaced through its `request-promise` hook, so that the token (and an AppRole
 * secret_id) only ever travel to VAULT_ADDR:
 * - its built-in axios instance follows redirects, and a redirect to another host would carry `X-Vault-Token`
 *   there; this one never follows one: a 3xx fails as a protocol error on every path (sys/health included,
 *   which node-vault would otherwise pass through as a body);
 * - axios would send requests through HTTP_PROXY / HTTPS_PROXY from the environment (over plain http the token
 *   in clear to the proxy); this one never uses a proxy;
 * - VAULT_SKIP_VERIFY and other TLS settings from the environment are ignored: TLS is verified by the
 *   transport's own agents (`rejectUnauthorized: true`, VAULT_CACERT's CA when set).
 */
const vaultHttp = axios.create({ maxRedirects: 0, proxy: false, validateStatus: () => true });

/** What node-vault throws for a non-2xx answer, in the shape `classify` reads. */
class RedirectRefused extends Error {
  readonly response: { statusCode: number; body: null };
  constructor(status: number) {
    super(`redirect ${status} refused`);
    this.name = "RedirectRefused";
    this.response = { statusCode: status, body: null };
  }
}
/** A 429 / 5xx that carried Retry-After, in the shape `classify` reads. */
class StatusWithRetryAfter extends Error {
  readonly response: { statusCode: number; body: unknown; retryAfter: string };
  constructor(status: number, body: unknown, retryAfter: string) {
    super(`status ${status}`);
    this.name = "StatusWithRetryAfter";
    this.response = { statusCode: status, body, retryAfter };
  }
}
const requestHook = {
  defaults: () => async (o: HookRequest) => {
    const res = await vaultHttp.request({
      method: o.method,
      url: o.uri,
      headers: o.headers,
      data: o.json !== null && typeof o.json === "object" ? o.json : undefined,
      timeout: o.timeout,
      httpAgent: o.httpAgent,
      httpsAgent: o.httpsAgent,
    });
    if (res.status >= 300 && res.status < 400) throw new RedirectRefused(res.status);
    const path = new URL(o.uri).pathname;
    const retryAfter = res.headers["retry-after"];
    // node-vault keeps only status and body of a failed answer; a Retry-After would be lost on the way to
    // `classify`. sys/health answers 429/503 by design (standby, sealed) and stays node-vault's to handle.
    if (typeof retryAfter === "string" && (res.status === 429 || res.status >= 500) && !path.endsWith("/sys/health")) {
      throw new StatusWithRetryAfter(res.status, res.data as unknown, retryAfter);
    }
    return { statusCode: res.status, body: res.data as unknown, request: { path } };
  },
};
/** An in-call retry waits at most this long for a Retry-After; longer waits are the caller's (campaign backoff). */
const MAX_RETRY_AFTER_MS = 5_000;

/** Retry-After as delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^[0-9]{1,6}$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const NEVER_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH"]);
const TIMEOUT_CODES = new Set(["ECONNABORTED", "ETIMEDOUT", "ESOCKETTIMEDOUT"]);

function makeNodeVault(opts: TransportOptions, token: string | undefined): NodeVaultClient {
  const client = nodeVault({
    endpoint: opts.addr,
    apiVersion: "v1",
    token,
    namespace: opts.namespace,
    // Node's HTTP servers (and some proxies) reject the LIST verb; `GET ?list=1` is equivalent in Vault.
    noCustomHTTPVerbs: true,
    // node-vault's debug channel prints request bodies (plaintext, ciphertext) when DEBUG=node-vault is set.
    debug: () => undefined,
    "request-promise": requestHook,
  } as Parameters<typeof nodeVault>[0]) as unknown as NodeVaultClient;
  // node-vault falls back to VAULT_TOKEN / VAULT_NAMESPACE / VAULT_PREFIX from process.env when a value is
  // absent; configuration comes only from lib/config, so pin them explicitly.
  client.token = token;
  client.namespace = opts.namespace;
  client.pathPrefix = "";
  return client;
}

export class Transport {
  private readonly vault: NodeVaultClient;
  /** Separate instance so that unauthenticated calls never carry a (possibly stale) token header. */
  private readonly anonymous: NodeVaultClient;
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  private readonly httpsAgent: https.Agent;
  auth: AuthHooks | undefined;

  constructor(private readonly opts: TransportOptions) {
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 32, rejectUnauthorized: true, ...(opts.caCert ? { ca: opts.caCert } : {}) });
    this.vault = makeNodeVault(opts, opts.token);
    this.anonymous = makeNodeVault(opts, undefined);
  }

  setToken(token: string | undefined): void {
    this.vault.token = token;
  }

  get currentToken(): string | undefined {
    return this.vault.token;
  }

  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  async send(spec: RequestSpec): Promise<unknown> {
    const authenticated = spec.authenticated !== false;
    const hooks = authenticated && spec.authHooks !== false ? this.auth : undefined;
    const started = Date.now();
    let reloggedIn = false;
    for (let attempt = 0; ; attempt++) {
      // Login failures surface as they are (operation "login"); the login call has its own retries.
      if (hooks) await hooks.ensure();
      try {
        const body = await this.attempt(spec, authenticated);
        this.opts.logger.debug(
          { operation: spec.operation, keyName: spec.keyName, attempts: attempt + 1, durationMs: Date.now() - started, requestId: requestIdOf(body) },
          "vault call ok",
        );
        return body;
      } catch (raw) {
        const err = raw instanceof VaultError ? raw : this.classify(spec, raw);
        if (err === null) return null;
        if (err instanceof VaultPermissionDeniedError && hooks && !reloggedIn) {
          // A 403 is decided before the request runs, so one fresh login and resend is safe for every operation.
          reloggedIn = true;
          if (await hooks.refreshAfterDenied()) {
            attempt--;
            continue;
          }
        }
        const retryable =
          err instanceof VaultUnavailableError &&
          err.reason !== "closed" &&
          err.reason !== "tls" &&
          attempt < this.opts.retries &&
          (spec.retry === "idempotent" || !err.outcomeUnknown);
        this.opts.logger.warn(
          {
            operation: spec.operation,
            keyName: spec.keyName,
            error: err.name,
            vaultStatus: err.vaultStatus,
            reason: err instanceof VaultUnavailableError ? err.reason : undefined,
            requestId: err.requestId,
            attempt: attempt + 1,
            willRetry: retryable,
          },
          "vault call failed",
        );
        if (!retryable) throw err;
        // Vault's rate limiter (and a proxy in front of it) may say when to come back; never sooner than that.
        await sleep(Math.max(this.backoff(attempt), Math.min(err instanceof VaultUnavailableError ? (err.retryAfterMs ?? 0) : 0, MAX_RETRY_AFTER_MS)));
      }
    }
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(this.opts.retryMaxDelayMs, this.opts.retryBaseDelayMs * 2 ** attempt);
    return Math.random() * ceiling;
  }

  private async attempt(spec: RequestSpec, authenticated: boolean): Promise<unknown> {
    const client = authenticated ? this.vault : this.anonymous;
    const request = client.request({
      path: `/${spec.path}`,
      method: spec.method,
      ...(spec.body ? { json: spec.body } : {}),
      headers: {},
      timeout: this.opts.timeoutMs,
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
    });
    // axios' timeout is a socket-idle timer; the deadline bounds the whole attempt even against a server
    // that trickles bytes. node-vault cannot take an AbortSignal, so a late request is left to axios' own
    // timeout, and its outcome is ignored.
    request.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(DEADLINE), this.opts.timeoutMs);
    });
    try {
      return await Promise.race([request, deadline]);
    } catch (raw) {
      if (spec.batchBodyOnError && isApiResponseError(raw)) {
        const body = raw.response.body;
        if ((raw.response.statusCode === 400 || raw.response.statusCode === 500) && hasBatchResults(body)) return body;
      }
      throw raw;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Maps whatever node-vault / axios threw to a domain error, or null for an empty 404 the spec accepts. */
  private classify(spec: RequestSpec, raw: unknown): VaultError | null {
    const base = { operation: spec.operation, keyName: spec.keyName };
    if (raw === DEADLINE) {
      return new VaultUnavailableError("Vault did not answer in time.", { ...base, reason: "timeout", outcomeUnknown: true });
    }
    if (isApiResponseError(raw)) {
      const status = raw.response.statusCode;
      const body = raw.response.body;
      const errors = isObject(body) && Array.isArray(body.errors) ? body.errors : undefined;
      const first = errors?.find((e): e is string => typeof e === "string");
      const init = { ...base, status, requestId: requestIdOf(body) };
      if (status === 404 && spec.emptyNotFoundAsNull && errors && errors.length === 0) return null;
      if (status === 503 && first?.includes("Vault is sealed")) return new VaultSealedError(init);
      const retryAfterMs = parseRetryAfter(raw.response.retryAfter);
      if (status === 429) {
        return new VaultUnavailableError("Vault is rate-limiting requests; try again shortly.", {
          ...init,
          reason: "rate-limited",
          outcomeUnknown: false,
          retryAfterMs,
        });
      }
      if (status >= 500 || status === 412) {
        return new VaultUnavailableError("Vault is unavailable or failed to process the request.", {
          ...init,
          reason: "server",
          outcomeUnknown: true,
          retryAfterMs,
        });
      }
      if (status === 403) {
        return new VaultPermissionDeniedError("Vault denied the request: the token is invalid or lacks permission for this operation.", init);
      }
      if (status === 404) {
        return new VaultNotFoundError(spec.keyName ? `Transit key "${spec.keyName}" was not found.` : "Vault path was not found.", init);
      }
      if (status >= 300 && status < 400) {
        return new VaultProtocolError(
          `Vault answered with a redirect (${status}); the console does not follow redirects, so the token only ever goes to VAULT_ADDR. Point VAULT_ADDR at the active node or at a load balancer that forwards.`,
          init,
        );
      }
      if (status === 400 || status === 405 || status === 413) {
        const detail = scrubVaultDetail(first) ?? (status === 413 ? "request too large" : undefined);
        return new VaultBadRequestError(detail ? `Vault rejected the request: ${detail}` : "Vault rejected the request.", { ...init, detail });
      }
      return new VaultProtocolError(`Vault answered with unexpected status ${status}.`, init);
    }
    const code = errorCode(raw);
    if (code && TIMEOUT_CODES.has(code)) {
      return new VaultUnavailableError("Vault did not answer in time.", { ...base, reason: "timeout", outcomeUnknown: true });
    }
    if (code && TLS_CODES.has(code)) {
      const hint = this.opts.caCert
        ? "check that VAULT_CACERT holds the CA that signs it and that VAULT_ADDR names the certificate's host"
        : "set VAULT_CACERT to the CA that signs it";
      return new VaultUnavailableError(`Vault's TLS connection could not be verified (${hint}).`, {
        ...base,
        reason: "tls",
        outcomeUnknown: false,
      });
    }
    if (code && NEVER_SENT_CODES.has(code)) {
      return new VaultUnavailableError("Vault cannot be reached.", { ...base, reason: "network", outcomeUnknown: false });
    }
    if (code || isAxiosError(raw)) {
      // Resets, broken pipes, truncated responses: the request may have reached Vault.
      return new VaultUnavailableError("The connection to Vault failed.", { ...base, reason: "network", outcomeUnknown: true });
    }
    return new VaultProtocolError("The Vault client failed unexpectedly.", base);
  }
}

interface ApiResponseErrorLike {
  response: { statusCode: number; body: unknown; retryAfter?: string };
}

function isApiResponseError(e: unknown): e is ApiResponseErrorLike {
  if (!(e instanceof Error) || isAxiosError(e)) return false;
  const response: unknown = (e as { response?: unknown }).response;
  return isObject(response) && typeof response.statusCode === "number";
}

function isAxiosError(e: unknown): boolean {
  return isObject(e) && (e as { isAxiosError?: unknown }).isAxiosError === true;
}

function errorCode(e: unknown): string | undefined {
  if (!isObject(e)) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string") return code;
  const cause = (e as { cause?: unknown }).cause;
  return isObject(cause) && typeof (cause as { code?: unknown }).code === "string" ? (cause as { code: string }).code : undefined;
}

export function hasBatchResults(body: unknown): body is { data: { batch_results: unknown[] } } {
  return isObject(body) && isObject(body.data) && Array.isArray(body.data.batch_results);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
