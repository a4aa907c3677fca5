/**
 * `npm run db:migrate`: applies drizzle/ to the configured database (DATABASE_URL, or PGlite under DATA_DIR).
 * With DATABASE_MIGRATION_URL it connects as that owner role instead, migrates, and then grants the runtime
 * role of DATABASE_URL its privileges (lib/db/roles.ts).
 * PGlite is single-process: do not run this while the console has the same data folder open.
 */
import "./lib/server-only-hook";


const { getConfig } = await import("../lib/config/env");
const { createDb, migrate } = await import("../lib/db");
const { grantRuntimePrivileges, roleOfUrl } = await import("../lib/db/roles");

const config = getConfig();
const cfg = config.database;
const ownerUrl = cfg.kind === "postgres" ? config.migrationDatabaseUrl : undefined;
const handle = await createDb(ownerUrl ? { kind: "postgres", url: ownerUrl, max: 1, applicationName: "keyshare-migrate" } : cfg);
try {
  const started = Date.now();
  const { applied } = await migrate(handle.db);
  const where = cfg.kind === "postgres" ? "PostgreSQL" : `PGlite (${cfg.dataDir})`;
  console.log(`${where}: ${applied} migration(s) applied in ${Date.now() - started} ms.`);
  if (ownerUrl && cfg.kind === "postgres") {
    const runtime = roleOfUrl(cfg.url);
    if (!runtime) throw new Error("DATABASE_URL names no user: the runtime role to grant privileges to is unknown");
    const { tables } = await grantRuntimePrivileges(handle.db, runtime);
    console.log(`Granted the runtime role ${runtime} its privileges on ${tables} table(s) (audit tables: SELECT, INSERT).`);
  }
} catch (err) {
  const { sanitizeDbError } = await import("../lib/db");
  console.error(`db:migrate failed: ${sanitizeDbError(err).message}`);
  process.exitCode = 1;
} finally {
  await handle.close();
}
