import { createWriteStream, mkdirSync } from "node:fs";
import path from "node:path";

/**
 * The console's stdout and stderr, appended to `file` (mode 0600) for e2e/leak.spec.ts, which scans it for
 * marker material after crawling. Returns the launcher's consoleOutput hook (lib/devstack/launcher.ts).
 */
export function captureServerLog(file: string): (chunk: Buffer) => void {
  // Usually inside DATA_DIR, which this may create before the launcher does: private like the launcher makes it.
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const out = createWriteStream(file, { flags: "a", mode: 0o600 });
  return (chunk) => void out.write(chunk);
}
