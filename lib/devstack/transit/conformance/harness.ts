/**
 * Plain-`fetch` client and per-file fixtures for the Transit conformance suite.
 *
 * Every test file calls `useTransitMount()`, which opens the target (see target.ts), enables a fresh, randomly
 * named transit mount and disables it afterwards, so a run against a real Vault never touches existing keys.
 * Section numbers in test names refer to /work/shared/vault-transit-reference.md.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect } from "vitest";
import { openTarget, type Target } from "./target";

/** Response bodies are arbitrary JSON under test; assertions check their shape. */
export type Json = any;

export interface VaultResponse {
  status: number;
  headers: Headers;
  /** Raw body text ("" for 204). */
  text: string;
  /** Parsed JSON body, or null when the body is empty or not JSON. */
  body: Json;
}

export interface RequestOptions {
  /** JSON-encoded unless `rawBody` is given. */
  body?: unknown;
  rawBody?: string;
  /** `null` sends no token at all; a string overrides the target's token. */
  token?: string | null;
  headers?: Record<string, string>;
}

export class VaultClient {
  constructor(readonly target: Target) {}

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<VaultResponse> {
    const headers: Record<string, string> = {};
    const token = opts.token === undefined ? this.target.token : opts.token;
    if (token !== null) headers["X-Vault-Token"] = token;
    if (this.target.namespace) headers["X-Vault-Namespace"] = this.target.namespace;
    let payload: string | undefined;
    if (opts.rawBody !== undefined) payload = opts.rawBody;
    else if (opts.body !== undefined) payload = JSON.stringify(opts.body);
    if (payload !== undefined) headers["Content-Type"] = "application/json";
    Object.assign(headers, opts.headers);
    const res = await fetch(`${this.target.url}/v1/${path.replace(/^\/+/, "")}`, { method, headers, body: payload });
    const text = await res.text();
    let body: Json = null;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        body = null;
      }
    }
    return { status: res.status, headers: res.headers, text, body };
  }

  get(path: string, opts?: RequestOptions) {
    return this.request("GET", path, opts);
  }
  post(path: string, body?: unknown, opts?: RequestOptions) {
    return this.request("POST", path, { ...opts, body });
  }
  delete(path: string, opts?: RequestOptions) {
    return this.request("DELETE", path, opts);
  }
}

export interface MountContext {
  readonly target: Target;
  readonly client: VaultClient;
  /** Mount path without slashes, e.g. `conf-1a2b3c4d`. */
  readonly mount: string;
  /** `${mount}/${p}` — a path inside this file's transit mount. */
  t(p: string): string;
}

