import { defineConfig, devices } from "@playwright/test";
import { E2E_FRESH_SIGN_IN_MAX_AGE_SECONDS } from "./e2e/support/fresh-sign-in";

/**
 * End-to-end tests drive the real console in embedded mode (`npm start`: PGlite, dev Transit server, demo
 * IdP) in Debian's Chromium. No test tool downloads a browser: CHROMIUM_PATH or /usr/bin/chromium is used,
 * and scripts/test.sh fails with one line when neither exists.
 */
const APP_PORT = Number(process.env.E2E_APP_PORT ?? 3100);
const IDP_PORT = Number(process.env.E2E_IDP_PORT ?? 3101);
const baseURL = `http://localhost:${APP_PORT}`;


export default defineConfig({
  testDir: "./e2e",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: process.env.CI ? [["list"]] : [["list"]],
  timeout: 60_000,
  expect: { timeout: 15_000 },
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [
    { name: "setup", testMatch: /.*\.setup\.ts/ },
    {
      name: "chromium",
      use: { ...devices["Desktop Chrome"], channel: undefined },
      dependencies: ["setup"],
    },
  ],
  webServer: {
    // The launcher `npm start` runs, plus the leak test's markers and server log (e2e/support/start-server.ts).
    command: "npx tsx e2e/support/start-server.ts",
    url: `${baseURL}/api/health`,
    timeout: 600_000,
    reuseExistingServer: !process.env.CI,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      PORT: String(APP_PORT),
      KEYSHARE_IDP_PORT: String(IDP_PORT),
      KEYSHARE_TRANSIT_PORT: "0",
      DATA_DIR: process.env.E2E_DATA_DIR ?? ".data-e2e",
      KEYSHARE_SEED_WALLETS: "300",
      DATABASE_URL: "",
      // e2e/leak.spec.ts: marker wallets with known share material, and the server log it scans.
      KEYSHARE_SEED_MARKERS: `${process.env.E2E_DATA_DIR ?? ".data-e2e"}/markers.json`,
      KEYSHARE_LOG_FILE: `${process.env.E2E_DATA_DIR ?? ".data-e2e"}/server.log`,
      FRESH_SIGN_IN_MAX_AGE_SECONDS: String(E2E_FRESH_SIGN_IN_MAX_AGE_SECONDS),
    },
  },
});
