import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * The dev stack (lib/devstack: dev Transit server, demo IdP, demo seeder, embedded launcher) and the e2e
 * support code (leak-test markers, server-log capture) never become part of what production runs. This walks
 * the import graph from everything production loads and fails naming each file that reaches into them.
 *
 * Edges: static `import`/`export … from`, `import x = require()`, `require()`, `import()` and `import("…")`
 * types — type-only imports count too (a production file that needs a dev type has a dev dependency). A
 * relative or `@/` specifier that resolves to no file fails the test, and so does an `import()` whose
 * argument is not a string literal: either would hide an edge from this walk.
 */

const ROOT = path.resolve(import.meta.dirname, "..");
const rel = (file: string) => path.relative(ROOT, file).split(path.sep).join("/");

/** What production may never reach. */
const FORBIDDEN = ["lib/devstack/", "e2e/"];

/** Everything production loads: the Next app and its config, and the operational scripts. */
const ENTRY_DIRS = ["app", "lib", "components"];
const ENTRY_FILES = ["proxy.ts", "instrumentation.ts", "next.config.js", "scripts/migrate.ts", "scripts/sync-redis.ts"];
const SOURCE = /\.(ts|tsx|js|mjs|cjs)$/;
const isTestFile = (file: string) => /\.test\.(ts|tsx)$/.test(file);

function listSources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listSources(full));
    else if (SOURCE.test(entry.name)) out.push(full);
  }
  return out;
}

function productionEntries(root = ROOT): string[] {
  const fromDirs = ENTRY_DIRS.flatMap((d) => listSources(path.join(root, d))).filter(
    (f) => !isTestFile(f) && !rel(f).startsWith("lib/devstack/"),
  );
  const files = ENTRY_FILES.map((f) => path.join(root, f)).filter((f) => existsSync(f));
  return [...fromDirs, ...files];
}

interface ModuleRef {
  specifier: string;
  line: number;
}

