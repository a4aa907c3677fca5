import { expect, test } from "@playwright/test";
import { storageStatePath, waitForHydration } from "./fixtures/auth";

/**
 * Keys pages and the Overview charts against the embedded console with demo data (DEMO_KEYS in lib/devstack/seed:
 * wallet-shares-prod has 4 versions, wallet-shares-shared is used by prod and staging records).
 */

const count = (text: string | null) => Number((text ?? "").replace(/[^0-9]/g, ""));

test.describe("as viewer", () => {
  test.use({ storageState: storageStatePath("viewer") });

  test("the keys list shows every key with its versions, ages and records", async ({ page }) => {
    await page.goto("/keys");
    await expect(page.getByRole("heading", { name: "Keys" })).toBeVisible();
    const prod = page.getByTestId("key-row-wallet-shares-prod");
    await expect(prod).toBeVisible();
    await expect(prod.getByTestId("key-version")).toHaveCount(4);
    await expect(prod.getByTestId("key-versions")).toContainText("v4 (latest)");
    await expect(prod.getByTestId("rotation-status")).toBeVisible();
    for (const name of ["wallet-shares-staging", "wallet-shares-dev", "wallet-shares-shared", "wallet-shares-derived"]) {
      await expect(page.getByTestId(`key-row-${name}`)).toBeVisible();
    }
    await expect(page.getByTestId("key-row-wallet-shares-shared").getByTestId("flag-multi-environment")).toBeVisible();
  });

  test("key detail shows records per version and links old versions to the filtered inventory", async ({ page }) => {
    await page.goto("/keys");
    await waitForHydration(page);
    await page.getByTestId("key-row-wallet-shares-prod").getByTestId("key-link").click();
    await expect(page).toHaveURL(/\/keys\/wallet-shares-prod$/);
    await expect(page.getByTestId("key-name")).toHaveText("wallet-shares-prod");
    await expect(page.getByTestId("key-latest-version")).toContainText("v4");

    const table = page.getByTestId("version-table");
    await expect(table.getByTestId("version-row-4")).toBeVisible();
    const perVersion = await table.getByTestId("version-records").allTextContents();
    expect(perVersion).toHaveLength(4);
    const total = count(await page.getByTestId("key-records").textContent());
    expect(total).toBeGreaterThan(0);
    expect(perVersion.reduce((s, t) => s + count(t), 0)).toBe(total);

    // Demo data leaves records on older versions: each links to exactly those wallets.
    const oldLinks = table.locator("tr:not([data-testid='version-row-4'])").getByTestId("version-inventory-link");
    expect(await oldLinks.count()).toBeGreaterThan(0);
    const href = await oldLinks.first().getAttribute("href");
    expect(href).toMatch(/^\/wallets\?key=wallet-shares-prod&version=[123]$/);
  });

  test("a bad or unknown key name gets a clear message, never a 500", async ({ page }) => {
    for (const path of ["/keys/no-such-key", "/keys/bad%20name", "/keys/-x-"]) {
      const res = await page.goto(path);
      expect(res?.status(), path).toBeLessThan(500);
      await expect(page.getByTestId("key-not-found")).toBeVisible();
    }
    const api = await page.request.get("/api/keys/bad%20name");
    expect(api.status()).toBe(404);
    expect(await api.json()).toEqual({ error: "That is not a valid Transit key name." });
    const list = await page.request.get("/api/keys");
    expect(list.status()).toBe(200);
    const body = (await list.json()) as { keys: { name: string }[]; vault: { available: boolean } };
    expect(body.vault.available).toBe(true);
    expect(body.keys.map((k) => k.name)).toContain("wallet-shares-prod");
  });

  test("the Overview renders the debt chart, rotation table and risk counters", async ({ page }) => {
    await page.goto("/");
    await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
    const chart = page.getByTestId("debt-chart");
    await expect(chart.locator("svg.recharts-surface").first()).toBeVisible();
    expect(await chart.locator(".recharts-bar-rectangle").count()).toBeGreaterThan(0);
    await expect(page.getByTestId("overview-key-wallet-shares-prod").getByTestId("rotation-status")).toBeVisible();
    await expect(page.getByTestId("multi-environment-keys")).toContainText("wallet-shares-shared");
    for (const id of ["figure-risk-missing-backup-info", "figure-risk-cannot-sign", "figure-risk-two-of-two", "figure-risk-orphan-shares"]) {
      expect(count(await page.getByTestId(id).textContent()), id).toBeGreaterThanOrEqual(0);
    }
    // The demo seeds wallets without backup info and share records without WalletProperties.
    expect(count(await page.getByTestId("figure-risk-missing-backup-info").textContent())).toBeGreaterThan(0);
  });
});

test.describe("anonymous", () => {
  test("the keys API refuses", async ({ request }) => {
    expect((await request.get("/api/keys")).status()).toBe(401);
    expect((await request.get("/api/keys/wallet-shares-prod")).status()).toBe(401);
  });
});
