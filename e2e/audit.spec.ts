import { expect, test, type Page } from "@playwright/test";
import { storageStatePath, waitForHydration } from "./fixtures/auth";

/**
 * The Audit page against the embedded console: the trail already holds the demo seed, every sign-in of the
 * setup project and the refusals below. Viewer first (its refusals are then looked up as the auditor).
 */

const AUTH_ACTIONS = /^(auth|access|session)\./;

async function rowIds(page: Page): Promise<string[]> {
  return page.getByTestId("audit-row").evaluateAll((els) => els.map((e) => e.getAttribute("data-event-id") ?? ""));
}

test.describe("as viewer", () => {
  test.use({ storageState: storageStatePath("viewer") });

  test("the audit pages and the export are refused, and a wallet's detail shows no audit events", async ({ page }) => {
    await page.goto("/audit");
    await expect(page.getByTestId("forbidden")).toBeVisible();
    await expect(page.getByTestId("audit-table")).toHaveCount(0);
    await page.goto("/audit/1");
    await expect(page.getByTestId("forbidden")).toBeVisible();
    await expect(page.getByTestId("audit-event")).toHaveCount(0);
    for (const format of ["csv", "jsonl"]) {
      const res = await page.request.get(`/api/audit/export?format=${format}`);
      expect(res.status()).toBe(403);
      expect(res.headers()["content-type"]).toContain("application/json");
      expect(await res.text()).not.toContain("auth.login");
    }

    await page.goto("/wallets");
    const link = page.getByTestId("wallet-row").first().getByTestId("wallet-link");
    const walletId = await page.getByTestId("wallet-row").first().getAttribute("data-wallet-id");
    await link.click();
    await expect(page.getByTestId("wallet-detail")).toBeVisible();
    await expect(page.getByTestId("wallet-audit-card")).toHaveCount(0);
    await expect(page.getByTestId("wallet-audit-link")).toHaveCount(0);
    const api = await page.request.get(`/api/wallets/${encodeURIComponent(walletId!)}`);
    expect(api.status()).toBe(200);
    expect(((await api.json()) as { auditEvents: unknown }).auditEvents).toBeNull();
  });
});

