/** Small deterministic PRNG (sfc32) so a seed option reproduces the same demo inventory. Not for secrets. */
export interface Rng {
  next(): number;
  int(min: number, maxInclusive: number): number;
  pick<T>(items: readonly T[]): T;
  weighted<T>(items: readonly (readonly [T, number])[]): T;
  bytes(n: number): Buffer;
  chance(p: number): boolean;
  uuid(): string;
}

export function createRng(seed: number): Rng {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88 ^ Math.imul(seed, 0x85ebca6b);
  let c = 0xb7e15162 ^ Math.imul(seed, 0xc2b2ae35);
  let d = 1;
  const u32 = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 15; i++) u32();
  const next = () => u32() / 4294967296;
  const rng: Rng = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    weighted: (items) => {
      const total = items.reduce((s, [, w]) => s + w, 0);
      let r = next() * total;
      for (const [v, w] of items) {
        r -= w;
        if (r < 0) return v;
      }
      return items[items.length - 1]![0];
    },
    bytes: (n) => {
      const out = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i += 4) {
        const v = u32();
        out[i] = v & 0xff;
        if (i + 1 < n) out[i + 1] = (v >>> 8) & 0xff;
        if (i + 2 < n) out[i + 2] = (v >>> 16) & 0xff;
        if (i + 3 < n) out[i + 3] = v >>> 24;
      }
      return out;
    },
    chance: (p) => next() < p,
    uuid: () => {
      const h = rng.bytes(16);
      h[6] = (h[6]! & 0x0f) | 0x40;
      h[8] = (h[8]! & 0x3f) | 0x80;
      const s = h.toString("hex");
      return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
    },
  };
  return rng;
}
