import { existsSync, readFileSync, statSync } from "node:fs";
import { expect, test, type BrowserContext, type Response } from "@playwright/test";
import { can } from "../lib/auth/permissions";
import type { MarkerManifest } from "./support/markers";
import { ROLE_ACCOUNTS, signInViaIdp, storageStatePath, type DemoLogin } from "./fixtures/auth";
import { crawl, type CrawledBody } from "./support/crawler";
import { LeakScanner, syntheticLeaks, type Finding } from "./support/leak-scanner";
import { discoverRoutes, expandRoute, type MarkerValues } from "./support/routes";

/**
 * Zero share exposure (DESIGN §2, fifth layer; issue 4). The web server seeded marker wallets whose share
 * plaintext, ciphertext, wrapped data key and envelope are known (support/markers.ts → KEYSHARE_SEED_MARKERS).
 * As every demo login, this crawls every page reachable from the navigation and from links and GET forms on
 * those pages, every page and GET route handler under app/ (marker ids substituted for dynamic segments), the
 * route handlers again with every query the pages used (exports), each page's RSC payload, and everything a
 * real browser loads while showing the pages — and fails if any body or header holds marker material in any
 * encoding (see support/leak-scanner.ts). The server log (KEYSHARE_LOG_FILE) is scanned last.
 *
 * New pages and routes are picked up from the file system and from links; there is no list to maintain.
 * Guards against passing vacuously: a scanner self-test on the real markers, a minimum number of pages per
 * login, RSC and JSON bodies actually fetched, and every marker wallet seen in the inventory.
 */

// Same paths as playwright.config.ts's webServer env (KEYSHARE_SEED_MARKERS, KEYSHARE_LOG_FILE).
const DATA_DIR = process.env.E2E_DATA_DIR ?? ".data-e2e";
const MARKERS_FILE = `${DATA_DIR}/markers.json`;
const LOG_FILE = `${DATA_DIR}/server.log`;

const MIN_PAGES_PER_LOGIN = 5;
const MAX_URLS_PER_LOGIN = 220;
const BROWSER_PAGES_PER_LOGIN = 30;

interface Leak {
  who: string;
  url: string;
  variant: string;
  status: number;
  finding: Finding;
}

let cachedManifest: MarkerManifest | undefined;
/** Read lazily: the web server (which writes it) starts after this file is loaded. */
function manifest(): MarkerManifest {
  if (cachedManifest) return cachedManifest;
  if (!existsSync(MARKERS_FILE)) {
    throw new Error(
      `${MARKERS_FILE} is missing: the console was not started by e2e/support/start-server.ts with KEYSHARE_SEED_MARKERS ` +
        "(a server reused from `npm start` or another run?). Stop it and run: rm -rf .data-e2e && npx playwright test e2e/leak.spec.ts",
    );
  }
  cachedManifest = JSON.parse(readFileSync(MARKERS_FILE, "utf8")) as MarkerManifest;
  return cachedManifest;
}

function markerValues(m: MarkerManifest): MarkerValues {
  return {
    walletIds: m.wallets.map((w) => w.walletId),
    addresses: m.wallets.map((w) => w.accountAddress),
    shareIds: m.wallets.map((w) => w.shareId),
    keyNames: [...new Set(m.wallets.map((w) => w.keyName))],
    keyVersions: [...new Set(m.wallets.map((w) => w.keyVersion))],
  };
}

/** Every page and GET route handler under app/, concrete, plus a search for each marker on each static page. */
function seedUrls(m: MarkerManifest): string[] {
  const values = markerValues(m);
  const routes = discoverRoutes();
  const urls = new Set<string>(["/"]);
  for (const r of routes) for (const u of expandRoute(r, values)) urls.add(u);
  for (const r of routes.filter((r) => r.kind === "page" && !r.pattern.includes("["))) {
    for (const w of m.wallets.slice(0, 2)) {
      urls.add(`${r.pattern}?q=${encodeURIComponent(w.accountAddress)}`);
      urls.add(`${r.pattern}?q=${encodeURIComponent(w.walletId)}`);
    }
  }
  return [...urls];
}

