/**
 * Display formatting shared by server and client components. Pure and free of `server-only` on purpose
 * (like lib/auth/permissions.ts): it holds no secrets and touches nothing. Deterministic (no locale or time
 * zone of the machine) so that server render and hydration agree.
 */

/** "90d", "36h", "45m", "30s", "1d 12h"; "off" for 0. Vault's auto_rotate_period is in seconds. */
export function formatPeriod(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return "off";
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  const parts = [d ? `${d}d` : "", h ? `${h}h` : "", m ? `${m}m` : "", s ? `${s}s` : ""].filter(Boolean);
  return parts.slice(0, 2).join(" ");
}

export function formatCount(n: number | null | undefined): string {
  return n === null || n === undefined ? "—" : n.toLocaleString("en-US");
}

/** UTC calendar day of an ISO instant, e.g. "2026-03-01". */
export function formatDay(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 10) : "—";
}

export function formatAge(days: number | null | undefined): string {
  return days === null || days === undefined ? "—" : days === 1 ? "1 day" : `${days} days`;
}
