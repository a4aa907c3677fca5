import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDb, rowsOf, type Db } from "@/lib/db/client";
import { launcherSettings, loadDevSecrets, parseLauncherArgs, prepareDatabase } from "./launcher";
import { startTransitServer } from "./transit/server";

describe("embedded launcher pieces", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "ks-launcher-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads the npm start flags, with KEYSHARE_SEED_WALLETS as the default wallet count", () => {
    expect(parseLauncherArgs([], {})).toEqual({ dev: false, rebuild: false, wallets: 2000 });
    expect(parseLauncherArgs(["--dev"], { KEYSHARE_SEED_WALLETS: "300" })).toEqual({ dev: true, rebuild: false, wallets: 300 });
    expect(parseLauncherArgs(["--rebuild", "--wallets", "12"], { KEYSHARE_SEED_WALLETS: "300" })).toEqual({ dev: false, rebuild: true, wallets: 12 });
    expect(() => parseLauncherArgs(["--seed-markers"], {})).toThrow();
  });

  it("resolves DATA_DIR and the ports from the environment", () => {
    const s = launcherSettings({ PORT: "3240", KEYSHARE_IDP_PORT: "3241", KEYSHARE_TRANSIT_PORT: "0", DATA_DIR: ".data-x" }, "/repo");
    expect(s).toEqual({ root: "/repo", dataDir: "/repo/.data-x", appPort: 3240, idpPort: 3241, transitPort: 0, appUrl: "http://localhost:3240", issuer: "http://localhost:3241" });
    expect(launcherSettings({}, "/repo")).toMatchObject({ dataDir: "/repo/.data", appPort: 3000, idpPort: 3001, transitPort: 8200 });
  });

  it("keeps the dev secrets private and reuses them on the next start", () => {
    const dataDir = path.join(dir, "secrets");
    const first = loadDevSecrets(dataDir);
    expect(statSync(path.join(dataDir, "dev-secrets.json")).mode & 0o777).toBe(0o600);
    expect(first.authSecret.length).toBeGreaterThanOrEqual(32);
    expect(loadDevSecrets(dataDir)).toEqual(first);
  });

  it("migrates and seeds an empty PGlite once, runs the hook on the open database, and closes it", async () => {
    const transit = await startTransitServer({ port: 0, quiet: true });
    const settings = launcherSettings({ DATA_DIR: path.join(dir, "data") }, dir);
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const count = async (db: Db) =>
      Number(rowsOf<{ n: string }>(await db.execute(sql`select count(*) as n from wallet_properties`))[0]!.n);
    try {
      const seen: number[] = [];
      const hook = async ({ db }: { db: Db }) => void seen.push(await count(db));
      await prepareDatabase(settings, transit, 25, hook);
      await prepareDatabase(settings, transit, 25, hook);
      expect(seen).toHaveLength(2);
      expect(seen[0]).toBeGreaterThan(0);
      expect(seen[1]).toBe(seen[0]);
      expect(log.mock.calls.filter(([line]) => String(line).startsWith("First start: creating demo data (25 wallets)"))).toHaveLength(1);

      // Closed after each run: the folder opens again, and holds what the hook saw.
      const handle = await createDb({ kind: "pglite", dataDir: path.join(settings.dataDir, "pglite") });
      try {
        expect(await count(handle.db)).toBe(seen[0]);
      } finally {
        await handle.close();
      }
    } finally {
      log.mockRestore();
      await transit.close();
    }
  }, 60_000);
});
