import { expect, test, type APIRequestContext, type APIResponse } from "@playwright/test";
import { ROLE_ACCOUNTS, storageStatePath, type DemoLogin } from "./fixtures/auth";
import { discoverRoutes, expandRoute, type MarkerValues } from "./support/routes";

/**
 * Security headers on every page and route handler of the running console, anonymous and as every demo login:
 * - a Content-Security-Policy on every response; on pages a fresh nonce per response, carried by every script
 *   and style element the page ships, and no 'unsafe-inline' for scripts; frame-ancestors 'none' everywhere;
 * - X-Content-Type-Options: nosniff and a Referrer-Policy that sends no path to other sites;
 * - no Strict-Transport-Security: this console is plain http on loopback (the embedded launcher), and a
 *   client's X-Forwarded-Proto does not change that. HSTS for an https AUTH_URL is checked in
 *   lib/http/proxy.test.ts, which can give the proxy a production configuration.
 * Pages and route handlers are discovered from app/ (e2e/support/routes.ts), so a new one is covered.
 * In a real browser, no page may report a CSP violation (the policy must not break the console either).
 */

const SAFE_REFERRER_POLICIES = new Set(["no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"]);

interface Directives {
  get(name: string): string[] | undefined;
}

function parseCsp(csp: string): Directives {
  const map = new Map<string, string[]>();
  for (const part of csp.split(";")) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name && !map.has(name.toLowerCase())) map.set(name.toLowerCase(), values);
  }
  return map;
}

/** The sources scripts fall under: script-src-elem, else script-src, else default-src. */
function scriptSources(d: Directives): string[] {
  return d.get("script-src-elem") ?? d.get("script-src") ?? d.get("default-src") ?? [];
}

interface Checked {
  url: string;
  status: number;
  nonce: string | null;
}

/** Checks the headers every response must carry; returns the page nonce, if any. */
function checkHeaders(url: string, res: APIResponse, problems: string[]): Checked {
  const h = res.headers();
  const where = `${res.status()} ${url}`;
  const csp = h["content-security-policy"];
  let nonce: string | null = null;
  if (!csp) problems.push(`${where}: no Content-Security-Policy`);
  else {
    const d = parseCsp(csp);
    if (d.get("frame-ancestors")?.join(" ") !== "'none'") problems.push(`${where}: frame-ancestors is not 'none' (${csp})`);
    const scripts = scriptSources(d);
    if (scripts.includes("'unsafe-inline'")) problems.push(`${where}: scripts allow 'unsafe-inline'`);
    if ((d.get("script-src-attr") ?? []).includes("'unsafe-inline'")) problems.push(`${where}: script attributes allow 'unsafe-inline'`);
    if (scripts.includes("'unsafe-eval'")) problems.push(`${where}: scripts allow 'unsafe-eval' in a production build`);
    if (scripts.includes("*") || scripts.some((s) => /^(https?|data|blob):$/.test(s))) problems.push(`${where}: scripts from anywhere (${scripts.join(" ")})`);
    nonce = /'nonce-([^']+)'/.exec(scripts.join(" "))?.[1] ?? null;
  }
  if (h["x-content-type-options"]?.toLowerCase() !== "nosniff") problems.push(`${where}: X-Content-Type-Options is ${h["x-content-type-options"] ?? "missing"}`);
  const referrer = h["referrer-policy"]?.split(",").pop()?.trim().toLowerCase();
  if (!referrer || !SAFE_REFERRER_POLICIES.has(referrer)) problems.push(`${where}: Referrer-Policy is ${h["referrer-policy"] ?? "missing"}`);
  if (h["strict-transport-security"]) problems.push(`${where}: HSTS on plain-http loopback (${h["strict-transport-security"]})`);
  return { url, status: res.status(), nonce };
}

/**
 * Every <script> and <style> element in the HTML must carry this response's nonce: with 'strict-dynamic' and no
 * 'unsafe-inline', the browser runs or applies nothing else (a missing nonce is a broken page, not a weaker one).
 */
function checkElementNonces(url: string, html: string, nonce: string | null, problems: string[]): number {
  const tags = html.match(/<(script|style)\b[^>]*>/gi) ?? [];
  if (tags.length > 0 && !nonce) problems.push(`${url}: ${tags.length} script/style element(s) but no nonce in the policy`);
  for (const tag of tags) {
    const n = /\snonce="([^"]*)"/i.exec(tag)?.[1];
    if (n !== nonce) problems.push(`${url}: element without this response's nonce: ${tag.slice(0, 120)}`);
  }
  return tags.filter((t) => /^<script/i.test(t)).length;
}

