import { expect, test } from "@playwright/test";

const ROLES = ["admin", "officer", "operator", "auditor", "viewer"] as const;

for (const role of ROLES) {
  test.describe(`as ${role}`, () => {
    test.use({ storageState: `e2e/.auth/${role}.json` });

    test("sees the Overview with real figures and the DEV MODE banner", async ({ page }) => {
      await page.goto("/");
      await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
      await expect(page.getByTestId("dev-mode-banner")).toBeVisible();
      await expect(page.getByTestId("user-role")).toHaveText(role);
      for (const id of ["figure-wallets", "figure-share-records", "figure-transit-keys"]) {
        const text = (await page.getByTestId(id).textContent()) ?? "";
        expect(Number(text.replace(/,/g, "")), `${id} = "${text}"`).toBeGreaterThan(0);
      }
      const behind = (await page.getByTestId("figure-behind-latest").textContent()) ?? "";
      expect(Number(behind.replace(/,/g, ""))).toBeGreaterThanOrEqual(0);
    });
  });
}

test("health reports every component up", async ({ request }) => {
  const res = await request.get("/api/health");
  expect(res.status()).toBe(200);
  expect(await res.json()).toEqual({ status: "ok", db: "ok", vault: "ok", idp: "ok" });
});

test("security headers are on every page", async ({ request }) => {
  const res = await request.get("/login");
  const h = res.headers();
  expect(h["x-content-type-options"]).toBe("nosniff");
  expect(h["referrer-policy"]).toBe("no-referrer");
  expect(h["content-security-policy"]).toContain("frame-ancestors 'none'");
});

test.describe("anonymous", () => {
  test("is sent to sign in, and the overview API refuses", async ({ page, request }) => {
    await page.goto("/");
    await expect(page).toHaveURL(/\/login/);
    const res = await request.get("/api/overview");
    expect(res.status()).toBe(401);
  });
});
