import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { findVulnerable, installedVersions, validateAdvisories, type AdvisoryFile, type Lockfile } from "../security/advisories";

/**
 * The registry's audit endpoint does not answer from every machine, so published advisories for the
 * security-critical packages are kept in security/advisories.json and checked against the lockfile here:
 * a landing that installs an affected version fails.
 */

const advisories = JSON.parse(readFileSync("security/advisories.json", "utf8")) as AdvisoryFile;
const lock = JSON.parse(readFileSync("package-lock.json", "utf8")) as Lockfile;

function lockWith(versions: Record<string, string>): Lockfile {
  return { packages: Object.fromEntries(Object.entries(versions).map(([path, version]) => [path, { version }])) };
}

describe("security advisories", () => {
  it("the list is well-formed: GHSA ids, parseable fixed ranges", () => {
    expect(validateAdvisories(advisories)).toEqual([]);
    expect(advisories.advisories.length).toBeGreaterThanOrEqual(8);
  });

  it("every watched package is in the lockfile (so a check cannot pass by finding nothing)", () => {
    for (const name of advisories.packages) expect(installedVersions(lock, name).size, name).toBeGreaterThan(0);
    for (const a of advisories.advisories) {
      const names = [a.package].flat();
      if (names.some((n) => advisories.packages.includes(n))) {
        expect(names.some((n) => installedVersions(lock, n).size > 0), `${a.id}: ${names.join(", ")} installed`).toBe(true);
      }
    }
  });

  it("package-lock.json installs no version an advisory affects", () => {
    const findings = findVulnerable(lock, advisories);
    const text = findings.map((f) => `${f.package}@${f.version} (${f.path}) is affected by ${f.advisory}; fixed: ${f.fixed}`);
    expect(findings, text.join("\n")).toEqual([]);
  });

  it("flags the versions the advisories name, in every installed copy, and passes their fixes", () => {
    const affected = lockWith({
      "node_modules/next": "15.2.2",
      "node_modules/axios": "1.8.1",
      "node_modules/drizzle-orm": "0.45.1",
      "node_modules/next-auth": "5.0.0-beta.29",
      "node_modules/some-lib/node_modules/axios": "1.11.0",
      "node_modules/react-server-dom-webpack": "19.2.0",
    });
    const ids = (lockfile: Lockfile) => new Set(findVulnerable(lockfile, advisories).map((f) => `${f.advisory} ${f.path}`));
    const found = ids(affected);
    for (const expected of [
      "GHSA-f82v-jwr5-mffw node_modules/next",
      "GHSA-9qr9-h5gf-34mp node_modules/next",
      "GHSA-jr5f-v2jv-69x6 node_modules/axios",
      "GHSA-4hjh-wcwx-xvwj node_modules/some-lib/node_modules/axios",
      "GHSA-gpj5-g38j-94v9 node_modules/drizzle-orm",
      "GHSA-5jpx-9hw9-2fx4 node_modules/next-auth",
      "GHSA-8fpg-xm3f-6cx3 node_modules/next-auth",
      "GHSA-fv66-9v8q-g76r node_modules/react-server-dom-webpack",
    ]) {
      expect(found, expected).toContain(expected);
    }
    expect(ids(lockWith({ "node_modules/next": "16.0.6" }))).toContain("GHSA-9qr9-h5gf-34mp node_modules/next");
    expect(ids(lockWith({ "node_modules/next": "14.2.24" }))).toContain("GHSA-f82v-jwr5-mffw node_modules/next");
    expect(ids(lockWith({ "node_modules/next": "15.2.6" }))).toContain("GHSA-4342-x723-ch2f node_modules/next");
    // The fixed releases of each line pass.
    for (const next of ["16.0.7", "15.5.7", "15.4.8", "14.2.32"]) {
      expect([...ids(lockWith({ "node_modules/next": next }))], next).toEqual([]);
    }
    expect([...ids(lockWith({ "node_modules/axios": "1.12.0", "node_modules/drizzle-orm": "0.45.2", "node_modules/next-auth": "5.0.0-beta.32" }))]).toEqual([]);
    expect([...ids(lockWith({ "node_modules/react-server-dom-webpack": "19.1.2" }))]).toEqual([]);
  });
});
