import { expect, test } from "@playwright/test";
import { storageStatePath, waitForHydration } from "./fixtures/auth";

/**
 * Wallets inventory against the embedded console with demo data (lib/devstack/seed: five Transit keys, EVM/SVM/BTC/
 * SUI/TON wallets, both layouts, wallets without share records and records without WalletProperties).
 */

test.describe("as viewer", () => {
  test.use({ storageState: storageStatePath("viewer") });

  test("filter, paginate by keyset and open a wallet's detail", async ({ page }) => {
    await page.goto("/wallets");
    await waitForHydration(page);
    const rows = page.getByTestId("wallet-row");
    await expect(rows.first()).toBeVisible();

    // A filter control updates the URL (shareable) and the table.
    await page.getByTestId("filter-chain").selectOption("EVM");
    await expect(page).toHaveURL(/[?&]chain=EVM/);
    await page.getByTestId("filter-limit").selectOption("25");
    await expect(page).toHaveURL(/[?&]limit=25/);
    await expect(rows).toHaveCount(25);
    await expect(page.getByTestId("wallets-table")).not.toContainText("SVM");
    const firstPage = await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-wallet-id")));

    // Next page by cursor: new rows, same filters.
    await page.getByTestId("wallets-next").click();
    await expect(page).toHaveURL(/[?&]cursor=/);
    await expect(page).toHaveURL(/[?&]chain=EVM/);
    await expect(rows.first()).toBeVisible();
    const secondPage = await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-wallet-id")));
    expect(secondPage.filter((id) => firstPage.includes(id))).toEqual([]);
    await expect(page.getByTestId("wallets-first")).toBeVisible();

    // Detail page of a wallet on that page.
    const walletId = secondPage[0]!;
    await rows.first().getByTestId("wallet-link").click();
    await expect(page).toHaveURL(new RegExp(`/wallets/${walletId}$`));
    await expect(page.getByTestId("wallet-detail-id")).toHaveText(walletId);
    await expect(page.getByTestId("wallet-backup-status")).toBeVisible();
    await expect(page.getByTestId("wallet-properties")).toContainText("EVM");
    await expect(page.getByTestId("share-fingerprint").first()).toHaveText(/^[0-9a-f]{16}$/);
  });

  test("integrity flags: wallets without a share record are listed and explained", async ({ page }) => {
    await page.goto("/wallets?flag=no_share");
    const row = page.getByTestId("wallet-row").first();
    await expect(row.getByTestId("flag-noShare")).toBeVisible();
    await row.getByTestId("wallet-link").click();
    await expect(page.getByTestId("wallet-no-shares")).toBeVisible();
  });

  test("bad input gets a clear message, never a 500", async ({ page }) => {
    for (const qs of ["cursor=forged.AAAAAAAAAAAAAAAAAAAAAA", "layout=sideways", "q=%27%20or%201%3D1", "version=-3"]) {
      const res = await page.goto(`/wallets?${qs}`);
      expect(res?.status(), qs).toBeLessThan(500);
      await expect(page.getByTestId("wallets-error"), qs).toBeVisible();
    }
    const res = await page.goto("/wallets?limit=999999");
    expect(res?.status()).toBe(200);
    await expect(page.getByTestId("wallets-error")).toHaveCount(0);
    expect(await page.getByTestId("wallet-row").count()).toBeLessThanOrEqual(200);
    const api = await page.request.get("/api/wallets?cursor=nope.AAAAAAAAAAAAAAAAAAAAAA");
    expect(api.status()).toBe(400);
    const detail = await page.goto("/wallets/no-such-wallet");
    expect(detail?.status()).toBeLessThan(500);
    await expect(page.getByTestId("wallet-not-found")).toBeVisible();
  });

  test("the CSV export is refused", async ({ page }) => {
    await page.goto("/wallets");
    await expect(page.getByTestId("wallets-export")).toHaveCount(0);
    const res = await page.request.get("/api/wallets/export?chain=EVM");
    expect(res.status()).toBe(403);
    expect(res.headers()["content-type"]).toContain("application/json");
  });
});

test.describe("as auditor", () => {
  test.use({ storageState: storageStatePath("auditor") });

  test("downloads the CSV of the filtered view", async ({ page }) => {
    await page.goto("/wallets?chain=SVM");
    await waitForHydration(page);
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("wallets-export").click()]);
    expect(download.suggestedFilename()).toMatch(/^wallets-.*\.csv$/);
    const res = await page.request.get("/api/wallets/export?chain=SVM");
    expect(res.status()).toBe(200);
    expect(res.headers()["content-type"]).toContain("text/csv");
    const lines = (await res.text()).trim().split("\r\n");
    expect(lines[0]).toMatch(/^wallet_id,account_address,chain,/);
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines.slice(1)) expect(line.split(",")[2]).toBe("SVM");
    expect(lines.join("\n")).not.toMatch(/vault:v\d+:/);
  });
});
