/**
 * Request-field handling modelled on Vault's `sdk/framework` FieldData: every declared field is
 * type-checked (Go mapstructure "weak decode" rules) before a handler runs, undeclared fields are dropped
 * with a warning, and path captures override body fields.
 */

export type FieldType = "string" | "bool" | "int" | "duration" | "slice" | "map";
export type Schema = Record<string, FieldType>;
export type FieldValue = string | number | boolean | unknown[] | Record<string, unknown>;

export class FieldError extends Error {}

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** Go's `%v` for values decoded from JSON, used in validation messages. */
export function goFormat(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (Array.isArray(v)) return `[${v.map(goFormat).join(" ")}]`;
  if (typeof v === "object") {
    const keys = Object.keys(v as object).sort();
    return `map[${keys.map((k) => `${k}:${goFormat((v as Record<string, unknown>)[k])}`).join(" ")}]`;
  }
  return String(v);
}

/** Go type names as mapstructure reports them for JSON-decoded values. */
export function goTypeName(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (Array.isArray(v)) return "[]interface {}";
  if (typeof v === "object") return "map[string]interface {}";
  if (typeof v === "number") return "json.Number";
  return typeof v;
}

/** strconv.ParseInt(s, 0, 64) as WeakDecode uses it for string → int. */
function parseGoIntString(s: string): number {
  if (s === "") return 0;
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(s);
  if (!m) throw new FieldError(`strconv.ParseInt: parsing "${s}": invalid syntax`);
  const sign = m[1] === "-" ? -1n : 1n;
  let digits = (m[2] as string).replace(/_/g, "");
  let big: bigint;
  if (/^0[0-7]+$/.test(digits)) big = BigInt(`0o${digits.slice(1)}`);
  else {
    if (/^0[oO]/.test(digits)) digits = `0o${digits.slice(2)}`;
    big = BigInt(digits);
  }
  big *= sign;
  if (big > INT64_MAX || big < INT64_MIN) throw new FieldError(`strconv.ParseInt: parsing "${s}": value out of range`);
  return Number(big);
}

function toInt(v: unknown): number {
  if (typeof v === "number") {
    // JSON numbers arrive as json.Number; Int64() refuses fractions, exponents and overflow.
    if (!Number.isFinite(v)) throw new FieldError(`strconv.ParseInt: parsing "${v}": value out of range`);
    if (!Number.isInteger(v)) throw new FieldError(`strconv.ParseInt: parsing "${v}": invalid syntax`);
    if (Math.abs(v) > 9223372036854775807) throw new FieldError(`strconv.ParseInt: parsing "${v}": value out of range`);
    return v;
  }
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") return parseGoIntString(v);
  throw new FieldError(`'' expected type 'int', got unconvertible type '${goTypeName(v)}', value: '${goFormat(v)}'`);
}

function toBool(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "number") {
    // json.Number is a string type, so WeakDecode runs strconv.ParseBool on its text.
    if (v === 1) return true;
    if (v === 0) return false;
    throw new FieldError(`cannot parse '' as bool: strconv.ParseBool: parsing "${v}": invalid syntax`);
  }
  if (typeof v === "string") {
    const b = parseGoBool(v);
    if (b !== undefined) return b;
    if (v === "") return false;
    throw new FieldError(`cannot parse '' as bool: strconv.ParseBool: parsing "${v}": invalid syntax`);
  }
  throw new FieldError(`'' expected type 'bool', got unconvertible type '${goTypeName(v)}', value: '${goFormat(v)}'`);
}

function toStr(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  if (typeof v === "boolean") return v ? "1" : "0";
  throw new FieldError(`'' expected type 'string', got unconvertible type '${goTypeName(v)}', value: '${goFormat(v)}'`);
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, "µs": 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400 };

