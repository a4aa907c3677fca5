import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * Every server action and every route handler authorises through one function: server actions are built with
 * `command()` (lib/auth/command.ts), route handlers with `route()` / `jsonRoute()` (lib/http/route.ts). This
 * parses the sources (TypeScript compiler API, no build needed) and fails naming each export that is not a
 * direct call of its wrapper, imported from where the wrapper lives:
 * - every module whose first statement is `"use server"`: each runtime export must be
 *   `export const x = command({...})`; functions, re-exports, default exports and anything else fail;
 * - a `"use server"` directive inside a function (an inline action) fails: actions are module-level exports;
 * - every app/**\/route.(ts|js): each exported HTTP method must be `export const GET = route(...)` or
 *   `jsonRoute(...)`; the other exports may only be Next's route segment options.
 * The allow-list below holds the few endpoints that need no permission, each with the reason; an entry that
 * matches nothing fails too, so the list cannot outlive what it excuses.
 */

const ROOT = path.resolve(import.meta.dirname, "..");
const SCAN_DIRS = ["app", "lib", "components"];
const SOURCE = /\.(ts|tsx|js|mjs)$/;
const isTestFile = (file: string) => /\.test\.(ts|tsx)$/.test(file);

const WRAPPERS = {
  action: { names: ["command"], modules: ["@/lib/auth", "@/lib/auth/command", "./command"] },
  route: { names: ["route", "jsonRoute"], modules: ["@/lib/http/route"] },
} as const;

const HTTP_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
/** Next's route segment config: plain values, not endpoints. */
const ROUTE_SEGMENT_OPTIONS = new Set(["dynamic", "dynamicParams", "revalidate", "fetchCache", "runtime", "preferredRegion", "maxDuration"]);

/** `file#export` → why it may skip the wrapper. */
const ALLOWED: Record<string, string> = {
  // Starts the OIDC flow; anyone may begin a login, and it grants nothing until the IdP says who this is.
  "lib/auth/actions.ts#signInAction": "starts a sign-in",
  // Ends the caller's own session; never blocked, not even by a failed audit write.
  "lib/auth/actions.ts#signOutAction": "ends the caller's own session",
  // Auth.js's catch-all (sign-in, callback, sign-out, csrf, session): the sign-in protocol itself.
  "app/api/auth/[...nextauth]/route.ts#GET": "Auth.js endpoints",
  "app/api/auth/[...nextauth]/route.ts#POST": "Auth.js endpoints",
  // Load balancers have no session; it reveals only ok/down per component.
  "app/api/health/route.ts#GET": "public health check",
  // Sends the signed-in user through the IdP login again; grants nothing, the caller re-checks auth_time.
  "app/reauth/route.ts#GET": "starts a re-authentication",
};

export interface Finding {
  key: string;
  line: number;
  problem: string;
}

function listSources(dir: string): string[] {
  const out: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules" && !entry.name.startsWith(".")) out.push(...listSources(full));
    } else if (SOURCE.test(entry.name) && !isTestFile(entry.name)) out.push(full);
  }
  return out;
}

const isUseServer = (s: ts.Statement) =>
  ts.isExpressionStatement(s) && ts.isStringLiteral(s.expression) && s.expression.text === "use server";

function hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === kind);
}

/** Local names bound to `names` imported from one of `modules` (`import { command as c } from "@/lib/auth"`). */
function wrapperBindings(source: ts.SourceFile, names: readonly string[], modules: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const s of source.statements) {
    if (!ts.isImportDeclaration(s) || !ts.isStringLiteral(s.moduleSpecifier) || !modules.includes(s.moduleSpecifier.text)) continue;
    if (s.importClause?.isTypeOnly) continue;
    const bindings = s.importClause?.namedBindings;
    if (!bindings || !ts.isNamedImports(bindings)) continue;
    for (const el of bindings.elements) {
      if (el.isTypeOnly) continue;
      if (names.includes((el.propertyName ?? el.name).text)) out.add(el.name.text);
    }
  }
  return out;
}

