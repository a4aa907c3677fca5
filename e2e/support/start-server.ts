/**
 * Playwright's web server (playwright.config.ts): the embedded console exactly as `npm start` runs it
 * (lib/devstack/launcher.ts, same flags), plus the fixtures e2e/leak.spec.ts needs, each when its variable is set:
 *
 *   KEYSHARE_SEED_MARKERS=<file>  marker wallets with known share material (./markers.ts), manifest to <file>;
 *   KEYSHARE_LOG_FILE=<file>      the console's stdout/stderr also appended to <file> (./server-log.ts).
 *
 * Test-only, so it lives here rather than in the launcher, and it refuses NODE_ENV=production outright.
 * Relative paths are taken from the repository root.
 */
import "../../scripts/lib/server-only-hook";
import path from "node:path";
import type { LauncherHooks } from "../../lib/devstack/launcher";

if (process.env.NODE_ENV === "production") {
  console.error("e2e/support/start-server.ts seeds leak-test markers and is never run with NODE_ENV=production.");
  process.exit(1);
}

const { REPO_ROOT, parseLauncherArgs, runEmbeddedConsole } = await import("../../lib/devstack/launcher");
const { ensureMarkerWallets } = await import("./markers");
const { captureServerLog } = await import("./server-log");

const hooks: LauncherHooks = {};
const markersFile = process.env.KEYSHARE_SEED_MARKERS;
if (markersFile) {
  const file = path.resolve(REPO_ROOT, markersFile);
  hooks.prepareDatabase = async ({ db, vault }) => {
    const { manifest, created } = await ensureMarkerWallets(db, vault, file);
    console.log(`Leak-test markers: ${manifest.wallets.length} wallets ${created ? "seeded" : "kept"} (${path.relative(REPO_ROOT, file)}).`);
  };
}
const logFile = process.env.KEYSHARE_LOG_FILE;
if (logFile) hooks.consoleOutput = captureServerLog(path.resolve(REPO_ROOT, logFile));

await runEmbeddedConsole(parseLauncherArgs(), hooks).catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
