import { existsSync, readFileSync } from "node:fs";
import { expect, test, type APIRequestContext, type Browser, type BrowserContext } from "@playwright/test";
import { DEMO_ACCOUNTS } from "../lib/devstack/idp/accounts";
import { signInViaIdp } from "./fixtures/auth";

/**
 * Server actions refuse requests that do not come from the console's own pages: a `null` Origin, a foreign
 * Origin, no Origin at all, and a cross-site Sec-Fetch-Site all get a plain 403 before any action code runs
 * (proxy.ts), while the console's own same-origin call still works.
 *
 * Every server action in the build (`.next/server/server-reference-manifest.json`) is tried, so a new action is
 * covered without editing this file. Each is posted, with a signed-in admin's cookie, to a page that hosts it,
 * carrying a victim session's id as its argument; afterwards the victim session and the admin's own session
 * (sign-out is an action too) must both still exist. Sessions are fresh sign-ins of this test, not the saved
 * storage states, so a regression here cannot end the sessions other specs use.
 */

const MANIFEST = ".next/server/server-reference-manifest.json";

interface ActionEntry {
  id: string;
  name: string;
  /** A page path that hosts the action. */
  path: string;
}

/** `app/(console)/settings/page` → `/settings`; dynamic segments get a placeholder. */
function workerPath(worker: string): string | null {
  if (!/^app\/.*\/?page$/.test(worker)) return null;
  const segments = worker
    .replace(/^app\/?/, "")
    .replace(/\/?page$/, "")
    .split("/")
    .filter((s) => s && !/^\(.*\)$/.test(s) && !s.startsWith("@"))
    .map((s) => (/^\[.*\]$/.test(s) ? "x" : s));
  return `/${segments.join("/")}`;
}

function serverActions(): ActionEntry[] {
  expect(existsSync(MANIFEST), `${MANIFEST} (the console is built before the specs run)`).toBe(true);
  const manifest = JSON.parse(readFileSync(MANIFEST, "utf8")) as Record<string, unknown>;
  const out: ActionEntry[] = [];
  for (const runtime of ["node", "edge"]) {
    const entries = (manifest[runtime] ?? {}) as Record<string, { workers?: Record<string, unknown>; exportedName?: string }>;
    for (const [id, entry] of Object.entries(entries)) {
      const paths = Object.keys(entry.workers ?? {})
        .map(workerPath)
        .filter((p): p is string => p !== null)
        .sort((a, b) => Number(a.includes("/x")) - Number(b.includes("/x")) || a.length - b.length);
      out.push({ id, name: entry.exportedName ?? "(unnamed)", path: paths[0] ?? "/" });
    }
  }
  return out;
}

async function signedInContext(browser: Browser, baseURL: string, login: string): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await signInViaIdp(page, login);
  await expect(page).toHaveURL((u) => u.pathname === "/");
  await page.close();
  return context;
}