/** parseutil.ParseDurationSecond: integer seconds, or a Go duration string such as "1h30m". */
function toDurationSeconds(v: unknown): number {
  if (typeof v === "number") return toInt(v);
  if (typeof v === "boolean") throw new FieldError(`could not parse duration from input`);
  if (typeof v !== "string") throw new FieldError(`could not parse duration from input`);
  if (v === "") return 0;
  if (/^[+-]?\d+$/.test(v)) return parseGoIntString(v);
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d)/gy;
  let m: RegExpExecArray | null;
  let total = 0;
  let pos = 0;
  const neg = v.startsWith("-");
  const body = v.replace(/^[+-]/, "");
  re.lastIndex = 0;
  while ((m = re.exec(body)) !== null) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
    pos = re.lastIndex;
  }
  if (pos !== body.length || body.length === 0) throw new FieldError(`time: invalid duration "${v}"`);
  return Math.trunc(neg ? -total : total);
}

/** strconv.ParseBool. */
export function parseGoBool(s: string): boolean | undefined {
  switch (s) {
    case "1": case "t": case "T": case "TRUE": case "true": case "True":
      return true;
    case "0": case "f": case "F": case "FALSE": case "false": case "False":
      return false;
    default:
      return undefined;
  }
}

export function convertField(type: FieldType, v: unknown): FieldValue {
  switch (type) {
    case "string": return toStr(v);
    case "bool": return toBool(v);
    case "int": return toInt(v);
    case "duration": return toDurationSeconds(v);
    case "slice": return Array.isArray(v) ? v : [v];
    case "map":
      if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
      throw new FieldError(`'' expected a map, got '${Array.isArray(v) ? "slice" : typeof v}'`);
  }
}

export interface PreparedFields {
  /** Converted values of declared fields that were present and non-null. */
  values: Map<string, FieldValue>;
  /** The unconverted request data (batch_input is decoded from here, as Vault reads `d.Raw`). */
  raw: Record<string, unknown>;
  ignored: string[];
  replaced: string[];
}

/**
 * Builds the field set for one request, or throws FieldError with the "Field validation failed" text.
 * JSON null is treated as absent, matching how the transit handlers treat `GetOk` on null values.
 */
export function prepareFields(schema: Schema, data: Record<string, unknown>, captures: Record<string, string>): PreparedFields {
  const raw: Record<string, unknown> = {};
  const ignored: string[] = [];
  for (const k of Object.keys(data)) {
    raw[k] = data[k];
    if (schema[k] === undefined) ignored.push(k);
  }
  const replaced: string[] = [];
  for (const [k, v] of Object.entries(captures)) {
    if (raw[k] !== undefined && raw[k] !== null) replaced.push(k);
    raw[k] = v;
  }
  const values = new Map<string, FieldValue>();
  for (const k of Object.keys(raw)) {
    const type = schema[k];
    const v = raw[k];
    if (type === undefined || v === null || v === undefined) continue;
    try {
      values.set(k, convertField(type, v));
    } catch (err) {
      const detail = err instanceof FieldError ? err.message : String(err);
      throw new FieldError(`Field validation failed: error converting input ${goFormat(v)} for field "${k}": ${detail}`);
    }
  }
  ignored.sort();
  replaced.sort();
  return { values, raw, ignored, replaced };
}

/** Typed accessors over prepared fields, with the schema defaults the transit paths declare. */
export class Fields {
  constructor(private readonly p: PreparedFields) {}
  get raw(): Record<string, unknown> {
    return this.p.raw;
  }
  has(k: string): boolean {
    return this.p.values.has(k);
  }
  str(k: string, dflt = ""): string {
    const v = this.p.values.get(k);
    return typeof v === "string" ? v : dflt;
  }
  int(k: string, dflt = 0): number {
    const v = this.p.values.get(k);
    return typeof v === "number" ? v : dflt;
  }
  bool(k: string, dflt = false): boolean {
    const v = this.p.values.get(k);
    return typeof v === "boolean" ? v : dflt;
  }
}
