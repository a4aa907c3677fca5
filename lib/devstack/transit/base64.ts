/**
 * Base64 exactly as Vault decodes it: Go's `base64.StdEncoding.DecodeString`.
 *
 * Node's `Buffer.from(s, "base64")` is lenient (URL-safe alphabet, missing padding, silently dropped
 * junk), so using it alone would turn inputs Vault rejects with 400 into quietly corrupted data.
 * Go's rules: standard alphabet only, `=` padding required, `\r` and `\n` skipped anywhere,
 * non-zero trailing bits accepted. Errors carry the byte offset Go reports.
 */

export class Base64Error {
  constructor(readonly offset: number) {}
  get message(): string {
    return `illegal base64 data at input byte ${this.offset}`;
  }
}

const EQ = 0x3d;

const DECODE_MAP = new Int16Array(256).fill(-1);
for (const [i, c] of [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"].entries()) {
  DECODE_MAP[c.charCodeAt(0)] = i;
}
const CR = 0x0d;
const LF = 0x0a;
const PAD = 0x3d;

/**
 * Fast path without a per-character regex (a regex over kilobyte ciphertexts dominated batch profiles):
 * Node's decoder skips or stops at any character outside its alphabet, and every such character
 * shortens the output below the length a fully valid string of this size must produce. So "decoded
 * length equals (len/4)*3 minus padding" proves the input was entirely alphabet characters, once the
 * URL-safe `-` and `_` (which Node accepts and Go does not) are excluded. Everything else takes the
 * exact Go-compatible slow path, which also computes the error offset.
 */
export function decodeBase64Std(s: string): Buffer | Base64Error {
  const len = s.length;
  if ((len & 3) === 0 && s.indexOf("-") < 0 && s.indexOf("_") < 0) {
    let pad = 0;
    if (len > 0 && s.charCodeAt(len - 1) === EQ) pad = s.charCodeAt(len - 2) === EQ ? 2 : 1;
    const b = Buffer.from(s, "base64");
    if (b.length === (len >> 2) * 3 - pad) return b;
  }
  return decodeSlow(Buffer.from(s, "utf8"));
}

/** Go's decodeQuantum loop, kept structurally close so error offsets match byte for byte. */
function decodeSlow(src: Buffer): Buffer | Base64Error {
  const out: number[] = [];
  let si = 0;
  const n = src.length;
  for (;;) {
    const dbuf = [0, 0, 0, 0];
    let dlen = 4;
    let trailingError: number | null = null;
    let j = 0;
    let done = false;
    for (; j < 4; j++) {
      if (si === n) {
        if (j === 0) return Buffer.from(out);
        // Padding is mandatory in StdEncoding, so any incomplete quantum is an error at its start.
        return new Base64Error(si - j);
      }
      const c = src[si] as number;
      si++;
      const v = DECODE_MAP[c] as number;
      if (v >= 0) {
        dbuf[j] = v;
        continue;
      }
      if (c === LF || c === CR) {
        j--;
        continue;
      }
      if (c !== PAD) return new Base64Error(si - 1);
      if (j === 0 || j === 1) return new Base64Error(si - 1);
      if (j === 2) {
        while (si < n && (src[si] === LF || src[si] === CR)) si++;
        if (si === n) return new Base64Error(n);
        if (src[si] !== PAD) return new Base64Error(si - 1);
        si++;
      }
      while (si < n && (src[si] === LF || src[si] === CR)) si++;
      if (si < n) trailingError = si;
      dlen = j;
      done = true;
      break;
    }
    const val = ((dbuf[0] as number) << 18) | ((dbuf[1] as number) << 12) | ((dbuf[2] as number) << 6) | (dbuf[3] as number);
    const b0 = (val >> 16) & 0xff;
    const b1 = (val >> 8) & 0xff;
    const b2 = val & 0xff;
    if (dlen === 4) out.push(b0, b1, b2);
    else if (dlen === 3) out.push(b0, b1);
    else if (dlen === 2) out.push(b0);
    if (trailingError !== null) return new Base64Error(trailingError);
    if (done) return Buffer.from(out);
  }
}

export function encodeBase64Std(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
}
