/**
 * Dev Vault Transit server: a stand-in for HashiCorp Vault's Transit secrets engine HTTP API for
 * development, tests and the app's embedded mode. Never a production KMS: one root token, keys in memory
 * or in a plain JSON file, loopback only.
 *
 * Request flow mirrors Vault's: fault injection (dev-only) → sealed/health → method to operation → token
 * check → mount routing → framework (route, operation, field validation) → transit handler → envelope.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  TransitMount,
  autoRotate,
  matchRoute,
  runHandler,
  type Operation,
  type Result,
} from "./backend.js";
import { FieldError, Fields, parseGoBool, prepareFields, type Schema } from "./fields.js";
import { RESET, createRawHttpServer, type HttpRequest, type HttpResponse } from "./http-server.js";
import { StateStore } from "./store.js";

export interface TransitFaults {
  latencyMs?: number;
  sealedRate?: number;
  rateLimitRate?: number;
  errorRate?: number;
  resetRate?: number;
  batchItemFailureRate?: number;
}

export interface StartTransitServerOptions {
  /** 0 = any free port; default 8200. */
  port?: number;
  /** Default: random. */
  rootToken?: string;
  /** Persist keys here; default in memory. */
  dataDir?: string;
  faults?: TransitFaults;
  /** Default true: a transit mount at "transit/" exists from the start. */
  mountTransit?: boolean;
  quiet?: boolean;
}

export interface RunningTransitServer {
  /** "http://127.0.0.1:<port>" */
  url: string;
  token: string;
  setFaults(f: TransitFaults): void;
  close(): Promise<void>;
}

export const MAX_REQUEST_BYTES = 32 * 1024 * 1024;
export const FAULTS_PATH = "sys/dev/faults";
const VERSION = "1.20.0-devtransit";
const RATE_KEYS = ["sealedRate", "rateLimitRate", "errorRate", "resetRate", "batchItemFailureRate"] as const;

/** Validates a faults object (from options, setFaults or the control endpoint); throws with a reason. */
export function normalizeFaults(input: unknown): TransitFaults {
  if (input === null || input === undefined) return {};
  if (typeof input !== "object" || Array.isArray(input)) throw new Error("faults must be a JSON object");
  const out: TransitFaults = {};
  for (const [k, v] of Object.entries(input as Record<string, unknown>)) {
    if (v === undefined || v === null) continue;
    if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`fault ${k} must be a finite number`);
    if (k === "latencyMs") {
      if (v < 0) throw new Error("latencyMs must be >= 0");
      out.latencyMs = v;
    } else if ((RATE_KEYS as readonly string[]).includes(k)) {
      if (v < 0 || v > 1) throw new Error(`${k} must be between 0 and 1`);
      out[k as (typeof RATE_KEYS)[number]] = v;
    } else {
      throw new Error(`unknown fault ${k}`);
    }
  }
  return out;
}

const JSON_HEADERS = { "Content-Type": "application/json", "Cache-Control": "no-store" } as const;

function json(status: number, body: unknown, extraHeaders?: Record<string, string>): HttpResponse {
  return { status, headers: extraHeaders ? { ...JSON_HEADERS, ...extraHeaders } : JSON_HEADERS, body: JSON.stringify(body) };
}

function errors(status: number, ...msgs: string[]): HttpResponse {
  return json(status, { errors: msgs });
}

function multierror(msg: string): string {
  return `1 error occurred:\n\t* ${msg}\n\n`;
}

function envelope(data: unknown, warnings: string[] | null, mountType: string | undefined, extra?: Record<string, unknown>): string {
  const env: Record<string, unknown> = {
    ...extra,
    request_id: randomUUID(),
    lease_id: "",
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: warnings && warnings.length > 0 ? warnings : null,
    auth: null,
  };
  if (mountType !== undefined) env["mount_type"] = mountType;
  return JSON.stringify(env);
}

const RESERVED_PREFIXES = ["sys/", "auth/", "cubbyhole/", "identity/"];

const MOUNT_SCHEMA: Schema = {
  path: "string", type: "string", description: "string", config: "map", options: "map", local: "bool",
  seal_wrap: "bool", external_entropy_access: "bool", plugin_name: "string", plugin_version: "string",
};

class TransitCore {
  faults: TransitFaults = {};
  mounts: Map<string, TransitMount>;
  private readonly createdAt = Math.floor(Date.now() / 1000);
  private readonly clusterId = randomUUID();
  private readonly accessor = randomBytes(12).toString("base64url");
  private readonly ctx;

