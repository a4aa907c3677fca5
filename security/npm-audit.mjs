// `npm audit --omit=dev` for .ci/run: exits 1 on a high or critical advisory in the production dependencies, but
// only when the registry's audit endpoint answers. When it does not (some networks refuse the bulk endpoint),
// it prints one line saying the audit was skipped and exits 0: security/advisories.json, checked by
// test/security-advisories.test.ts, still covers the security-critical packages then.
import { spawnSync } from "node:child_process";

const run = spawnSync("npm", ["audit", "--omit=dev", "--json"], { encoding: "utf8", timeout: 180_000 });
let report;
try {
  report = JSON.parse(run.stdout);
} catch {
  report = undefined;
}
const counts = report?.metadata?.vulnerabilities;
if (!counts || typeof counts !== "object") {
  const reason =
    report?.message ?? run.error?.message ?? run.stderr?.trim().split("\n").filter(Boolean).pop() ?? "no report";
  console.log(`npm audit: skipped, the audit endpoint did not answer (${String(reason).slice(0, 200)})`);
  process.exit(0);
}

const serious = Object.values(report.vulnerabilities ?? {}).filter((v) => v.severity === "high" || v.severity === "critical");
const summary = ["critical", "high", "moderate", "low"].map((s) => `${counts[s] ?? 0} ${s}`).join(", ");
if (serious.length === 0) {
  console.log(`npm audit (production dependencies): no high or critical advisories (${summary})`);
  process.exit(0);
}
console.log(`npm audit (production dependencies): ${summary}`);
for (const v of serious) {
  const titles = (v.via ?? []).filter((x) => typeof x === "object").map((x) => `${x.title ?? "advisory"} ${x.url ?? ""}`.trim());
  console.log(`  ${v.severity} ${v.name} ${v.range ?? ""}${titles.length ? `: ${titles.join("; ")}` : ` (through ${(v.via ?? []).join(", ")})`}`);
}
process.exit(1);