function describeLeaks(leaks: Leak[]): string {
  if (leaks.length === 0) return "no leaks";
  const lines = leaks.slice(0, 40).map((l) => `  ${l.who} ${l.variant} ${l.status} ${l.url}\n      ${l.finding.label} as ${l.finding.form}: …${l.finding.excerpt}…`);
  return `share material found in ${leaks.length} place(s):\n${lines.join("\n")}${leaks.length > 40 ? "\n  …" : ""}`;
}

/** Scans bodies, records leaks and where each marker wallet was seen. */
class Inspector {
  readonly leaks: Leak[] = [];
  readonly variants = new Map<string, number>();
  readonly seen = new Map<string, Set<string>>();
  /** Server errors are not leaks, but a page that fails hides what it would show: reported with the summary. */
  readonly serverErrors = new Set<string>();
  bodies = 0;

  constructor(
    private readonly who: string,
    private readonly scanner: LeakScanner,
    private readonly wallets: MarkerManifest["wallets"],
  ) {}

  inspect(b: Pick<CrawledBody, "url" | "variant" | "status" | "headers" | "body">): void {
    this.bodies++;
    const key = `${b.variant}:${b.status >= 200 && b.status < 300 ? "2xx" : b.status}`;
    this.variants.set(key, (this.variants.get(key) ?? 0) + 1);
    for (const finding of this.scanner.scan(`${b.headers}\n\n${b.body}`)) {
      this.leaks.push({ who: this.who, url: b.url, variant: b.variant, status: b.status, finding });
    }
    if (b.status >= 500) this.serverErrors.add(`${b.status} ${b.variant} ${b.url}`);
    if (process.env.LEAK_VERBOSE) console.log(`  ${this.who} ${b.status} ${b.variant} ${b.url}`);
    if (b.status < 200 || b.status >= 300) return;
    // Seen = the body names the marker by an identifier the URL did not carry (a page echoing its own query or
    // path proves nothing; a list row linking to the wallet, or a detail page showing its address, does).
    const lower = b.body.toLowerCase();
    const url = decodeURIComponent(b.url).toLowerCase();
    for (const w of this.wallets) {
      const ids = [w.accountAddress, w.walletId, w.shareId].map((v) => v.toLowerCase()).filter((v) => !url.includes(v));
      if (ids.some((v) => lower.includes(v))) {
        let urls = this.seen.get(w.walletId);
        if (!urls) this.seen.set(w.walletId, (urls = new Set()));
        urls.add(b.url);
      }
    }
  }

  has(variant: string): boolean {
    return this.variants.has(`${variant}:2xx`);
  }
}

/** Everything a real browser receives while showing the pages: client fetches, polling, RSC prefetches. */
async function browsePages(context: BrowserContext, pages: string[], inspector: Inspector, origin: string): Promise<number> {
  const pending: Promise<void>[] = [];
  const onResponse = (res: Response) => {
    const url = new URL(res.url());
    if (url.origin !== origin || /\.(js|css|woff2?|png|svg|ico)$/.test(url.pathname)) return;
    pending.push(
      (async () => {
        const buf = await res.body().catch(() => undefined);
        if (!buf) return;
        const headers = await res.headersArray().catch(() => []);
        const contentType = res.headers()["content-type"] ?? "";
        const rsc = contentType.includes("x-component");
        inspector.inspect({
          url: `${url.pathname}${url.search} (browser)`,
          variant: rsc ? "rsc" : contentType.includes("html") ? "html" : contentType.includes("json") ? "json" : contentType.includes("csv") ? "csv" : "other",
          status: res.status(),
          headers: headers.map((h) => `${h.name}: ${h.value}`).join("\n"),
          body: buf.toString("utf8"),
        });
      })(),
    );
  };
  context.on("response", onResponse);
  const page = await context.newPage();
  let shown = 0;
  try {
    for (const url of pages) {
      const res = await page.goto(url, { waitUntil: "load", timeout: 30_000 }).catch(() => null);
      if (!res) continue;
      shown++;
      // Let client queries and viewport prefetches run; polling never goes idle, so this is bounded.
      await page.waitForLoadState("networkidle", { timeout: 4_000 }).catch(() => undefined);
    }
  } finally {
    await page.close();
    context.off("response", onResponse);
    await Promise.all(pending);
  }
  return shown;
}

