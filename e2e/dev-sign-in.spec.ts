import { expect, test } from "@playwright/test";
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from "../lib/devstack/idp/accounts";

/**
 * The embedded console lists the demo IdP's accounts on its sign-in page. Production code does not import the
 * dev stack: the launcher writes them into DATA_DIR (lib/devstack/launcher.ts → app/login/dev-sign-in.ts).
 */
test("the sign-in page lists the demo accounts and their password in DEV MODE", async ({ page }) => {
  await page.goto("/login");
  const card = page.getByTestId("demo-accounts");
  await expect(card).toBeVisible();
  await expect(card).toContainText(DEMO_PASSWORD);
  for (const a of DEMO_ACCOUNTS) await expect(card).toContainText(a.username);
});