test.describe("as auditor", () => {
  test.use({ storageState: storageStatePath("auditor") });

  test("filters by group, pages older and newer by cursor, opens an event", async ({ page }) => {
    await page.goto("/audit");
    await waitForHydration(page);
    await expect(page.getByTestId("audit-row").first()).toBeVisible();

    // Filters go into the URL (shareable) and narrow the table.
    await page.getByTestId("audit-filter-group").selectOption("auth");
    await page.getByTestId("audit-filter-limit").selectOption("25");
    await page.getByTestId("audit-apply").click();
    await expect(page).toHaveURL(/[?&]group=auth/);
    await expect(page).toHaveURL(/[?&]limit=25/);
    const actions = await page.getByTestId("audit-row").evaluateAll((els) => els.map((e) => e.getAttribute("data-action") ?? ""));
    expect(actions.length).toBeGreaterThan(0);
    for (const a of actions) expect(a).toMatch(AUTH_ACTIONS);

    // Small pages: older by cursor, then back to newer.
    await page.goto("/audit?group=auth&limit=2");
    const first = await rowIds(page);
    expect(first).toHaveLength(2);
    await expect(page.getByTestId("audit-prev")).toHaveCount(0);
    await page.getByTestId("audit-next").click();
    await expect(page).toHaveURL(/[?&]cursor=/);
    await expect(page).toHaveURL(/[?&]group=auth/);
    await expect(page.getByTestId("audit-page-info")).toContainText("continued");
    const second = await rowIds(page);
    expect(second.length).toBeGreaterThan(0);
    expect(second.filter((id) => first.includes(id))).toEqual([]);
    expect(Math.max(...second.map(Number))).toBeLessThan(Math.min(...first.map(Number)));
    await page.getByTestId("audit-prev").click();
    await expect(page.getByTestId("audit-row").first()).toHaveAttribute("data-event-id", first[0]!);
    expect(await rowIds(page)).toEqual(first);

    // An event page: what happened, redacted details, chain position, honest verification state.
    await page.getByTestId("audit-event-link").first().click();
    await expect(page).toHaveURL(new RegExp(`/audit/${first[0]}$`));
    await expect(page.getByTestId("audit-event-action")).toContainText(AUTH_ACTIONS);
    await expect(page.getByTestId("audit-event-hash")).toContainText(/[0-9a-f]{64}/);
    await expect(page.getByTestId("audit-event-prev-hash")).toContainText(/[0-9a-f]{64}/);
    await expect(page.getByTestId("audit-event-details")).toBeVisible();
    await expect(page.getByTestId("audit-event-verification")).toContainText("Not verified yet");

    // Reading the trail is in the trail: the view just made, and the searches, once per request.
    await page.goto(`/audit?action=audit.view&targetType=audit_event&targetId=${first[0]}`);
    await expect(page.getByTestId("audit-row")).toHaveCount(1);
    await expect(page.getByTestId("audit-row").first()).toContainText("auditor@keyshare.example");
    await page.goto("/audit?action=audit.search&limit=200");
    await expect(page.getByTestId("audit-row").first()).toBeVisible();
  });

  test("exports the filtered trail as CSV and JSONL, audited", async ({ page }) => {
    await page.goto("/audit?group=auth");
    await waitForHydration(page);
    const csvHref = await page.getByTestId("audit-export-csv").getAttribute("href");
    expect(csvHref).toBe("/api/audit/export?format=csv&group=auth");
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("audit-export-csv").click()]);
    expect(download.suggestedFilename()).toMatch(/^audit-.*\.csv$/);

    const csv = await page.request.get("/api/audit/export?format=csv&group=auth");
    expect(csv.status()).toBe(200);
    expect(csv.headers()["content-type"]).toContain("text/csv");
    const lines = (await csv.text()).trimEnd().split("\r\n");
    expect(lines[0]).toBe("id,seq,occurred_at,actor_type,actor_user_id,actor_email,actor_role,actor_ip,actor_user_agent,action,target_type,target_id,outcome,reason,request_id,vault_request_id,details,prev_hash,hash");
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.join("\n")).not.toMatch(/vault:v\d+:/);

    const jsonl = await page.request.get("/api/audit/export?format=jsonl&group=auth");
    expect(jsonl.status()).toBe(200);
    expect(jsonl.headers()["content-type"]).toContain("application/x-ndjson");
    const events = (await jsonl.text())
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { id: string; seq: number; action: string; hash: string; details: unknown });
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) {
      expect(e.action).toMatch(AUTH_ACTIONS);
      expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(typeof e.details).toBe("object");
    }
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    // The CSV and the JSONL name the same events (the JSONL may hold refusals recorded in between: none here).
    expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(events.map((e) => e.id));

    // Each export is recorded, with its format and filters.
    await page.goto("/audit?action=audit.export&limit=5");
    await expect(page.getByTestId("audit-row").first()).toBeVisible();
    const exported = await page.request.get("/api/audit/export?format=jsonl&action=audit.export");
    const recorded = (await exported.text())
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { details: { format?: string; filters?: Record<string, string> } });
    expect(recorded.some((r) => r.details.format === "jsonl" && r.details.filters?.group === "auth")).toBe(true);
    expect(recorded.some((r) => r.details.format === "csv" && r.details.filters?.group === "auth")).toBe(true);
  });

  test("the viewer's refusals are in the trail", async ({ page }) => {
    const res = await page.request.get("/api/audit/export?format=jsonl&action=access.denied&targetType=audit_trail");
    expect(res.status()).toBe(200);
    const denials = (await res.text())
      .trimEnd()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { actor_role: string; outcome: string; details: { permission?: string } });
    expect(denials.some((d) => d.actor_role === "viewer" && d.outcome === "denied" && d.details.permission === "audit:export")).toBe(true);
    await page.goto("/audit?action=access.denied&actor=viewer%40keyshare.example");
    await expect(page.getByTestId("audit-row").first()).toBeVisible();
  });

  test("bad input gets a clear message in the page and 400 from the export, never a 500", async ({ page }) => {
    for (const qs of [
      "cursor=forged.AAAAAAAAAAAAAAAAAAAAAA",
      "from=2026-03-01&to=2026-01-01",
      "from=2001-01-01&to=2026-01-01",
      "from=yesterday",
      "group=everything",
      "outcome=maybe",
      "targetId=w-1",
      "action=%27%20or%201%3D1",
    ]) {
      const res = await page.goto(`/audit?${qs}`);
      expect(res?.status(), qs).toBeLessThan(500);
      await expect(page.getByTestId("audit-error"), qs).toBeVisible();
    }
    // A cursor from another search is refused too.
    await page.goto("/audit?group=auth&limit=1");
    const next = await page.getByTestId("audit-next").getAttribute("href");
    const cursor = new URL(next!, "http://x").searchParams.get("cursor")!;
    await page.goto(`/audit?group=keys&limit=1&cursor=${encodeURIComponent(cursor)}`);
    await expect(page.getByTestId("audit-error")).toContainText("another search");

    for (const qs of ["format=xml", "format=csv&from=2026-03-01&to=2026-01-01", "format=jsonl&group=everything"]) {
      const res = await page.request.get(`/api/audit/export?${qs}`);
      expect(res.status(), qs).toBe(400);
      expect(((await res.json()) as { error: string }).error.length).toBeGreaterThan(5);
    }
    for (const id of ["0", "abc", "999999999"]) {
      const res = await page.goto(`/audit/${id}`);
      expect(res?.status(), id).toBeLessThan(500);
      await expect(page.getByTestId("audit-event-not-found"), id).toBeVisible();
    }
  });

  test("wallet and key pages link to their events", async ({ page }) => {
    await page.goto("/wallets");
    const walletId = await page.getByTestId("wallet-row").first().getAttribute("data-wallet-id");
    await page.getByTestId("wallet-row").first().getByTestId("wallet-link").click();
    await expect(page.getByTestId("wallet-audit-card")).toBeVisible();
    await page.getByTestId("wallet-audit-link").click();
    await expect(page).toHaveURL(/\/audit\?targetType=wallet&targetId=/);
    await expect(page.getByTestId("audit-error")).toHaveCount(0);
    expect(new URL(page.url()).searchParams.get("targetId")).toBe(walletId);

    await page.goto("/keys");
    await page.locator("a[href^='/keys/']").first().click();
    await expect(page.getByTestId("key-audit-link")).toHaveAttribute("href", /^\/audit\?targetType=transit_key&targetId=/);
  });
});