/**
 * The findings for one file (path relative to the project root, `/`-separated). `kind` says what the file is:
 * a `"use server"` module, a route handler module, or neither (only inline directives are looked for).
 */
export function scanFile(file: string, text: string): Finding[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith("x") ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const findings: Finding[] = [];
  const lineOf = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const isServerModule = source.statements.length > 0 && isUseServer(source.statements[0]!);
  const isRoute = /^app\/(.*\/)?route\.(ts|js|mjs)$/.test(file);

  // Inline actions: a "use server" directive at the top of any function body.
  const visit = (node: ts.Node) => {
    if ((ts.isFunctionLike(node) && "body" in node && node.body && ts.isBlock(node.body)) || false) {
      const body = (node as ts.FunctionLikeDeclaration).body as ts.Block;
      if (body.statements.some(isUseServer))
        findings.push({ key: `${file}#(inline)`, line: lineOf(node), problem: "inline server action: export it from a module built with command()" });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  if (!isServerModule && !isRoute) return findings;

  const wrapper = isServerModule ? WRAPPERS.action : WRAPPERS.route;
  const bound = wrapperBindings(source, wrapper.names, wrapper.modules);
  const expected = `a call of ${wrapper.names.join("/")}() from ${wrapper.modules[0]}`;
  const isWrapperCall = (e: ts.Expression | undefined) =>
    !!e && ts.isCallExpression(e) && ts.isIdentifier(e.expression) && bound.has(e.expression.text);
  /** Route modules: only HTTP methods are endpoints; segment options are values. */
  const mustBeWrapped = (name: string) => (isServerModule ? true : HTTP_METHODS.has(name));
  const check = (name: string, node: ts.Node, wrapped: boolean, what: string) => {
    if (!isServerModule && !HTTP_METHODS.has(name) && !ROUTE_SEGMENT_OPTIONS.has(name)) {
      findings.push({ key: `${file}#${name}`, line: lineOf(node), problem: `route modules export HTTP methods and segment options only, not "${name}"` });
      return;
    }
    if (mustBeWrapped(name) && !wrapped) findings.push({ key: `${file}#${name}`, line: lineOf(node), problem: `${what}, not ${expected}` });
  };

  for (const s of source.statements) {
    if (ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) continue;
    const exported = hasModifier(s, ts.SyntaxKind.ExportKeyword);
    if (ts.isVariableStatement(s) && exported) {
      for (const d of s.declarationList.declarations) {
        const name = ts.isIdentifier(d.name) ? d.name.text : d.name.getText(source);
        const isConst = (s.declarationList.flags & ts.NodeFlags.Const) !== 0;
        check(name, d, isConst && isWrapperCall(d.initializer), isConst ? "an exported value" : "a non-const export");
      }
    } else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s)) && exported) {
      const name = hasModifier(s, ts.SyntaxKind.DefaultKeyword) ? "default" : (s.name?.text ?? "default");
      check(name, s, false, "a bare function");
    } else if (ts.isExportAssignment(s)) {
      check("default", s, false, "a default export");
    } else if (ts.isExportDeclaration(s) && !s.isTypeOnly) {
      if (!s.exportClause) {
        findings.push({ key: `${file}#*`, line: lineOf(s), problem: "export * hides what is exported" });
        continue;
      }
      if (ts.isNamedExports(s.exportClause)) {
        for (const el of s.exportClause.elements) {
          if (el.isTypeOnly) continue;
          check(el.name.text, el, false, s.moduleSpecifier ? "a re-export" : "an export list entry");
        }
      } else {
        findings.push({ key: `${file}#*`, line: lineOf(s), problem: "export * as … hides what is exported" });
      }
    }
  }
  return findings;
}

