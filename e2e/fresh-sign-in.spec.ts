import { expect, test, type Browser, type Page } from "@playwright/test";
import { DEMO_ACCOUNTS } from "../lib/devstack/idp/accounts";
import { signInViaIdp, submitIdpLogin, waitForHydration, DEMO_PASSWORD } from "./fixtures/auth";
import { E2E_FRESH_SIGN_IN_MAX_AGE_SECONDS } from "./support/fresh-sign-in";

/**
 * Fresh sign-in in a real browser: the console runs with FRESH_SIGN_IN_MAX_AGE_SECONDS short
 * (./support/fresh-sign-in.ts). An admin whose IdP sign-in has grown older than that tries to revoke a session:
 * the console sends them through the IdP, which shows the password form again although its own session is
 * alive (prompt=login), back to Settings; nothing was revoked on the way. The second click then works.
 * Sessions are fresh sign-ins of this test, so it never ends the saved sessions other specs use.
 */

const victimEmail = DEMO_ACCOUNTS.find((a) => a.username === "operator")!.email;

async function signedInPage(browser: Browser, baseURL: string, login: string): Promise<Page> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await signInViaIdp(page, login);
  await expect(page).toHaveURL((u) => u.pathname === "/");
  return page;
}

async function victimSessionIds(admin: Page): Promise<string[]> {
  await admin.goto("/settings");
  await expect(admin.getByTestId("active-sessions")).toBeVisible();
  return admin.locator(`[data-testid="session-row"][data-email="${victimEmail}"]`).evaluateAll((rows) => rows.map((r) => r.getAttribute("data-session-id")!));
}

test("a stale sign-in is sent through the IdP login before a session revoke, then the revoke works", async ({ browser, baseURL }) => {
  test.setTimeout(60_000 + E2E_FRESH_SIGN_IN_MAX_AGE_SECONDS * 1000);
  const admin = await signedInPage(browser, baseURL!, "admin");
  const signedInAt = Date.now();
  const before = new Set(await victimSessionIds(admin));
  const victim = await signedInPage(browser, baseURL!, "operator");
  try {
    const fresh = (await victimSessionIds(admin)).filter((id) => !before.has(id));
    expect(fresh, "the victim's new session is listed").toHaveLength(1);
    const victimId = fresh[0]!;

    // Let the admin's IdP sign-in grow older than the window.
    await admin.waitForTimeout(Math.max(0, signedInAt + (E2E_FRESH_SIGN_IN_MAX_AGE_SECONDS + 2) * 1000 - Date.now()));
    await admin.goto("/settings");
    await waitForHydration(admin);
    const row = admin.locator(`[data-testid="session-row"][data-session-id="${victimId}"]`);
    await row.getByTestId("revoke-session").click();

    // The IdP asks for the password again, inside its still-live session.
    await expect(admin.getByTestId("idp-password")).toBeVisible();
    const victimStillIn = await victim.context().request.get("/", { maxRedirects: 0 });
    expect(victimStillIn.status(), "nothing was revoked before the fresh sign-in").toBe(200);
    await submitIdpLogin(admin, "admin", DEMO_PASSWORD);

    await expect(admin).toHaveURL((u) => u.pathname === "/settings");
    await waitForHydration(admin);
    await expect(row).toBeVisible();
    await row.getByTestId("revoke-session").click();
    await expect(row).toHaveCount(0);
    await expect(admin.getByTestId("session-revoke-error")).toHaveCount(0);

    const victimAfter = await victim.context().request.get("/", { maxRedirects: 0 });
    expect(victimAfter.status(), "the victim's session was revoked").not.toBe(200);
    expect(await victimSessionIds(admin)).not.toContain(victimId);
  } finally {
    await victim.context().close();
    await admin.context().close();
  }
});
