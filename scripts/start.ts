/**
 * `npm start` / `npm run dev` (`--dev`): the embedded mode (DESIGN §3) — the dev Transit server, the demo
 * OIDC identity provider, PGlite under DATA_DIR (migrated, seeded with demo data on first start) and the
 * console (`next start`, built first when the sources changed; `next dev` with --dev). Flags: --dev,
 * --rebuild, --wallets N. All of it is lib/devstack/launcher.ts; production runs `next start` instead, and
 * the launcher refuses NODE_ENV=production unless KEYSHARE_EMBEDDED=1 is set explicitly.
 *
 * The e2e web server (e2e/support/start-server.ts) runs the same launcher with the leak test's fixtures.
 */
import "./lib/server-only-hook";

const { parseLauncherArgs, runEmbeddedConsole } = await import("../lib/devstack/launcher");

await runEmbeddedConsole(parseLauncherArgs()).catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