/** Every module reference in a file; `dynamic` lists `import()` calls whose target is not a literal. */
function moduleRefs(file: string, text = readFileSync(file, "utf8")): { refs: ModuleRef[]; dynamic: number[] } {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith("x") ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const refs: ModuleRef[] = [];
  const dynamic: number[] = [];
  const lineOf = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const literal = (node: ts.Node | undefined) =>
    node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : undefined;
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      const s = literal(node.moduleSpecifier);
      if (s !== undefined) refs.push({ specifier: s, line: lineOf(node) });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const s = literal(node.moduleReference.expression);
      if (s !== undefined) refs.push({ specifier: s, line: lineOf(node) });
    } else if (ts.isCallExpression(node)) {
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === "require";
      if (isImport || isRequire) {
        const s = literal(node.arguments[0]);
        if (s !== undefined) refs.push({ specifier: s, line: lineOf(node) });
        else if (isImport) dynamic.push(lineOf(node));
      }
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const s = literal(node.argument.literal);
      if (s !== undefined) refs.push({ specifier: s, line: lineOf(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { refs, dynamic };
}

const CANDIDATES = ["", ".ts", ".tsx", ".js", ".mjs", ".json", "/index.ts", "/index.tsx", "/index.js"];

/** The file a specifier names, `null` for a package (node_modules, node:), `undefined` when nothing matches. */
function resolveSpecifier(specifier: string, fromFile: string, root = ROOT): string | null | undefined {
  let base: string;
  if (specifier.startsWith("@/")) base = path.join(root, specifier.slice(2));
  else if (specifier.startsWith("./") || specifier.startsWith("../") || specifier === "." || specifier === "..")
    base = path.resolve(path.dirname(fromFile), specifier);
  else return null;
  // ESM-style `./x.js` naming a TypeScript source.
  const stems = /\.js$/.test(base) ? [base, base.replace(/\.js$/, "")] : [base];
  for (const stem of stems) {
    for (const ext of CANDIDATES) {
      const candidate = stem + ext;
      if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
    }
  }
  return undefined;
}

interface Violation {
  /** The production file that holds the import. */
  importer: string;
  line: number;
  specifier: string;
  problem: string;
}

/** Walks the graph from `entries`; returns each import of a forbidden file, and each edge it cannot follow. */
function findViolations(entries: string[], root = ROOT): { violations: Violation[]; visited: Set<string> } {
  const violations: Violation[] = [];
  const visited = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (visited.has(file)) continue;
    visited.add(file);
    if (!SOURCE.test(file)) continue;
    const { refs, dynamic } = moduleRefs(file);
    for (const line of dynamic) {
      violations.push({ importer: rel(file), line, specifier: "import(<expression>)", problem: "dynamic import of a computed name cannot be checked" });
    }
    for (const ref of refs) {
      const target = resolveSpecifier(ref.specifier, file, root);
      if (target === null) continue;
      if (target === undefined) {
        violations.push({ importer: rel(file), line: ref.line, specifier: ref.specifier, problem: "resolves to no file" });
        continue;
      }
      const forbidden = FORBIDDEN.find((prefix) => rel(target).startsWith(prefix));
      if (forbidden) {
        violations.push({ importer: rel(file), line: ref.line, specifier: ref.specifier, problem: `reaches ${rel(target)} (${forbidden} is dev/test only)` });
        continue;
      }
      queue.push(target);
    }
  }
  return { violations, visited };
}

const describeViolation = (v: Violation) => `${v.importer}:${v.line} imports "${v.specifier}": ${v.problem}`;

describe("production code does not import the dev stack or e2e support", () => {
  it("no file reachable from app/, lib/, components/, proxy.ts, instrumentation.ts or the production scripts imports lib/devstack or e2e/", () => {
    const entries = productionEntries();
    const { violations, visited } = findViolations(entries);
    expect(violations.map(describeViolation)).toEqual([]);
    // Not vacuous: the walk saw the app, the libraries and the scripts' helpers.
    const seen = [...visited].map(rel);
    for (const file of ["app/layout.tsx", "app/login/page.tsx", "lib/db/share-format.ts", "lib/config/env.ts", "proxy.ts", "scripts/lib/server-only-hook.ts"]) {
      expect(seen).toContain(file);
    }
    expect(seen.filter((f) => f.startsWith("app/")).length).toBeGreaterThan(10);
  });

  it("finds every kind of import of the dev stack, through `@/` and relative paths", () => {
    const file = path.join(ROOT, "lib", "health", "fence-probe.ts");
    const text = [
      'import { a } from "@/lib/devstack/seed";',
      'import type { B } from "../devstack/idp/accounts";',
      'export * from "@/e2e/support/markers";',
      "async function f() {",
      '  // import "@/lib/devstack/in-a-comment" does not count',
      '  const x = await import("@/lib/devstack/launcher");',
      "  const y = await import(name);",
      '  const z: typeof import("@/lib/db/share-format") = require("./nowhere");',
      "}",
    ].join("\n");
    const { refs, dynamic } = moduleRefs(file, text);
    expect(refs.map((r) => r.specifier)).toEqual([
      "@/lib/devstack/seed",
      "../devstack/idp/accounts",
      "@/e2e/support/markers",
      "@/lib/devstack/launcher",
      "@/lib/db/share-format",
      "./nowhere",
    ]);
    expect(dynamic).toEqual([7]);
    expect(resolveSpecifier("../devstack/idp/accounts", file)).toBe(path.join(ROOT, "lib/devstack/idp/accounts.ts"));
    expect(resolveSpecifier("@/lib/devstack/transit/server.js", file)).toBe(path.join(ROOT, "lib/devstack/transit/server.ts"));
    expect(resolveSpecifier("@/lib/db", file)).toBe(path.join(ROOT, "lib/db/index.ts"));
    expect(resolveSpecifier("./nowhere", file)).toBeUndefined();
    expect(resolveSpecifier("node:fs", file)).toBeNull();
    expect(resolveSpecifier("drizzle-orm", file)).toBeNull();
  });
});
