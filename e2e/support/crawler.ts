import type { APIRequestContext } from "@playwright/test";

/**
 * A bounded same-origin crawler over the console's GET surface, for the leak test. It fetches every URL it is
 * given or finds; for HTML pages it also fetches the RSC payload (`RSC: 1`, what client navigation receives),
 * and it follows links (`href`, RSC `"href":…`) and GET forms (text inputs filled with search values, each
 * select option) from both. Every body goes to `onBody`; nothing is judged here.
 *
 * Bounded: URLs are de-duplicated by shape (ids, addresses and cursor values collapsed, filter values kept),
 * with a cap per path shape and a cap overall. URLs that carry a marker identifier are always fetched, so every
 * marker's detail page and filtered list is visited even when an ordinary wallet of the same shape was.
 * Never follows sign-out links or Auth.js's sign-in/callback endpoints: the crawl must keep its session.
 */

export type BodyVariant = "html" | "rsc" | "json" | "csv" | "text" | "other";

export interface CrawledBody {
  url: string;
  variant: BodyVariant;
  status: number;
  contentType: string;
  /** Where redirects ended. */
  finalUrl: string;
  /** Headers and body, as one text to scan. */
  headers: string;
  body: string;
}

export interface CrawlOptions {
  request: APIRequestContext;
  baseURL: string;
  /** Fetched first, in order, regardless of shape. */
  seeds: string[];
  /** Values that make a URL "forced" (marker identifiers), and fill text inputs of GET forms. */
  forceValues: string[];
  searchValues: string[];
  maxUrls?: number;
  maxPerPathShape?: number;
  concurrency?: number;
  onBody: (body: CrawledBody) => void;
}

export interface CrawlResult {
  /** Every URL fetched (without the RSC variant). */
  fetched: string[];
  /** HTML pages answered 2xx that did not end on the sign-in page. */
  pages: string[];
  /** Discovered but not fetched because a cap was reached. */
  capped: number;
  errors: { url: string; error: string }[];
}

const SKIP_PATH = /(^|\/)(sign-?out|log-?out)(\/|$)|^\/api\/auth\/(signout|signin|callback)(\/|$)|^\/_next\/|^\/__nextjs/i;
const STATIC_FILE = /\.(js|mjs|css|map|png|jpe?g|gif|svg|ico|webp|avif|woff2?|ttf|otf|txt|xml|webmanifest)$/i;
const CURSOR_PARAM = /cursor|after|before|page|offset|from|next|prev|token|sig/i;
const ID_LIKE = /^(0x[0-9a-f]{8,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+|[A-Za-z0-9_-]{20,}|[1-9A-HJ-NP-Za-km-z]{30,})$/i;

function segmentShape(s: string): string {
  return ID_LIKE.test(decodeURIComponent(s)) ? ":id" : s;
}

export function urlShape(u: URL): { path: string; full: string } {
  const path = u.pathname.split("/").map(segmentShape).join("/");
  const params = [...u.searchParams.entries()]
    .map(([k, v]) => `${k}=${CURSOR_PARAM.test(k) ? "*" : ID_LIKE.test(v) ? ":id" : v.length > 24 ? ":text" : v}`)
    .sort();
  return { path, full: `${path}?${params.join("&")}` };
}

function decodeEntities(s: string): string {
  return s
    .replace(/&amp;/g, "&")
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">");
}

/** Links in HTML attributes and in RSC/JSON payloads. */
export function extractLinks(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')/gi)) out.add(decodeEntities(m[1] ?? m[2] ?? ""));
  for (const m of text.matchAll(/"href"\s*:\s*"((?:\/|https?:)[^"\\]*(?:\\.[^"\\]*)*)"/g)) {
    try {
      out.add(JSON.parse(`"${m[1]}"`) as string);
    } catch {
      // not a JSON string after all
    }
  }
  return [...out].filter((h) => h && !h.startsWith("#") && !/^(javascript|mailto|tel|data):/i.test(h));
}

/** GET forms: one URL per text-like input per search value, and one per select option (bounded). */
export function extractGetForms(html: string, pageUrl: string, searchValues: string[]): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = m[1] ?? "";
    const inner = m[2] ?? "";
    const method = /\bmethod\s*=\s*["']?(\w+)/i.exec(attrs)?.[1]?.toLowerCase() ?? "get";
    const action = /\baction\s*=\s*"([^"]*)"/i.exec(attrs)?.[1];
    // React server-action forms post; their action is not a URL.
    if (method !== "get" || (action && /^javascript:/i.test(action))) continue;
    const target = new URL(action ? decodeEntities(action) : pageUrl, pageUrl);
    target.search = "";
    for (const input of inner.matchAll(/<input\b([^>]*)>/gi)) {
      const a = input[1] ?? "";
      const name = /\bname\s*=\s*"([^"]+)"/i.exec(a)?.[1];
      const type = /\btype\s*=\s*"([^"]+)"/i.exec(a)?.[1]?.toLowerCase() ?? "text";
      if (!name || !["text", "search", ""].includes(type)) continue;
      for (const v of searchValues) {
        const u = new URL(target);
        u.searchParams.set(decodeEntities(name), v);
        out.push(u.toString());
      }
    }
    for (const select of inner.matchAll(/<select\b([^>]*)>([\s\S]*?)<\/select>/gi)) {
      const name = /\bname\s*=\s*"([^"]+)"/i.exec(select[1] ?? "")?.[1];
      if (!name) continue;
      const values = [...(select[2] ?? "").matchAll(/<option\b[^>]*\bvalue\s*=\s*"([^"]*)"/gi)].map((o) => decodeEntities(o[1] ?? ""));
      for (const v of values.slice(0, 12)) {
        const u = new URL(target);
        u.searchParams.set(decodeEntities(name), v);
        out.push(u.toString());
      }
    }
  }
  return out;
}

