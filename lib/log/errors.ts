import "server-only";
import { types } from "node:util";
import { DrizzleQueryError } from "drizzle-orm/errors";

/**
 * Structural redaction of errors for the logger (lib/log/index.ts applies it to every logged value).
 *
 * Why: error objects carry what went into the failed operation. A DrizzleQueryError's message is
 * "Failed query: <sql>\nparams: <bound values>" — a session token hash, share ciphertext, an audit row; the
 * drivers' own errors keep the query and its parameters as properties (postgres.js `query`, `parameters`,
 * `args`; PGlite `query`, `params`), PostgreSQL's `detail` quotes the failing row, and an axios error holds
 * the request config with its headers (X-Vault-Token) and body. So no error is logged as itself: only
 * an allow-list of fields is copied out, and anything that may hold data is dropped or scrubbed.
 *
 * What is kept: the type, the message (scrubbed), a code, the names of the constraint/table/column a database
 * error is about, numeric and boolean fields (HTTP status, errno), a few enumerated string fields, stack
 * frames (file and function names, without the message line) and, recursively, the cause.
 */

const QUERY_MARK = "Failed query:";
export const QUERY_WITHHELD = "[query and parameters withheld]";
const SQLSTATE = /^[0-9A-Z]{5}$/;
const MAX_DEPTH = 3;
const MAX_MESSAGE = 1000;
const MAX_FRAMES = 15;
/** String fields that only ever hold enumerated or identifier values in our errors and Node's. */
const SAFE_STRING_FIELDS = new Set(["code", "operation", "reason", "requestId", "keyName", "syscall"]);
/** Identifiers a database error names (PGlite spelling, postgres.js spelling). */
const DB_NAME_FIELDS: [string, string][] = [
  ["constraint", "constraint"],
  ["constraint_name", "constraint"],
  ["table", "table"],
  ["table_name", "table"],
  ["column", "column"],
  ["column_name", "column"],
];

export interface SerializedError {
  type: string;
  message: string;
  code?: string;
  [field: string]: unknown;
}

export function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

/**
 * PostgreSQL's data-exception messages that quote the rejected input, for text that has already lost its
 * error object (a message logged as a string). Error objects are handled by SQLSTATE instead.
 */
const QUOTED_INPUT: [RegExp, string][] = [
  [/(invalid input (?:syntax|value) for (?:type|enum) [^:\n]{1,100}): "(?:[^"\n]|"")*"?/g, '$1: "…"'],
  [/\bvalue "(?:[^"\n]|"")*" is out of range/g, 'value "…" is out of range'],
  [/((?:malformed (?:array|record|range) literal|date\/time field value out of range|invalid hexadecimal digit)): "(?:[^"\n]|"")*"?/g, '$1: "…"'],
];

/**
 * Cuts a Drizzle "Failed query: … params: …" text (also when embedded in another message), masks the input
 * PostgreSQL quotes in data-exception messages, and bounds the length.
 */
export function scrubText(text: string): string {
  const at = text.indexOf(QUERY_MARK);
  let cut = at === -1 ? text : `${text.slice(0, at)}${QUERY_WITHHELD}`;
  for (const [pattern, replacement] of QUOTED_INPUT) cut = cut.replace(pattern, replacement);
  return cut.length > MAX_MESSAGE ? `${cut.slice(0, MAX_MESSAGE)}…` : cut;
}

function isDrizzleQueryError(err: Error): boolean {
  return err instanceof DrizzleQueryError || (err.message.startsWith(QUERY_MARK) && "params" in err);
}

function sqlStateOf(err: Error): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && SQLSTATE.test(code) ? code : undefined;
}

/**
 * A database server's message. Class 22 (data exception) messages quote the offending input value
 * (`invalid input syntax for type uuid: "…"`, `value "…" is out of range`), so for those only the text before
 * the first colon is kept, with quoted parts masked. Other classes name objects, not values; their `detail`
 * (e.g. "Failing row contains (…)") is never copied.
 */
function databaseMessage(message: string, sqlState: string): string {
  if (!sqlState.startsWith("22")) return scrubText(message);
  const head = message.split(":")[0] ?? "";
  return scrubText(head.replace(/"(?:[^"]|"")*"/g, '"…"'));
}

function typeOf(err: Error): string {
  const name = typeof err.name === "string" && err.name && err.name !== "Error" ? err.name : err.constructor?.name;
  return name && name !== "Object" ? name.slice(0, 100) : "Error";
}

function framesOf(stack: unknown): string | undefined {
  if (typeof stack !== "string") return undefined;
  const frames = stack
    .split("\n")
    .filter((l) => /^\s+at /.test(l))
    .slice(0, MAX_FRAMES);
  return frames.length > 0 ? frames.join("\n") : undefined;
}