/** Ids of the active sessions of `email`, as the admin's Settings page hands them to its client component. */
async function sessionIdsOf(admin: APIRequestContext, email: string): Promise<Set<string>> {
  // Next redirects an RSC request to the same URL with its cache-busting `_rsc` parameter: follow that.
  const res = await admin.get("/settings", { headers: { RSC: "1" } });
  expect(res.status(), "the admin's Settings page").toBe(200);
  expect(new URL(res.url()).pathname).toBe("/settings");
  const payload = await res.text();
  const ids = new Set<string>();
  const quoted = JSON.stringify(email);
  for (const m of payload.matchAll(/\{[^{}]*"userEmail":("[^"]*")[^{}]*\}/g)) {
    if (m[1] !== quoted) continue;
    const row = JSON.parse(m[0]) as { id?: unknown };
    if (typeof row.id === "string") ids.add(row.id);
  }
  return ids;
}

async function stillSignedIn(context: BrowserContext): Promise<boolean> {
  const res = await context.request.get("/", { maxRedirects: 0 });
  return res.status() === 200;
}

test.describe("server actions refuse other origins", () => {
  test("null, foreign and missing Origin and cross-site fetches get 403 and change nothing; same-origin works", async ({ browser, baseURL }) => {
    const origin = new URL(baseURL!).origin;
    const actions = serverActions();
    const revoke = actions.find((a) => a.name === "revokeSessionAction");
    expect(revoke, `revokeSessionAction in ${MANIFEST} (found: ${actions.map((a) => a.name).join(", ")})`).toBeTruthy();
    expect(actions.length, "server actions in the build").toBeGreaterThanOrEqual(3);

    const victimEmail = DEMO_ACCOUNTS.find((a) => a.username === "officer2")!.email;
    const admin = await signedInContext(browser, baseURL!, "admin");
    const before = await sessionIdsOf(admin.request, victimEmail);
    const victim = await signedInContext(browser, baseURL!, "officer2");
    try {
      const victimIds = [...(await sessionIdsOf(admin.request, victimEmail))].filter((id) => !before.has(id));
      expect(victimIds, "the victim's new session is listed").toHaveLength(1);
      const victimId = victimIds[0]!;
      const args = JSON.stringify([{ sessionId: victimId }]);

      const cases: [string, Record<string, string>][] = [
        ["Origin: null", { Origin: "null" }],
        ["foreign Origin", { Origin: "https://evil.example" }],
        ["foreign Origin on another port of this host", { Origin: origin.replace(/:\d+$/, "") + ":1" }],
        ["no Origin", {}],
        ["cross-site Sec-Fetch-Site", { Origin: origin, "Sec-Fetch-Site": "cross-site" }],
      ];
      const unexpected: string[] = [];
      for (const action of actions) {
        for (const [label, headers] of cases) {
          const res = await admin.request.post(action.path, {
            headers: { "Next-Action": action.id, "Content-Type": "text/plain;charset=UTF-8", Accept: "text/x-component", ...headers },
            data: args,
            maxRedirects: 0,
          });
          const body = await res.text();
          if (res.status() !== 403 || !/^Forbidden/.test(body) || !(res.headers()["content-type"] ?? "").startsWith("text/plain"))
            unexpected.push(`${action.name} at ${action.path}, ${label}: ${res.status()} ${body.slice(0, 80)}`);
        }
        // A form post without JavaScript carries the action id in the body and no Next-Action header.
        const form = await admin.request.post(action.path, {
          headers: { Origin: "https://evil.example" },
          multipart: { [`$ACTION_ID_${action.id}`]: "", sessionId: victimId },
          maxRedirects: 0,
        });
        if (form.status() !== 403) unexpected.push(`${action.name} at ${action.path}, foreign form post: ${form.status()}`);
      }
      expect(unexpected, unexpected.join("\n")).toEqual([]);

      // Nothing changed: the victim's session and the admin's own session both still exist.
      expect(await sessionIdsOf(admin.request, victimEmail)).toContain(victimId);
      expect(await stillSignedIn(victim), "the victim is still signed in").toBe(true);
      expect(await stillSignedIn(admin), "the admin is still signed in").toBe(true);

      // The console's own call, same origin: it works.
      const ok = await admin.request.post(revoke!.path, {
        headers: { "Next-Action": revoke!.id, "Content-Type": "text/plain;charset=UTF-8", Accept: "text/x-component", Origin: origin, "Sec-Fetch-Site": "same-origin" },
        data: args,
        maxRedirects: 0,
      });
      expect(ok.status()).toBe(200);
      expect(await ok.text()).toContain('"ok":true');
      expect(await sessionIdsOf(admin.request, victimEmail)).not.toContain(victimId);
      expect(await stillSignedIn(victim), "the victim's session was revoked").toBe(false);
    } finally {
      await victim.close();
      await admin.close();
    }
  });
});
