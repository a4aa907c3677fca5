import semver from "semver";

/**
 * Checks an npm lockfile (v2/v3, `packages` keyed by `node_modules/…` paths) against security/advisories.json.
 * Every installed copy of a package counts, nested ones included: a vulnerable copy deep in the tree is still
 * loaded by whatever depends on it.
 */

export interface Advisory {
  id: string;
  cve?: string;
  package: string | string[];
  severity: "low" | "moderate" | "high" | "critical";
  summary: string;
  /** semver range of the versions that are not affected (prereleases compared in order). */
  fixed: string;
}

export interface AdvisoryFile {
  packages: string[];
  advisories: Advisory[];
}

export interface Lockfile {
  packages?: Record<string, { version?: string; link?: boolean }>;
}

export interface Finding {
  advisory: string;
  package: string;
  path: string;
  version: string;
  fixed: string;
}

const RANGE_OPTIONS = { includePrerelease: true } as const;

/** Installed copies of `name`: lockfile path → version. */
export function installedVersions(lock: Lockfile, name: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    if ((path === `node_modules/${name}` || path.endsWith(`/node_modules/${name}`)) && entry.version && !entry.link) {
      out.set(path, entry.version);
    }
  }
  return out;
}

/** Problems with the advisory list itself (an unparseable range would silently match nothing). */
export function validateAdvisories(file: AdvisoryFile): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const a of file.advisories) {
    if (!/^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$/.test(a.id)) problems.push(`${a.id}: not a GHSA id`);
    if (seen.has(a.id)) problems.push(`${a.id}: listed twice`);
    seen.add(a.id);
    if (a.cve !== undefined && !/^CVE-\d{4}-\d{4,}$/.test(a.cve)) problems.push(`${a.id}: ${a.cve} is not a CVE id`);
    if (!semver.validRange(a.fixed, RANGE_OPTIONS)) problems.push(`${a.id}: fixed range "${a.fixed}" does not parse`);
    if ([a.package].flat().length === 0) problems.push(`${a.id}: names no package`);
  }
  return problems;
}

export function findVulnerable(lock: Lockfile, file: AdvisoryFile): Finding[] {
  const findings: Finding[] = [];
  for (const a of file.advisories) {
    for (const name of [a.package].flat()) {
      for (const [path, version] of installedVersions(lock, name)) {
        if (!semver.valid(version) || !semver.satisfies(version, a.fixed, RANGE_OPTIONS)) {
          findings.push({ advisory: a.id, package: name, path, version, fixed: a.fixed });
        }
      }
    }
  }
  return findings;
}