/** Identifiers for the dynamic pages, from the links the list pages show (a wrong or missing one is a 404, still checked). */
async function identifiers(request: APIRequestContext): Promise<MarkerValues> {
  const take = async (path: string, re: RegExp) => {
    const html = await (await request.get(path)).text();
    return [...new Set([...html.matchAll(re)].map((m) => decodeURIComponent(m[1]!)))].slice(0, 2);
  };
  const walletIds = await take("/wallets", /href="\/wallets\/([^"?/#]+)"/g);
  const keyNames = await take("/keys", /href="\/keys\/([^"?/#]+)"/g);
  const fallback = "00000000-0000-4000-8000-000000000000";
  return {
    walletIds: walletIds.length ? walletIds : [fallback],
    addresses: [],
    shareIds: [fallback],
    keyNames: keyNames.length ? keyNames : ["no-such-key"],
    keyVersions: [1],
  };
}

function urlsToCheck(ids: MarkerValues): { pages: string[]; routes: string[] } {
  const pages = new Set<string>(["/", "/no-such-page"]);
  const routes = new Set<string>();
  for (const r of discoverRoutes()) {
    for (const u of expandRoute(r, ids, 2)) (r.kind === "page" ? pages : routes).add(u);
  }
  return { pages: [...pages], routes: [...routes] };
}

const LOGINS: (DemoLogin | "anonymous")[] = ["anonymous", ...(Object.keys(ROLE_ACCOUNTS) as DemoLogin[])];

test.describe("security headers on every page and route handler", () => {
  for (const login of LOGINS) {
    test(`as ${login}`, async ({ playwright, baseURL }) => {
      const request = await playwright.request.newContext({
        baseURL,
        ...(login === "anonymous" ? {} : { storageState: storageStatePath(login) }),
      });
      try {
        const ids = await identifiers(request);
        const { pages, routes } = urlsToCheck(ids);
        expect(pages.length, "pages discovered from app/").toBeGreaterThanOrEqual(8);
        expect(routes.length, "route handlers discovered from app/").toBeGreaterThanOrEqual(5);
        const problems: string[] = [];
        let scripts = 0;
        let htmlPages = 0;

        for (const url of pages) {
          // The response as served (a redirect to /login for an anonymous visitor is a response too).
          const first = await request.get(url, { maxRedirects: 0 });
          const a = checkHeaders(url, first, problems);
          const rsc = await request.get(url, { maxRedirects: 0, headers: { RSC: "1" } });
          checkHeaders(`${url} (RSC)`, rsc, problems);
          if (!(first.headers()["content-type"] ?? "").includes("text/html")) continue;
          htmlPages++;
          scripts += checkElementNonces(url, await first.text(), a.nonce, problems);
          // A fresh nonce per response: the same page again never repeats it.
          const again = checkHeaders(url, await request.get(url, { maxRedirects: 0 }), problems);
          if (a.nonce && a.nonce === again.nonce) problems.push(`${url}: the nonce repeated across responses (${a.nonce})`);
        }
        for (const url of routes) {
          checkHeaders(url, await request.get(url, { maxRedirects: 0 }), problems);
        }
        // A client claiming https through X-Forwarded-Proto is not a TLS connection: still no HSTS.
        for (const url of ["/", "/login", "/api/health"]) {
          checkHeaders(`${url} (X-Forwarded-Proto: https)`, await request.get(url, { maxRedirects: 0, headers: { "X-Forwarded-Proto": "https" } }), problems);
        }
        // The static files the pages load carry the static headers too.
        const html = await (await request.get("/login")).text();
        const asset = /<script[^>]+src="(\/_next\/static\/[^"]+\.js)"/.exec(html)?.[1];
        expect(asset, "a script file on /login").toBeTruthy();
        const assetRes = await request.get(asset!);
        expect(assetRes.headers()["x-content-type-options"]).toBe("nosniff");

        expect(htmlPages, "HTML pages answered").toBeGreaterThanOrEqual(login === "anonymous" ? 3 : 6);
        expect(scripts, "scripts checked for the nonce").toBeGreaterThan(0);
        expect(problems, problems.slice(0, 30).join("\n")).toEqual([]);
      } finally {
        await request.dispose();
      }
    });
  }

  test("the browser reports no CSP violation on any page", async ({ browser, baseURL }) => {
    const context = await browser.newContext({ baseURL, storageState: storageStatePath("admin") });
    try {
      await context.addInitScript(() => {
        const seen: string[] = [];
        (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
        document.addEventListener("securitypolicyviolation", (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
      });
      const page = await context.newPage();
      const ids = await identifiers(context.request);
      const { pages } = urlsToCheck(ids);
      const violations: string[] = [];
      for (const url of pages) {
        await page.goto(url, { waitUntil: "load" });
        await page.waitForLoadState("networkidle", { timeout: 4_000 }).catch(() => undefined);
        const found = await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
        violations.push(...found.map((v) => `${url}: ${v}`));
      }
      // The console is still interactive under the policy: React hydrated.
      await page.goto("/");
      await expect(page.locator("html[data-hydrated='true']")).toHaveCount(1);
      expect(violations).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