export function randomName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString("hex")}`;
}

/** Enables a fresh transit mount for the calling test file; disables it and closes the target afterwards. */
export function useTransitMount(): MountContext {
  let target: Target | undefined;
  let client: VaultClient | undefined;
  const mount = randomName("conf");
  beforeAll(async () => {
    target = await openTarget();
    client = new VaultClient(target);
    const res = await client.post(`sys/mounts/${mount}`, { type: "transit", description: "conformance suite" });
    if (res.status !== 204 && res.status !== 200) {
      throw new Error(`enabling transit at ${mount}/ failed: ${res.status} ${res.text}`);
    }
  });
  afterAll(async () => {
    try {
      if (client) {
        if (target?.dev) target.dev.setFaults({});
        await client.delete(`sys/mounts/${mount}`);
      }
    } finally {
      await target?.close();
    }
  });
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${what} used before beforeAll ran`);
    return v;
  };
  return {
    get target() {
      return need(target, "target");
    },
    get client() {
      return need(client, "client");
    },
    mount,
    t: (p: string) => `${mount}/${p.replace(/^\/+/, "")}`,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Encoding helpers

export const b64 = (s: string | Uint8Array): string =>
  (typeof s === "string" ? Buffer.from(s, "utf8") : Buffer.from(s)).toString("base64");
export const unb64 = (s: string): Buffer => Buffer.from(s, "base64");
export const unb64utf8 = (s: string): string => unb64(s).toString("utf8");

/** `vault:v<N>:<standard base64 with padding>` (§4.1). */
export const CIPHERTEXT_RE = /^vault:v(\d+):([A-Za-z0-9+/]+={0,2})$/;
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseCiphertext(ct: string): { version: number; payload: Buffer } {
  const m = CIPHERTEXT_RE.exec(ct);
  if (!m) throw new Error(`not a vault ciphertext: ${ct}`);
  return { version: Number(m[1]), payload: unb64(m[2] ?? "") };
}

// ---------------------------------------------------------------------------------------------------------
// Assertion helpers

/** Transit-layer error: exact status and exactly one exact message (§1.4 rules 1–3). */
export function expectError(res: VaultResponse, status: number, message: string): void {
  expect({ status: res.status, body: res.body }).toEqual({ status, body: { errors: [message] } });
}

/**
 * Error whose text is wrapped by the core (multierror) or differs between Vault and OpenBao: exact status,
 * `{"errors": [...]}` shape, and the joined messages contain `substring`.
 */
export function expectErrorContaining(res: VaultResponse, status: number, substring: string): void {
  expect(res.status, res.text).toBe(status);
  expect(Array.isArray(res.body?.errors), res.text).toBe(true);
  expect((res.body.errors as string[]).join("\n")).toContain(substring);
}

/** 404 with `{"errors":[]}` (§1.4 rules 6–7). */
export function expectEmpty404(res: VaultResponse): void {
  expect({ status: res.status, body: res.body }).toEqual({ status: 404, body: { errors: [] } });
}

export function expectOk(res: VaultResponse, status = 200): Json {
  expect(res.status, res.text).toBe(status);
  return res.body;
}

// ---------------------------------------------------------------------------------------------------------
// Transit shortcuts (each asserts success so a broken precondition fails loudly where it happens)

export async function createKey(ctx: MountContext, params: Record<string, unknown> = {}, name = randomName("k")) {
  const res = await ctx.client.post(ctx.t(`keys/${name}`), params);
  expect(res.status, `create key ${name}: ${res.text}`).toBe(200);
  return name;
}

export async function readKey(ctx: MountContext, name: string): Promise<Json> {
  const res = await ctx.client.get(ctx.t(`keys/${name}`));
  expect(res.status, `read key ${name}: ${res.text}`).toBe(200);
  return res.body.data;
}

export async function rotate(ctx: MountContext, name: string, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) {
    const res = await ctx.client.post(ctx.t(`keys/${name}/rotate`));
    expect(res.status, `rotate ${name}: ${res.text}`).toBe(200);
  }
}

export async function configure(ctx: MountContext, name: string, params: Record<string, unknown>): Promise<Json> {
  const res = await ctx.client.post(ctx.t(`keys/${name}/config`), params);
  expect(res.status, `config ${name} ${JSON.stringify(params)}: ${res.text}`).toBe(200);
  return res.body;
}

export async function encrypt(
  ctx: MountContext,
  name: string,
  plaintext: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await ctx.client.post(ctx.t(`encrypt/${name}`), { plaintext: b64(plaintext), ...extra });
  expect(res.status, `encrypt ${name}: ${res.text}`).toBe(200);
  const ct = res.body?.data?.ciphertext;
  expect(ct).toMatch(CIPHERTEXT_RE);
  return ct as string;
}

export async function decrypt(
  ctx: MountContext,
  name: string,
  ciphertext: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await ctx.client.post(ctx.t(`decrypt/${name}`), { ciphertext, ...extra });
  expect(res.status, `decrypt ${name}: ${res.text}`).toBe(200);
  return unb64utf8(res.body.data.plaintext as string);
}

export async function exportKey(
  ctx: MountContext,
  name: string,
  kind: "encryption-key" | "hmac-key" = "encryption-key",
): Promise<Record<string, Buffer>> {
  const res = await ctx.client.get(ctx.t(`export/${kind}/${name}`));
  expect(res.status, `export ${kind} ${name}: ${res.text}`).toBe(200);
  const out: Record<string, Buffer> = {};
  for (const [v, k] of Object.entries(res.body.data.keys as Record<string, string>)) out[v] = unb64(k);
  return out;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);
