import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * The app's routes, read from the file system (`app/**\/page.tsx`, `app/**\/route.ts`) so that a new page or
 * route handler is crawled without anyone editing the leak test. Route groups `(x)` vanish from the URL,
 * private folders `_x`, parallel slots `@x` and intercepting routes `(.)x` are not separately addressable.
 */

export interface AppRoute {
  kind: "page" | "api";
  /** URL pattern with Next's dynamic segments, e.g. `/wallets/[walletId]`. */
  pattern: string;
  file: string;
  /** Route handlers: which HTTP methods the file exports. */
  methods: string[];
}

const PAGE_FILE = /^page\.(tsx|ts|jsx|js|mdx)$/;
const ROUTE_FILE = /^route\.(ts|js)$/;

function walk(dir: string, segments: string[], out: AppRoute[]) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const name = entry.name;
      if (name.startsWith("_") || name.startsWith("@") || /^\(\.+\)/.test(name) || name === "node_modules") continue;
      walk(full, /^\(.*\)$/.test(name) ? segments : [...segments, name], out);
      continue;
    }
    const pattern = `/${segments.join("/")}`;
    if (PAGE_FILE.test(entry.name)) out.push({ kind: "page", pattern, file: full, methods: ["GET"] });
    if (ROUTE_FILE.test(entry.name)) {
      const src = readFileSync(full, "utf8");
      const methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"].filter((m) =>
        new RegExp(`export\\s+(async\\s+)?(function|const|let)\\s+${m}\\b|export\\s*\\{[^}]*\\b${m}\\b[^}]*\\}`).test(src),
      );
      out.push({ kind: "api", pattern, file: full, methods });
    }
  }
}

export function discoverRoutes(appDir = path.resolve("app")): AppRoute[] {
  const out: AppRoute[] = [];
  walk(appDir, [], out);
  return out.sort((a, b) => a.pattern.localeCompare(b.pattern));
}

export interface MarkerValues {
  walletIds: string[];
  addresses: string[];
  shareIds: string[];
  keyNames: string[];
  keyVersions: number[];
}

/** Candidate values for a dynamic segment, by its name; anything unknown gets every marker identifier. */
function candidates(param: string, m: MarkerValues): string[] {
  const p = param.toLowerCase();
  // Audit event ids are 1, 2, 3… (identity column); the first ones exist once the demo data is seeded.
  if (/^(audit)?event/.test(p)) return ["1", "2", "3"];
  if (/address/.test(p)) return m.addresses;
  if (/version/.test(p)) return [...new Set(m.keyVersions.map(String))];
  if (/share|record/.test(p)) return m.shareIds;
  if (/wallet/.test(p)) return [...m.walletIds, ...m.addresses];
  if (/key|name/.test(p)) return m.keyNames;
  return [...m.walletIds, ...m.addresses, ...m.shareIds, ...m.keyNames];
}

/**
 * Concrete URLs for a route: itself when static; with marker identifiers substituted for dynamic segments
 * (a wrong guess is a 404, which is fine). Catch-all segments are skipped, except Auth.js's known GET endpoints.
 */
export function expandRoute(route: AppRoute, markers: MarkerValues, limit = 24): string[] {
  if (route.pattern.startsWith("/api/auth/")) {
    return route.methods.includes("GET") ? ["/api/auth/session", "/api/auth/providers", "/api/auth/csrf"] : [];
  }
  if (/\[\[?\.\.\./.test(route.pattern)) return [];
  if (!route.methods.includes("GET")) return [];
  let urls = [""];
  for (const seg of route.pattern.split("/").filter(Boolean)) {
    const dyn = /^\[(.+)\]$/.exec(seg);
    const values = dyn ? candidates(dyn[1]!, markers).map(encodeURIComponent) : [seg];
    urls = urls.flatMap((u) => values.map((v) => `${u}/${v}`)).slice(0, limit);
  }
  return urls.length === 0 ? [] : urls.map((u) => u || "/");
}
