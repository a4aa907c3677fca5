/**
 * Epoch milliseconds → ISO 8601 (`Date.prototype.toISOString` output), without a Date per call. The list
 * formats three timestamps for every row; toISOString costs ~0.9 µs each (≈0.13 ms a 50-row page, a third of
 * the query's own time), this ~0.1 µs: the date part is cached per day, the time part is arithmetic.
 * Outside years 0000–9999 (toISOString's extended format) it defers to Date.
 */
const D2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));
const D3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));
const DAY_MS = 86_400_000;
const MAX_MS = 253_402_300_800_000; // 10000-01-01T00:00:00.000Z
const MAX_CACHED_DAYS = 4096;
const dayPrefix = new Map<number, string>();

export function msToIso(ms: number): string {
  if (!(ms >= 0 && ms < MAX_MS) || !Number.isInteger(ms)) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  let prefix = dayPrefix.get(day);
  if (prefix === undefined) {
    prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    if (dayPrefix.size >= MAX_CACHED_DAYS) dayPrefix.clear();
    dayPrefix.set(day, prefix);
  }
  let r = ms - day * DAY_MS;
  const milli = r % 1000;
  r = (r - milli) / 1000;
  const sec = r % 60;
  r = (r - sec) / 60;
  const min = r % 60;
  return `${prefix}${D2[(r - min) / 60]}:${D2[min]}:${D2[sec]}.${D3[milli]}Z`;
}

/** Microseconds since the epoch (exact as a double below 2^53) → ISO string at millisecond precision. */
export function usToIso(us: number): string {
  return msToIso(Math.trunc(us / 1000));
}
