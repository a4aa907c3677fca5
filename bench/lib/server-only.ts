/**
 * Benchmarks run under plain Node (tsx), not inside a React Server Components bundle, where the real
 * `server-only` package throws on import. This resolve hook maps it to the package's own empty module,
 * exactly what Next does for server code. Call before dynamically importing anything under lib/.
 * (Scoped to the bench process; it changes nothing for the app or the tests.)
 */
import { createRequire, register } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

export function allowServerOnlyImports(): void {
  const require = createRequire(import.meta.url);
  // `exports` hides empty.js behind the react-server condition; locate it next to the package manifest.
  const empty = pathToFileURL(path.join(path.dirname(require.resolve("server-only")), "empty.js")).href;
  const hook = `export async function resolve(specifier, context, next) {
    if (specifier === "server-only") return { url: ${JSON.stringify(empty)}, shortCircuit: true };
    return next(specifier, context);
  }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
}
