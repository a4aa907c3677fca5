import { expect, test } from "@playwright/test";
import { openIdpLoginForm, signInViaIdp, storageStatePath, submitIdpLogin, waitForHydration } from "./fixtures/auth";

test.describe("sign-in", () => {
  test("a wrong password is refused at the IdP with an error and no console session", async ({ page }) => {
    await openIdpLoginForm(page);
    await submitIdpLogin(page, "viewer", "not-the-password");
    await expect(page.getByTestId("idp-error")).toHaveText("Invalid username or password.");
    await expect(page.getByTestId("idp-username")).toHaveValue("viewer");
    await page.goto("/");
    await expect(page).toHaveURL(/\/login/);
  });

  test("an unmapped user (nobody) gets the no-access page and no session", async ({ page }) => {
    await signInViaIdp(page, "nobody");
    await expect(page).toHaveURL(/\/no-access$/);
    await expect(page.getByTestId("no-access")).toBeVisible();
    await page.goto("/");
    await expect(page).toHaveURL(/\/login/);
    const res = await page.request.get("/api/overview");
    expect(res.status()).toBe(401);
  });

  test("cancelling at the IdP comes back to the sign-in page with an error", async ({ page }) => {
    await openIdpLoginForm(page);
    await page.getByTestId("idp-cancel").click();
    await expect(page).toHaveURL(/\/login\?.*error=/);
    await expect(page.getByTestId("login-error")).toBeVisible();
  });

  test("an anonymous deep link returns to that page after sign-in", async ({ page }) => {
    await page.goto("/settings");
    await expect(page).toHaveURL(/\/login\?callbackUrl=%2Fsettings/);
    await waitForHydration(page);
    await page.getByRole("button", { name: "Sign in with SSO" }).click();
    await submitIdpLogin(page, "admin", "demo-password");
    await expect(page).toHaveURL((url) => url.pathname === "/settings");
    await expect(page.getByTestId("settings-summary")).toBeVisible();
  });

  test("a forged session cookie is not a session", async ({ page, context, baseURL }) => {
    await context.addCookies([{ name: "authjs.session-token", value: "forged-" + "x".repeat(40), url: baseURL! }]);
    await page.goto("/");
    await expect(page).toHaveURL(/\/login/);
    const res = await page.request.get("/api/overview");
    expect(res.status()).toBe(401);
  });
});

test.describe("sign-out", () => {
  // Its own login: signing out deletes the session, so it must not use a shared storage state.
  test("ends the session here and at the IdP", async ({ page }) => {
    await signInViaIdp(page, "viewer");
    await expect(page.getByTestId("user-role")).toHaveText("viewer");
    await waitForHydration(page);
    const cookieBefore = (await page.context().cookies()).find((c) => c.name.endsWith("authjs.session-token"));
    expect(cookieBefore).toBeDefined();

    await page.getByTestId("user-menu").click();
    await page.getByTestId("sign-out").click();
    await expect(page).toHaveURL(/\/signed-out$/);

    await page.goto("/");
    await expect(page).toHaveURL(/\/login/);

    // The old cookie value is dead on the server even if replayed.
    await page.context().addCookies([{ ...cookieBefore! }]);
    const res = await page.request.get("/api/overview");
    expect(res.status()).toBe(401);

    // The IdP session ended too (its cookies are kept): signing in again asks for credentials.
    await page.context().clearCookies({ name: cookieBefore!.name });
    await openIdpLoginForm(page);
  });
});

test.describe("authorisation", () => {
  test.describe("viewer", () => {
    test.use({ storageState: storageStatePath("viewer") });
    test("is refused /settings with a forbidden message", async ({ page }) => {
      await page.goto("/settings");
      await expect(page.getByTestId("forbidden")).toBeVisible();
      await expect(page.getByTestId("settings-summary")).toHaveCount(0);
    });
  });

  test.describe("admin", () => {
    test.use({ storageState: storageStatePath("admin") });
    test("sees /settings", async ({ page }) => {
      await page.goto("/settings");
      await expect(page.getByTestId("settings-summary")).toBeVisible();
      await expect(page.getByTestId("forbidden")).toHaveCount(0);
    });
  });
});
