/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per area
 * (dev server, Vault client, node-vault/axios, Node internals, GC/idle), to say where time goes.
 * Usage: tsx bench/lib/cpuprofile-summary.ts <file.cpuprofile> [topN]
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error("usage: cpuprofile-summary <file.cpuprofile> [topN]");
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

function area(url: string, fn: string): string {
  if (fn === "(idle)") return "idle";
  if (fn === "(garbage collector)") return "GC";
  if (fn === "(program)") return "program (native, unattributed)";
  if (url.includes("/lib/devstack/transit/")) return "dev Transit server";
  if (url.includes("/lib/vault/")) return "lib/vault client";
  if (url.includes("/lib/campaigns/")) return "lib/campaigns";
  if (url.includes("/lib/db/") || url.includes("/lib/audit/")) return "lib/db + lib/audit";
  if (url.includes("/node_modules/postgres/")) return "postgres.js";
  if (url.includes("/node_modules/drizzle-orm/")) return "drizzle-orm";
  if (url.includes("/node_modules/pino")) return "pino";
  if (url.includes("/node_modules/axios/") || url.includes("/node_modules/follow-redirects/")) return "axios";
  if (url.includes("/node_modules/node-vault/")) return "node-vault";
  if (url.includes("/node_modules/")) return "other node_modules";
  if (url.includes("/bench/")) return "bench";
  if (url.startsWith("node:")) return "Node internals (JS)";
  return url === "" ? "native builtins (JSON, crypto, Buffer…)" : "other";
}

const fnTotals = new Map<string, number>();
const areaTotals = new Map<string, number>();
for (const [id, t] of self) {
  const n = byId.get(id)!;
  const a = area(n.callFrame.url, n.callFrame.functionName);
  areaTotals.set(a, (areaTotals.get(a) ?? 0) + t);
  const short = n.callFrame.url.replace(/^.*\/(node_modules\/|lib\/|bench\/)/, "$1");
  const key = `${n.callFrame.functionName || "(anonymous)"}  ${short}${short ? `:${n.callFrame.lineNumber + 1}` : ""}`;
  fnTotals.set(key, (fnTotals.get(key) ?? 0) + t);
}

// Attribute native frames (empty url) to the nearest JS ancestor's area, to see who calls JSON/crypto.
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const nativeByCaller = new Map<string, number>();
for (const [id, t] of self) {
  const n = byId.get(id)!;
  if (n.callFrame.url !== "" || n.callFrame.functionName.startsWith("(")) continue;
  let p = parent.get(id);
  while (p !== undefined && byId.get(p)!.callFrame.url === "") p = parent.get(p);
  const caller = p === undefined ? "?" : area(byId.get(p)!.callFrame.url, byId.get(p)!.callFrame.functionName);
  const key = `${n.callFrame.functionName} ← ${caller}`;
  nativeByCaller.set(key, (nativeByCaller.get(key) ?? 0) + t);
}

// Attribute every sample to the nearest project-level owner on its stack (server, client, HTTP client,
// bench), so Node internals and natives (crypto, JSON, sockets) are charged to whoever called them.
const OWNERS = new Set([
  "dev Transit server",
  "lib/vault client",
  "lib/campaigns",
  "lib/db + lib/audit",
  "postgres.js",
  "drizzle-orm",
  "pino",
  "axios",
  "node-vault",
  "bench",
  "other node_modules",
]);
const ownerTotals = new Map<string, number>();
for (const [id, t] of self) {
  const n = byId.get(id)!;
  let owner = area(n.callFrame.url, n.callFrame.functionName);
  let p: number | undefined = id;
  while (p !== undefined && !OWNERS.has(owner)) {
    p = parent.get(p);
    if (p !== undefined) owner = area(byId.get(p)!.callFrame.url, byId.get(p)!.callFrame.functionName);
  }
  if (p === undefined) owner = `${area(n.callFrame.url, n.callFrame.functionName)} (no project frame on stack)`;
  ownerTotals.set(owner, (ownerTotals.get(owner) ?? 0) + t);
}

const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
console.log(`total sampled: ${(total / 1e6).toFixed(2)} s`);
console.log("\nby area (self time):");
for (const [a, t] of [...areaTotals].sort((x, y) => y[1] - x[1])) console.log(`  ${pct(t)}  ${a}`);
console.log("\nby owner (inclusive: natives and Node internals charged to the nearest project frame):");
for (const [a, t] of [...ownerTotals].sort((x, y) => y[1] - x[1])) console.log(`  ${pct(t)}  ${a}`);
console.log("\nnative builtins by calling area:");
for (const [k, t] of [...nativeByCaller].sort((x, y) => y[1] - x[1]).slice(0, 15)) console.log(`  ${pct(t)}  ${k}`);
console.log("\ntop functions (self time):");
for (const [k, t] of [...fnTotals].sort((x, y) => y[1] - x[1]).slice(0, Number(topArg ?? 30))) console.log(`  ${pct(t)}  ${k}`);
