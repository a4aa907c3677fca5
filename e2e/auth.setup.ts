import { expect, test as setup } from "@playwright/test";
import { ROLE_ACCOUNTS, signInViaIdp, storageStatePath, type DemoLogin } from "./fixtures/auth";

/**
 * Signs in once per demo account through the real IdP login form and saves the browser state
 * (e2e/.auth/<login>.json, git-ignored) for the specs: `test.use({ storageState: storageStatePath("viewer") })`.
 */
for (const login of Object.keys(ROLE_ACCOUNTS) as DemoLogin[]) {
  setup(`sign in as ${login}`, async ({ page }) => {
    await signInViaIdp(page, login);
    await expect(page).toHaveURL((url) => url.pathname === "/");
    await expect(page.getByTestId("user-role")).toHaveText(ROLE_ACCOUNTS[login]);
    await page.context().storageState({ path: storageStatePath(login) });
  });
}
