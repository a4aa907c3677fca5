/**
 * CLI entry points run lib/ modules outside a React Server bundle, where the `server-only` package throws.
 * A CLI is server side by definition, so map that import to an empty module. Import this first, and load
 * lib/ modules with dynamic import() after it: static imports are resolved before any module body runs.
 */
import { register } from "node:module";

const SERVER_ONLY_HOOK = `export async function resolve(specifier, context, next) {
  return specifier === "server-only" ? { url: "data:text/javascript,", shortCircuit: true } : next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(SERVER_ONLY_HOOK)}`);