async function ensureSignedIn(context: BrowserContext, login: DemoLogin): Promise<void> {
  const res = await context.request.get("/", { maxRedirects: 5 });
  if (!new URL(res.url()).pathname.startsWith("/login")) return;
  // The saved session is gone (expired, or revoked by another spec): sign in afresh.
  const page = await context.newPage();
  await signInViaIdp(page, login);
  await expect(page).toHaveURL((u) => u.pathname === "/");
  await page.close();
}

test.describe("zero share exposure (DESIGN §2)", () => {
  test("self-test: the scanner finds every marker in every encoding, and only markers", async () => {
    const m = manifest();
    expect(m.wallets.length).toBeGreaterThanOrEqual(4);
    expect(new Set(m.wallets.map((w) => w.layout))).toEqual(new Set(["direct", "envelope"]));
    const kinds = new Set(m.secrets.map((s) => s.kind));
    for (const k of ["plaintext", "transit-ciphertext", "transit-payload", "wrapped-key", "data-key", "envelope-json", "stored-bytes"]) {
      expect(kinds, `manifest has ${k}`).toContain(k);
    }
    const scanner = new LeakScanner(m.secrets);
    const missed: string[] = [];
    for (const s of m.secrets) {
      for (const leak of syntheticLeaks(s)) {
        if (!scanner.scan(leak.body).some((f) => f.label === s.label)) missed.push(`${s.label} as ${leak.form}`);
      }
    }
    expect(missed, "synthetic leaks the scanner missed").toEqual([]);

    // The same path the crawl uses: a body with a base64 ciphertext is reported with its URL and form.
    const inspector = new Inspector("self-test", scanner, m.wallets);
    const payload = m.secrets.find((s) => s.kind === "transit-ciphertext")!;
    inspector.inspect({ url: "/synthetic", variant: "json", status: 200, headers: "", body: JSON.stringify({ blob: payload.base64 }) });
    expect(inspector.leaks.map((l) => [l.url, l.finding.label, l.finding.form])).toContainEqual(["/synthetic", payload.label, "base64"]);

    // No false alarm on what pages may show: ids, addresses, key names, versions.
    expect(scanner.scan(JSON.stringify(m.wallets))).toEqual([]);
  });

  for (const login of Object.keys(ROLE_ACCOUNTS) as DemoLogin[]) {
    const role = ROLE_ACCOUNTS[login];
    test(`as ${login} (${role}): no page, payload, API answer or export carries share material`, async ({ browser, baseURL }) => {
      test.setTimeout(10 * 60_000);
      const m = manifest();
      const origin = new URL(baseURL!).origin;
      const context = await browser.newContext({
        baseURL,
        storageState: existsSync(storageStatePath(login)) ? storageStatePath(login) : undefined,
      });
      try {
        await ensureSignedIn(context, login);
        const inspector = new Inspector(login, new LeakScanner(m.secrets), m.wallets);
        const values = markerValues(m);
        const forceValues = [...values.walletIds, ...values.addresses, ...values.shareIds];
        const searchValues = [m.wallets[0]!.accountAddress, m.wallets[1]!.walletId];

        const first = await crawl({
          request: context.request,
          baseURL: origin,
          seeds: seedUrls(m),
          forceValues,
          searchValues,
          maxUrls: MAX_URLS_PER_LOGIN,
          onBody: (b) => inspector.inspect(b),
        });

        // Route handlers (exports, JSON lists) again with every query string the pages used.
        const queries = [...new Set(first.fetched.map((u) => new URL(u, origin).search).filter((q) => q.length > 1))].slice(0, 25);
        const apiRoutes = discoverRoutes().filter((r) => r.kind === "api" && !r.pattern.startsWith("/api/auth/"));
        const apiUrls = apiRoutes.flatMap((r) => expandRoute(r, values).slice(0, 4)).flatMap((u) => queries.map((q) => `${u}${q}`));
        const second = await crawl({
          request: context.request,
          baseURL: origin,
          seeds: apiUrls,
          forceValues,
          searchValues,
          maxUrls: apiUrls.length,
          onBody: (b) => inspector.inspect(b),
        });

        const shown = await browsePages(context, first.pages.slice(0, BROWSER_PAGES_PER_LOGIN), inspector, origin);

        const summary =
          `${login}: ${first.fetched.length + second.fetched.length} URLs, ${first.pages.length} pages, ${shown} shown in the browser, ` +
          `${inspector.bodies} bodies (${[...inspector.variants].map(([k, v]) => `${k}=${v}`).join(" ")}), ${first.capped} capped, ` +
          `${first.errors.length + second.errors.length} errors` +
          (inspector.serverErrors.size > 0 ? `\n  server errors: ${[...inspector.serverErrors].slice(0, 10).join(", ")}` : "") +
          `\n  markers seen: ${m.wallets.map((w, i) => `#${i + 1} ${inspector.seen.get(w.walletId)?.size ?? 0} bodies`).join(", ")}`;
        console.log(summary);
        test.info().annotations.push({ type: "crawl", description: summary });

        expect(inspector.leaks, describeLeaks(inspector.leaks)).toEqual([]);
        expect(first.pages.length, `pages crawled as ${login}: ${first.pages.join(" ")}`).toBeGreaterThanOrEqual(MIN_PAGES_PER_LOGIN);
        expect(inspector.has("rsc"), "RSC payloads were fetched").toBe(true);
        expect(inspector.has("json"), "JSON route handlers were fetched").toBe(true);
        expect(shown).toBeGreaterThanOrEqual(Math.min(MIN_PAGES_PER_LOGIN, first.pages.length));
        if (can(role, "inventory:read")) {
          const unseen = m.wallets.filter((w) => !inspector.seen.has(w.walletId)).map((w) => `${w.walletId} ${w.accountAddress}`);
          expect(unseen, "marker wallets never shown in any inventory or detail page (were they seeded?)").toEqual([]);
        }
      } finally {
        await context.close();
      }
    });
  }

  test("anonymous: the sign-in flow and public routes carry no share material", async ({ browser, baseURL }) => {
    test.setTimeout(5 * 60_000);
    const m = manifest();
    const origin = new URL(baseURL!).origin;
    const context = await browser.newContext({ baseURL });
    try {
      const inspector = new Inspector("anonymous", new LeakScanner(m.secrets), m.wallets);
      const values = markerValues(m);
      const result = await crawl({
        request: context.request,
        baseURL: origin,
        seeds: ["/login", ...seedUrls(m)],
        forceValues: [...values.walletIds, ...values.addresses],
        searchValues: [m.wallets[0]!.accountAddress],
        maxUrls: 120,
        onBody: (b) => inspector.inspect(b),
      });
      expect(inspector.leaks, describeLeaks(inspector.leaks)).toEqual([]);
      expect(result.fetched.length).toBeGreaterThan(3);
      expect([...inspector.seen.keys()], "an anonymous visitor saw marker wallets").toEqual([]);
    } finally {
      await context.close();
    }
  });

  // Last in the file: by now every login's crawl has been logged.
  test("the server log carries no share material", async () => {
    const m = manifest();
    expect(existsSync(LOG_FILE), `${LOG_FILE} missing: was the console started with KEYSHARE_LOG_FILE?`).toBe(true);
    expect(statSync(LOG_FILE).size).toBeGreaterThan(0);
    const log = readFileSync(LOG_FILE, "utf8");
    const findings = new LeakScanner(m.secrets).scan(log);
    const leaks = findings.map((finding) => ({ who: "server", url: LOG_FILE, variant: "log", status: 0, finding }));
    expect(leaks, describeLeaks(leaks)).toEqual([]);
  });
});
