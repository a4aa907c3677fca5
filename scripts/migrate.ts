/**
 * `npm run db:migrate`: applies drizzle/ to the configured database (DATABASE_URL, or PGlite under DATA_DIR).
 * PGlite is single-process: do not run this while the console has the same data folder open.
 */
import "./lib/server-only-hook";


const { getConfig } = await import("../lib/config/env");
const { createDb, migrate } = await import("../lib/db");

const cfg = getConfig().database;
const handle = await createDb(cfg);
try {
  const started = Date.now();
  const { applied } = await migrate(handle.db);
  const where = cfg.kind === "postgres" ? "PostgreSQL" : `PGlite (${cfg.dataDir})`;
  console.log(`${where}: ${applied} migration(s) applied in ${Date.now() - started} ms.`);
} finally {
  await handle.close();
}