function variantOf(contentType: string, rsc: boolean): BodyVariant {
  if (rsc || contentType.includes("text/x-component")) return "rsc";
  if (contentType.includes("html")) return "html";
  if (contentType.includes("json")) return "json";
  if (contentType.includes("csv")) return "csv";
  if (contentType.startsWith("text/")) return "text";
  return "other";
}

export async function crawl(opts: CrawlOptions): Promise<CrawlResult> {
  const origin = new URL(opts.baseURL).origin;
  const maxUrls = opts.maxUrls ?? 200;
  const maxPerPathShape = opts.maxPerPathShape ?? 12;
  const concurrency = opts.concurrency ?? 4;
  const result: CrawlResult = { fetched: [], pages: [], capped: 0, errors: [] };

  const seenUrls = new Set<string>();
  const seenShapes = new Set<string>();
  const perPathShape = new Map<string, number>();
  const queue: { url: string; forced: boolean }[] = [];

  const normalise = (href: string, base: string): URL | undefined => {
    let u: URL;
    try {
      u = new URL(href, base);
    } catch {
      return undefined;
    }
    if (u.origin !== origin) return undefined;
    u.hash = "";
    if (SKIP_PATH.test(u.pathname) || STATIC_FILE.test(u.pathname)) return undefined;
    // Next's internal cache-busting parameter on RSC requests.
    u.searchParams.delete("_rsc");
    return u;
  };

  const enqueue = (href: string, base: string, seed = false) => {
    const u = normalise(href, base);
    if (!u) return;
    const key = u.pathname + u.search;
    if (seenUrls.has(key)) return;
    const forced = seed || opts.forceValues.some((v) => key.includes(v) || key.includes(encodeURIComponent(v)));
    const shape = urlShape(u);
    if (!forced) {
      if (seenShapes.has(shape.full)) return;
      const n = perPathShape.get(shape.path) ?? 0;
      if (n >= maxPerPathShape || seenUrls.size >= maxUrls) {
        result.capped++;
        return;
      }
      perPathShape.set(shape.path, n + 1);
    }
    seenUrls.add(key);
    seenShapes.add(shape.full);
    queue.push({ url: key, forced });
  };

  const fetchOne = async (url: string, rsc: boolean): Promise<CrawledBody | undefined> => {
    try {
      const res = await opts.request.get(url, {
        headers: rsc ? { RSC: "1" } : { Accept: "text/html,application/json,text/csv,*/*" },
        maxRedirects: 5,
        failOnStatusCode: false,
        timeout: 30_000,
      });
      const contentType = res.headers()["content-type"] ?? "";
      const buf = await res.body();
      const body: CrawledBody = {
        url,
        variant: variantOf(contentType, rsc),
        status: res.status(),
        contentType,
        finalUrl: res.url(),
        headers: res.headersArray().map((h) => `${h.name}: ${h.value}`).join("\n"),
        // Binary bodies are scanned as latin1 too (every byte a character), so raw bytes still match hex/base64 needles' sources.
        body: /text|json|javascript|x-component|csv|xml/.test(contentType) || contentType === "" ? buf.toString("utf8") : buf.toString("latin1"),
      };
      opts.onBody(body);
      return body;
    } catch (err) {
      result.errors.push({ url: `${rsc ? "[RSC] " : ""}${url}`, error: err instanceof Error ? err.message.split("\n")[0]! : String(err) });
      return undefined;
    }
  };

  for (const s of opts.seeds) enqueue(s, origin, true);

  const worker = async () => {
    while (queue.length > 0) {
      const { url } = queue.shift()!;
      result.fetched.push(url);
      const page = await fetchOne(url, false);
      if (!page) continue;
      const finalPath = new URL(page.finalUrl).pathname;
      if (page.variant === "html") {
        if (page.status >= 200 && page.status < 300 && !/^\/(login|signed-out)/.test(finalPath)) result.pages.push(url);
        const rsc = await fetchOne(url, true);
        const base = page.finalUrl;
        for (const href of extractLinks(page.body)) enqueue(href, base);
        for (const href of extractGetForms(page.body, base, opts.searchValues)) enqueue(href, base);
        if (rsc) for (const href of extractLinks(rsc.body)) enqueue(href, base);
      }
    }
  };
  // Workers share one queue; a worker that finds it empty stops, so keep going while others may add more.
  let active = 0;
  await new Promise<void>((resolve) => {
    const spawnWorkers = () => {
      while (active < concurrency && queue.length > 0) {
        active++;
        void worker().finally(() => {
          active--;
          if (queue.length > 0) spawnWorkers();
          else if (active === 0) resolve();
        });
      }
      if (active === 0) resolve();
    };
    spawnWorkers();
  });
  return result;
}