  constructor(
    readonly token: string,
    private readonly store: StateStore | undefined,
    mountTransit: boolean,
    private readonly quiet: boolean,
  ) {
    this.mounts = store?.load() ?? new Map();
    if (mountTransit && !this.mounts.has("transit/")) this.mounts.set("transit/", TransitMount.create("transit/"));
    const self = this;
    this.ctx = {
      persist: () => this.persist(),
      get batchItemFailureRate() {
        return self.faults.batchItemFailureRate ?? 0;
      },
    };
    this.persist();
  }

  persist(): void {
    this.store?.save(this.mounts);
  }

  logError(err: unknown): void {
    if (!this.quiet) console.error("[transit-dev] internal error:", err);
  }

  tick(nowMs: number): void {
    let changed = false;
    for (const m of this.mounts.values()) if (autoRotate(m, nowMs)) changed = true;
    if (changed) this.persist();
  }

  handle = (req: HttpRequest): HttpResponse | typeof RESET | Promise<HttpResponse | typeof RESET> => {
    const q = req.target.indexOf("?");
    const rawPath = q < 0 ? req.target : req.target.slice(0, q);
    const query = new URLSearchParams(q < 0 ? "" : req.target.slice(q + 1));
    let path: string;
    try {
      // Absolute-form targets (proxies) carry scheme and host; only the path matters here.
      path = decodeURIComponent(rawPath.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, ""));
    } catch {
      return errors(400, "invalid URL escape");
    }
    if (!path.startsWith("/v1/")) return errors(404);
    const rel = path.slice(4);

    // The control endpoint is never subject to faults, so tests can always turn them off again.
    if (rel === FAULTS_PATH) return this.handleFaults(req);