function copySafeFields(err: Error, out: SerializedError): void {
  for (const key of Object.keys(err)) {
    if (key in out || key === "cause" || key === "errors") continue;
    const v = (err as unknown as Record<string, unknown>)[key];
    if (typeof v === "number" || typeof v === "boolean") out[key] = v;
    else if (typeof v === "string" && SAFE_STRING_FIELDS.has(key)) out[key] = v.slice(0, 200);
  }
}

function serializeDatabaseError(err: Error, sqlState: string | undefined): SerializedError {
  const out: SerializedError = {
    type: typeOf(err),
    message: sqlState ? databaseMessage(err.message, sqlState) : scrubText(err.message),
  };
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") out.code = code.slice(0, 64);
  for (const [from, to] of DB_NAME_FIELDS) {
    const v = (err as unknown as Record<string, unknown>)[from];
    if (typeof v === "string" && v && !(to in out)) out[to] = v.slice(0, 128);
  }
  return out;
}

/**
 * A loggable copy of `value` if it is an error (strings are scrubbed; anything else is returned as is).
 * A DrizzleQueryError becomes its cause's message and SQLSTATE only — never the query or its parameters.
 */
export function serializeError(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return scrubText(value);
  if (!isError(value)) return isPlainObject(value) && !produced.has(value) ? scrubErrorShape(value) : value;
  const out = serializeErrorObject(value, depth);
  produced.add(out);
  return out;
}

/** Copies made here; the logger may see them twice (its log formatter, then its `err` serializer). */
const produced = new WeakSet<object>();

function serializeErrorObject(value: Error, depth: number): SerializedError {
  const err = value;
  if (isDrizzleQueryError(err)) {
    const cause = (err as { cause?: unknown }).cause;
    const inner = isError(cause) ? serializeDatabaseError(cause, sqlStateOf(cause)) : { type: "Error", message: "database query failed" };
    const out: SerializedError = { ...inner, type: "DrizzleQueryError" };
    if (inner.type !== "Error") out.causeType = inner.type;
    const stack = framesOf(err.stack);
    if (stack) out.stack = stack;
    return out;
  }
  const sqlState = sqlStateOf(err);
  const out: SerializedError = sqlState ? serializeDatabaseError(err, sqlState) : { type: typeOf(err), message: scrubText(String(err.message ?? "")) };
  if (!sqlState) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" || typeof code === "number") out.code = String(code).slice(0, 64);
  }
  copySafeFields(err, out);
  const stack = framesOf(err.stack);
  if (stack) out.stack = stack;
  const cause = (err as { cause?: unknown }).cause;
  if (cause !== undefined && depth < MAX_DEPTH) out.cause = isError(cause) ? serializeError(cause, depth + 1) : "[non-error cause withheld]";
  const errors = (err as { errors?: unknown }).errors;
  if (Array.isArray(errors) && depth < MAX_DEPTH) out.errors = errors.slice(0, 10).map((e) => serializeError(e, depth + 1));
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Fields of a hand-built error description that may carry data; dropped. */
const DATA_FIELDS = new Set(["query", "params", "parameters", "args", "detail", "config", "request", "response", "data", "body"]);

/** A hand-built `{ name, message, … }` logged as `err`: scrubbed message, no data-carrying fields. */
function scrubErrorShape(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (DATA_FIELDS.has(k)) continue;
    out[k] = typeof v === "string" ? scrubText(v) : v;
  }
  return out;
}

/** The message to log for an error: its serialized (scrubbed) message. */
export function safeMessageOf(err: Error): string {
  return serializeErrorObject(err, MAX_DEPTH).message;
}

const MAX_WALK_DEPTH = 3;
const MAX_WALK_ARRAY = 50;

/**
 * Replaces every error found among the values of a log object (plain objects and short arrays, three levels
 * deep) by its serialized copy. The caller's objects are never mutated: containers on the path are copied.
 */
export function replaceErrors(value: unknown, depth = 0): unknown {
  if (isError(value)) return serializeError(value);
  if (depth >= MAX_WALK_DEPTH || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    if (value.length > MAX_WALK_ARRAY) return value;
    let copy: unknown[] | undefined;
    value.forEach((v, i) => {
      const r = replaceErrors(v, depth + 1);
      if (r !== v) (copy ??= [...value])[i] = r;
    });
    return copy ?? value;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const r = replaceErrors(v, depth + 1);
    if (r !== v) (copy ??= { ...(value as Record<string, unknown>) })[k] = r;
  }
  return copy ?? value;
}
