#!/usr/bin/env bash
# The whole test suite: unit and integration tests (Vitest: PGlite always, PostgreSQL too when DATABASE_URL
# is set, the dev Transit server in-process), then the browser tests (Playwright in Debian's Chromium against
# the console in embedded mode). Ends with one "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."

# A fresh machine: install Debian's chromium where we can (root with apt-get), say in one line where we cannot.
# A CHROMIUM_PATH set by the caller is used as given.
if [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "No Chromium found: installing Debian's chromium (apt-get)…" >&2
  apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 ||
    echo "apt-get could not install chromium." >&2
fi
CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium || true)}"
if [ -z "$CHROMIUM_PATH" ] || [ ! -x "$CHROMIUM_PATH" ]; then
  echo "No Chromium found: install Debian's package with 'apt-get install -y chromium' (as root) or set CHROMIUM_PATH." >&2
  exit 1
fi
export CHROMIUM_PATH

results=.test-results
rm -rf "$results" "${E2E_DATA_DIR:-.data-e2e}"
mkdir -p "$results"

npx vitest run --reporter=default --reporter=json --outputFile.json="$results/vitest.json"
unit=$?

PLAYWRIGHT_JSON_OUTPUT_NAME="$results/playwright.json" npx playwright test --reporter=list,json
e2e=$?

node -e '
const fs = require("fs");
const read = (f) => { try { return JSON.parse(fs.readFileSync(f, "utf8")); } catch { return null; } };
const v = read(process.argv[1]), p = read(process.argv[2]);
let passed = 0, failed = 0, skipped = 0;
if (v) { passed += v.numPassedTests; failed += v.numFailedTests; skipped += v.numPendingTests + (v.numTodoTests || 0); }
if (p) { passed += p.stats.expected; failed += p.stats.unexpected + (p.stats.flaky || 0); skipped += p.stats.skipped; }
if (!v) failed += 1;
if (!p) failed += 1;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
' "$results/vitest.json" "$results/playwright.json"

[ "$unit" -eq 0 ] && [ "$e2e" -eq 0 ]
