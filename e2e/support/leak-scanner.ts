/**
 * Finds share material in text (DESIGN §2, fifth layer). Pure: no Playwright, no server code, so the vitest
 * suite can exercise it too.
 *
 * Each secret (exact bytes, from the marker manifest) is turned into needles, one per way it could be written
 * into a response or a log line:
 * - raw text (when the bytes are text), and that text JSON-escaped (inside a JSON string or an RSC payload),
 *   HTML-escaped as React writes attributes and text, and URL-encoded;
 * - base64 and base64url at each of the three byte alignments, so the secret is found even when it was
 *   encoded as part of a larger buffer (for example the whole stored envelope, or `{"ciphertext": …}`);
 * - hex, matched case-insensitively (lower, upper, PostgreSQL's `\x…` bytea output);
 * - decimal byte lists as Node writes a Buffer in JSON (`{"type":"Buffer","data":[…]}`) or an array prints,
 *   and a Uint8Array through JSON.stringify (`{"0":118,"1":97,…}`, what a raw PGlite bytea turns into).
 * Needles shorter than MIN_NEEDLE are dropped: a short string could occur by chance and is not evidence.
 */

export interface ScanSecret {
  label: string;
  kind: string;
  /** The secret's exact bytes. */
  base64: string;
}

export interface Needle {
  label: string;
  kind: string;
  form: string;
  text: string;
  caseInsensitive: boolean;
}

export interface Finding {
  label: string;
  kind: string;
  form: string;
  /** Position in the scanned text, and a short excerpt around it with the match masked. */
  index: number;
  excerpt: string;
}

export const MIN_NEEDLE = 16;

function isPrintableText(b: Buffer): string | undefined {
  const text = b.toString("utf8");
  if (Buffer.from(text, "utf8").equals(b) === false) return undefined;
  // eslint-disable-next-line no-control-regex -- control characters mean "binary", which is the point here
  return /[\u0000-\u0008\u000e-\u001f\ufffd]/.test(text) ? undefined : text;
}

const REACT_HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;" };

export function needlesFor(secret: ScanSecret): Needle[] {
  const bytes = Buffer.from(secret.base64, "base64");
  const out: Needle[] = [];
  const add = (form: string, text: string, caseInsensitive = false) => {
    if (text.length < MIN_NEEDLE) return;
    const t = caseInsensitive ? text.toLowerCase() : text;
    if (out.some((n) => n.text === t && n.caseInsensitive === caseInsensitive)) return;
    out.push({ label: secret.label, kind: secret.kind, form, text: t, caseInsensitive });
  };

  const text = isPrintableText(bytes);
  if (text !== undefined) {
    add("raw", text);
    add("json-escaped", JSON.stringify(text).slice(1, -1));
    add("json-escaped twice", JSON.stringify(JSON.stringify(text)).slice(1, -1));
    add("html-escaped", text.replace(/[&<>"']/g, (c) => REACT_HTML_ESCAPES[c]!));
    add("html-escaped (numeric)", text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`));
    add("url-encoded", encodeURIComponent(text));
  }
  for (let shift = 0; shift < 3; shift++) {
    const part = bytes.subarray(shift);
    const whole = Math.floor(part.length / 3) * 4;
    const b64 = part.toString("base64").slice(0, whole);
    add(shift === 0 ? "base64" : `base64 (offset ${shift})`, b64);
    add(shift === 0 ? "base64url" : `base64url (offset ${shift})`, b64.replace(/\+/g, "-").replace(/\//g, "_"));
    // base64 inside a URL query (+ / = percent-encoded).
    add(shift === 0 ? "base64 url-encoded" : `base64 url-encoded (offset ${shift})`, encodeURIComponent(b64));
  }
  add("hex", bytes.toString("hex"), true);
  // A window from the middle: the ends of stored bytes are format prefixes ("vault:v1:", '{"v":1,…') shared by all records.
  const mid = Math.max(0, Math.floor(bytes.length / 2) - 8);
  const window = [...bytes.subarray(mid, mid + 16)];
  if (window.length >= 12) {
    add("decimal bytes", window.join(","));
    add("decimal bytes (spaced)", window.join(", "));
    // A Uint8Array through JSON.stringify: {"0":118,"1":97,…}, indices counted from the secret's first byte.
    add("Uint8Array in JSON", window.map((b, i) => `"${mid + i}":${b}`).join(","));
  }
  return out;
}

export class LeakScanner {
  readonly needles: Needle[];

  constructor(secrets: readonly ScanSecret[]) {
    this.needles = secrets.flatMap(needlesFor);
    if (this.needles.length === 0) throw new Error("LeakScanner: no needles (empty marker manifest?)");
  }

  /** Every needle found in `text`, at most one finding per needle. */
  scan(text: string): Finding[] {
    const lower = this.needles.some((n) => n.caseInsensitive) ? text.toLowerCase() : text;
    const findings: Finding[] = [];
    for (const n of this.needles) {
      const index = (n.caseInsensitive ? lower : text).indexOf(n.text);
      if (index < 0) continue;
      const before = text.slice(Math.max(0, index - 40), index);
      const after = text.slice(index + n.text.length, index + n.text.length + 40);
      findings.push({ label: n.label, kind: n.kind, form: n.form, index, excerpt: `${before}[${n.form} of ${n.kind}]${after}` });
    }
    return findings;
  }
}

/** Encodings a leaking page could plausibly produce, for the self-test: each must be caught. */
export function syntheticLeaks(secret: ScanSecret): { form: string; body: string }[] {
  const bytes = Buffer.from(secret.base64, "base64");
  const wrapped = Buffer.concat([Buffer.from("prefix-"), bytes, Buffer.from("-suffix")]);
  const text = isPrintableText(bytes);
  const leaks = [
    { form: "base64 in JSON", body: JSON.stringify({ ok: true, data: bytes.toString("base64") }) },
    { form: "base64url in an href", body: `<a href="/x?d=${bytes.toString("base64url")}">x</a>` },
    { form: "hex upper-case in CSV", body: `id,blob\n1,${bytes.toString("hex").toUpperCase()}\n` },
    { form: "bytea in JSON", body: JSON.stringify({ encrypted_key_shares: `\\x${bytes.toString("hex")}` }) },
    { form: "Buffer in JSON", body: JSON.stringify({ row: bytes }) },
    { form: "Uint8Array in JSON", body: JSON.stringify({ row: new Uint8Array(bytes) }) },
    { form: "base64 of a larger buffer", body: `<pre>${wrapped.toString("base64")}</pre>` },
  ];
  if (text !== undefined) {
    leaks.push({ form: "raw in HTML", body: `<td>${text.replace(/[&<>"']/g, (c) => REACT_HTML_ESCAPES[c]!)}</td>` });
    leaks.push({ form: "raw in an RSC payload", body: `1:["$","td",null,{"children":${JSON.stringify(text)}}]` });
    leaks.push({ form: "raw in a log line", body: `{"level":30,"msg":"x","value":${JSON.stringify(text)}}` });
  }
  return leaks;
}