function scanProject(root = ROOT): { findings: Finding[]; scanned: { actions: string[]; routes: string[] } } {
  const findings: Finding[] = [];
  const actions: string[] = [];
  const routes: string[] = [];
  for (const dir of SCAN_DIRS) {
    for (const full of listSources(path.join(root, dir))) {
      const file = path.relative(root, full).split(path.sep).join("/");
      const text = readFileSync(full, "utf8");
      if (/^app\/(.*\/)?route\.(ts|js|mjs)$/.test(file)) routes.push(file);
      if (/^\s*(\/\/[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*["']use server["']/.test(text)) actions.push(file);
      findings.push(...scanFile(file, text));
    }
  }
  return { findings, scanned: { actions, routes } };
}

describe("every server action and route handler goes through its wrapper", () => {
  const { findings, scanned } = scanProject();

  it("finds the console's action modules and route handlers (the walk itself works)", () => {
    expect(scanned.actions).toEqual(expect.arrayContaining(["app/(console)/settings/actions.ts", "lib/auth/actions.ts"]));
    expect(scanned.routes).toEqual(expect.arrayContaining(["app/api/keys/route.ts", "app/api/wallets/export/route.ts", "app/api/auth/[...nextauth]/route.ts"]));
  });

  it("no export skips the wrapper except the commented allow-list", () => {
    const unexpected = findings.filter((f) => !(f.key in ALLOWED)).map((f) => `${f.key} (line ${f.line}): ${f.problem}`);
    expect(unexpected, unexpected.join("\n")).toEqual([]);
  });

  it("every allow-list entry still names an unwrapped export (no stale excuses)", () => {
    const used = new Set(findings.map((f) => f.key));
    expect(Object.keys(ALLOWED).filter((k) => !used.has(k))).toEqual([]);
  });
});

describe("the scanner", () => {
  const action = (body: string) => scanFile("app/(console)/x/actions.ts", `"use server";\nimport { command } from "@/lib/auth";\n${body}`);
  const routeFile = (body: string) => scanFile("app/api/x/route.ts", `import { route, jsonRoute } from "@/lib/http/route";\n${body}`);

  it("accepts command() exports and types", () => {
    expect(action(`export const a = command({} as never);\nexport type T = string;\nexport interface I { x: 1 }`)).toEqual([]);
  });

  it.each([
    ["a bare async function", `export async function bare(input: unknown) { return input; }`],
    ["an arrow function", `export const bare = async () => 1;`],
    ["another wrapper", `const authed = (f: unknown) => f;\nexport const bare = authed(async () => 1);`],
    ["command from elsewhere", `export const bare = command2({});`],
    ["a let binding", `export let bare = command({} as never);`],
    ["a re-export", `export { bare } from "./elsewhere";`],
    ["an export list", `const bare = async () => 1;\nexport { bare };`],
    ["a default export", `export default async function () {}`],
    ["export *", `export * from "./elsewhere";`],
  ])("flags %s in a \"use server\" module", (_label, body) => {
    expect(action(body).length).toBeGreaterThan(0);
  });

  it("flags command imported from a module that is not the wrapper's", () => {
    expect(scanFile("a.ts", `"use server";\nimport { command } from "./my-command";\nexport const x = command({});`)).toHaveLength(1);
  });

  it("flags inline server actions anywhere", () => {
    expect(scanFile("components/x.tsx", `export function F() { async function act() { "use server"; } return null; }`)).toHaveLength(1);
    expect(scanFile("components/x.tsx", `export const F = () => { const act = async () => { "use server"; }; return act; };`)).toHaveLength(1);
  });

  it("route handlers: wrapped methods and segment options pass; bare methods and stray exports fail", () => {
    expect(routeFile(`export const dynamic = "force-dynamic";\nexport const GET = jsonRoute("keys:read", async () => 1);\nexport const POST = route("keys:read", async () => new Response());`)).toEqual([]);
    expect(routeFile(`export async function GET() { return new Response(); }`)).toHaveLength(1);
    expect(routeFile(`export const GET = async () => new Response();`)).toHaveLength(1);
    expect(routeFile(`export { GET } from "./x";`)).toHaveLength(1);
    expect(routeFile(`export const helper = 1;`)).toHaveLength(1);
    expect(scanFile("app/api/x/route.ts", `import { jsonRoute } from "./fake";\nexport const GET = jsonRoute("keys:read", async () => 1);`)).toHaveLength(1);
  });
});