    const latency = this.faults.latencyMs ?? 0;
    if (latency > 0) return sleep(latency).then(() => this.afterLatency(req, rel, query));
    return this.afterLatency(req, rel, query);
  };

  private roll(rate: number | undefined): boolean {
    return rate !== undefined && rate > 0 && Math.random() < rate;
  }

  private afterLatency(req: HttpRequest, rel: string, query: URLSearchParams): HttpResponse | typeof RESET {
    const f = this.faults;
    if (this.roll(f.resetRate)) return RESET;
    const sealed = this.roll(f.sealedRate);
    if (rel === "sys/health") return this.health(req, query, sealed);
    if (sealed) return errors(503, "Vault is sealed");
    if (this.roll(f.rateLimitRate)) {
      return json(429, { errors: [`request path "${rel}": rate limit quota exceeded`] }, { "Retry-After": "1" });
    }
    if (this.roll(f.errorRate)) return errors(500, multierror("internal error"));
    return this.dispatch(req, rel, query);
  }

  private tokenOf(req: HttpRequest): string {
    const t = req.headers["x-vault-token"];
    if (t) return t;
    const auth = req.headers["authorization"];
    if (auth && /^bearer /i.test(auth)) return auth.slice(7).trim();
    return "";
  }

  /** Core token check: 403 before any routing, as Vault does. */
  private authFailure(req: HttpRequest): HttpResponse | undefined {
    const t = this.tokenOf(req);
    if (t === "") return errors(403, "permission denied");
    if (t !== this.token) return errors(403, "permission denied", "invalid token");
    return undefined;
  }

  private handleFaults(req: HttpRequest): HttpResponse {
    const denied = this.authFailure(req);
    if (denied) return denied;
    if (req.method === "POST" || req.method === "PUT") {
      let body: unknown = {};
      const text = req.body.toString("utf8").trim();
      try {
        if (text !== "") body = JSON.parse(text);
        this.faults = normalizeFaults(body);
      } catch (err) {
        return errors(400, err instanceof Error ? err.message : String(err));
      }
    } else if (req.method !== "GET") {
      return errors(405);
    }
    return { status: 200, headers: JSON_HEADERS, body: envelope({ ...this.faults }, null, "system") };
  }

  private health(req: HttpRequest, query: URLSearchParams, sealed: boolean): HttpResponse {
    if (req.method !== "GET" && req.method !== "HEAD") return errors(405);
    const codeFrom = (name: string, dflt: number): number => {
      const v = query.get(name);
      if (v === null) return dflt;
      const n = Number(v);
      return Number.isInteger(n) && n >= 100 && n <= 599 ? n : dflt;
    };
    const status = sealed ? codeFrom("sealedcode", 503) : codeFrom("activecode", 200);
    const body: Record<string, unknown> = {
      initialized: true,
      sealed,
      standby: sealed,
      performance_standby: false,
      replication_performance_mode: "disabled",
      replication_dr_mode: "disabled",
      server_time_utc: Math.floor(Date.now() / 1000),
      version: VERSION,
      enterprise: false,
    };
    if (!sealed) {
      body["cluster_name"] = "vault-cluster-devtransit";
      body["cluster_id"] = this.clusterId;
    }
    body["echo_duration_ms"] = 0;
    body["clock_skew_ms"] = 0;
    return json(status, body);
  }

  private dispatch(req: HttpRequest, relIn: string, query: URLSearchParams): HttpResponse {
    let rel = relIn;
    let op: Operation;
    switch (req.method) {
      case "GET":
      case "HEAD": {
        op = "read";
        const listStr = query.get("list");
        if (listStr !== null && listStr !== "") {
          const b = parseGoBool(listStr);
          if (b === undefined) return errors(400);
          if (b) op = "list";
        }
        break;
      }
      case "LIST":
        op = "list";
        break;
      case "POST":
      case "PUT":
        op = "update";
        break;
      case "DELETE":
        op = "delete";
        break;
      case "PATCH":
        op = "patch";
        break;
      default:
        return errors(405);
    }
    if (op === "list" && !rel.endsWith("/")) rel += "/";

    let data: Record<string, unknown> = {};
    if (op === "update" || op === "patch") {
      const parsed = this.parseBody(req);
      if ("status" in parsed) return parsed;
      data = parsed.data;
    } else {
      for (const k of new Set(query.keys())) {
        if (k === "list") continue;
        const all = query.getAll(k);
        data[k] = all.length === 1 ? all[0] : all;
      }
    }

    const denied = this.authFailure(req);
    if (denied) return denied;

    if (rel === "sys/mounts" || rel === "sys/mounts/") {
      if (op !== "read") return errors(405, multierror("unsupported operation"));
      return this.listMounts();
    }
    if (rel.startsWith("sys/mounts/")) return this.mountOp(op, rel.slice("sys/mounts/".length), data);
    if (rel === "auth/token/lookup-self") {
      if (op !== "read" && op !== "update") return errors(405, multierror("unsupported operation"));
      return this.lookupSelf();
    }
    if (rel.startsWith("sys/") || rel.startsWith("auth/")) return errors(404, multierror("unsupported path"));

    const mount = this.findMount(rel);
    if (!mount) return errors(404, `no handler for route "${rel}". route entry not found.`);
    return this.transit(mount, rel.slice(mount.info.path.length), op, data);
  }

  private parseBody(req: HttpRequest): { data: Record<string, unknown> } | HttpResponse {
    if (req.body.length === 0) return { data: {} };
    const ctype = (req.headers["content-type"] ?? "").toLowerCase();
    // Like Vault's isForm: curl -d sends the form content type with a JSON body, so sniff the first byte.
    if (ctype.split(";")[0]?.trim() === "application/x-www-form-urlencoded" && !/^[ \t\r\n]*[[{]/.test(req.body.toString("latin1", 0, 64))) {
      const form = new URLSearchParams(req.body.toString("utf8"));
      const data: Record<string, unknown> = {};
      for (const k of new Set(form.keys())) {
        const all = form.getAll(k);
        data[k] = all.length === 1 ? all[0] : all;
      }
      return { data };
    }
    const text = req.body.toString("utf8");
    if (text.trim() === "") return { data: {} };
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (err) {
      return errors(400, `error parsing JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (v === null) return { data: {} };
    if (typeof v !== "object" || Array.isArray(v)) {
      return errors(400, `error parsing JSON: json: cannot unmarshal ${Array.isArray(v) ? "array" : typeof v} into Go value of type map[string]interface {}`);
    }
    return { data: v as Record<string, unknown> };
  }

  private findMount(rel: string): TransitMount | undefined {
    let best: TransitMount | undefined;
    for (const m of this.mounts.values()) {
      const p = m.info.path;
      if ((rel.startsWith(p) || rel + "/" === p) && (!best || p.length > best.info.path.length)) best = m;
    }
    return best;
  }

  private transit(mount: TransitMount, relPath: string, op: Operation, data: Record<string, unknown>): HttpResponse {
    const route = matchRoute(relPath, op);
    if (!route) return errors(404, multierror("unsupported path"));
    if (!route.handler) return errors(405, multierror("unsupported operation"));
    let prepared;
    try {
      prepared = prepareFields(route.schema, data, route.captures);
    } catch (err) {
      if (err instanceof FieldError) return errors(400, err.message);
      throw err;
    }
    const result = runHandler(route, mount, new Fields(prepared), this.ctx);
    return this.render(result, op, prepared.ignored, prepared.replaced, "transit");
  }

  private render(result: Result, op: Operation, ignored: string[], replaced: string[], mountType: string): HttpResponse {
    switch (result.kind) {
      case "data": {
        const warnings = [...(result.warnings ?? [])];
        if (ignored.length > 0) warnings.push(`Endpoint ignored these unrecognized parameters: [${ignored.join(" ")}]`);
        if (replaced.length > 0) {
          warnings.push(`Endpoint replaced the value of these parameters with the values captured from the endpoint's path: [${replaced.join(" ")}]`);
        }
        return { status: 200, headers: JSON_HEADERS, body: envelope(result.data, warnings, mountType) };
      }
      case "nil":
        return op === "read" || op === "list" ? errors(404) : { status: 204, headers: JSON_HEADERS };
      case "user-error":
        return errors(result.status ?? 400, result.message);
      case "internal":
        return errors(result.status ?? 500, multierror(result.message));
      case "raw": {
        // Statuses below 200 cannot be final; Go's ResponseWriter turns the body write into an implicit 200.
        const status = result.status < 200 ? 200 : result.status;
        return { status, headers: JSON_HEADERS, body: envelope(result.data, result.warnings, undefined) };
      }
    }
  }

  private mountEntry(m: TransitMount): Record<string, unknown> {
    return {
      accessor: m.info.accessor,
      config: { default_lease_ttl: 0, force_no_cache: false, max_lease_ttl: 0 },
      description: m.info.description,
      external_entropy_access: false,
      local: false,
      options: null,
      plugin_version: "",
      running_plugin_version: "v1.20.0+builtin.vault",
      running_sha256: "",
      seal_wrap: false,
      type: "transit",
      uuid: m.info.uuid,
    };
  }

  private listMounts(): HttpResponse {
    const data: Record<string, unknown> = {};
    for (const p of [...this.mounts.keys()].sort()) data[p] = this.mountEntry(this.mounts.get(p) as TransitMount);
    // Vault also repeats the mount table at the top level of this response (legacy clients read it there).
    return { status: 200, headers: JSON_HEADERS, body: envelope(data, null, "system", data) };
  }

  private mountOp(op: Operation, rawPath: string, data: Record<string, unknown>): HttpResponse {
    const p = `${rawPath.replace(/^\/+|\/+$/g, "")}/`;
    if (op === "delete") {
      const m = this.mounts.get(p);
      // Vault answers 204 for a missing mount so as not to reveal whether it existed.
      if (m) {
        this.mounts.delete(p);
        this.persist();
      }
      return { status: 204, headers: JSON_HEADERS };
    }
    if (op !== "update") return errors(405, multierror("unsupported operation"));
    let prepared;
    try {
      prepared = prepareFields(MOUNT_SCHEMA, data, {});
    } catch (err) {
      if (err instanceof FieldError) return errors(400, err.message);
      throw err;
    }
    const f = new Fields(prepared);
    const type = f.str("type");
    if (type === "") return errors(400, "backend type must be specified as a string");
    if (type !== "transit") return errors(400, `plugin not found in the catalog: ${type} (the dev transit server only provides "transit")`);
    if (p === "/" || !/^[\w\-./]+$/.test(p) || p.includes("//")) return errors(400, `invalid mount path "${rawPath}"`);
    for (const r of RESERVED_PREFIXES) if (p.startsWith(r)) return errors(400, `cannot mount under reserved path "${r}"`);
    for (const existing of this.mounts.keys()) {
      if (p.startsWith(existing) || existing.startsWith(p)) return errors(400, `path is already in use at ${existing}`);
    }
    this.mounts.set(p, TransitMount.create(p, f.str("description")));
    this.persist();
    return { status: 204, headers: JSON_HEADERS };
  }

  private lookupSelf(): HttpResponse {
    const data = {
      accessor: this.accessor,
      creation_time: this.createdAt,
      creation_ttl: 0,
      display_name: "root",
      entity_id: "",
      expire_time: null,
      explicit_max_ttl: 0,
      id: this.token,
      meta: null,
      num_uses: 0,
      orphan: true,
      path: "auth/token/root",
      policies: ["root"],
      ttl: 0,
      type: "service",
    };
    return { status: 200, headers: JSON_HEADERS, body: envelope(data, null, "token") };
  }
}

export async function startTransitServer(opts: StartTransitServerOptions = {}): Promise<RunningTransitServer> {
  const token = opts.rootToken ?? `hvs.${randomBytes(18).toString("base64url")}`;
  const store = opts.dataDir ? new StateStore(opts.dataDir) : undefined;
  const core = new TransitCore(token, store, opts.mountTransit ?? true, opts.quiet ?? false);
  core.faults = normalizeFaults(opts.faults);
  const server = createRawHttpServer(core.handle, { maxBodyBytes: MAX_REQUEST_BYTES, onInternalError: (e) => core.logError(e) });
  const port = await server.listen(opts.port ?? 8200, "127.0.0.1");
  // Vault checks auto-rotation hourly; a minute keeps dev feedback quick and costs nothing.
  const timer = setInterval(() => core.tick(Date.now()), 60_000);
  timer.unref();
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    setFaults(f) {
      core.faults = normalizeFaults(f);
    },
    close() {
      clearInterval(timer);
      closed ??= server.close();
      return closed;
    },
  };
}
