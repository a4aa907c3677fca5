import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestPostgres, testPostgresUrl, type TestDb } from "@/lib/db/testing";

/**
 * `npm run worker` as a real process (`npx tsx scripts/worker.ts`), against a throwaway PostgreSQL database.
 * The signal goes to the worker process itself (its pid is in the ready line), as a container runtime or
 * process manager delivers it; tsx and npx then pass its exit code up.
 */

const ROOT = path.resolve(import.meta.dirname, "..");
const adminUrl = testPostgresUrl();

interface Run {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

function worker(args: string[], env: Record<string, string>): Run {
  let output = "";
  const child = spawn("npx", ["tsx", "scripts/worker.ts", ...args], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: "test", REDIS_URL: "", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so that cleanup can end npx, tsx and the worker together.
    detached: true,
  });
  started.push(child);
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => output, exit };
}

const started: ChildProcess[] = [];
afterAll(() => {
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
});

async function waitForOutput(run: Run, text: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!run.output().includes(text)) {
    if (Date.now() > until) throw new Error(`worker did not print "${text}":\n${run.output()}`);
    if (run.child.exitCode !== null) throw new Error(`worker exited with ${run.child.exitCode}:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("npm run worker", () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), "ks-worker-"));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("refuses to run on the embedded PGlite database, saying where the jobs run instead", async () => {
    const run = worker([], { DATABASE_URL: "", DATA_DIR: dataDir });
    expect(await run.exit).toBe(1);
    expect(run.output()).toContain("npm run worker needs DATABASE_URL");
    expect(run.output()).toContain("run inside the console");
  }, 60_000);

  it("rejects an unknown job name", async () => {
    const run = worker(["--jobs", "session-sweeper,no-such-job"], { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" });
    expect(await run.exit).toBe(2);
    expect(run.output()).toContain("unknown job: no-such-job");
  }, 60_000);

  it("refuses a named job that is off in this configuration", async () => {
    const run = worker(["--jobs", "redis-sync"], { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" });
    expect(await run.exit).toBe(1);
    expect(run.output()).toContain("redis-sync is off in this configuration: REDIS_URL is not set");
  }, 60_000);

  describe.skipIf(!adminUrl)("on PostgreSQL", () => {
    let t: TestDb;
    beforeAll(async () => {
      t = await createTestPostgres(adminUrl!);
    });
    afterAll(() => t?.close());

    it("starts, says it is ready, and stops on SIGTERM with exit code 0", async () => {
      const run = worker(["--jobs", "session-sweeper"], { DATABASE_URL: t.url! });
      await waitForOutput(run, '"msg":"worker ready"');
      const ready = JSON.parse(run.output().split("\n").find((l) => l.includes('"msg":"worker ready"'))!) as { jobs: string[]; pid: number };
      expect(ready.jobs).toEqual(["session-sweeper"]);
      process.kill(ready.pid, "SIGTERM");
      expect(await run.exit).toBe(0);
      expect(run.output()).toContain('"msg":"worker stopping"');
      expect(run.output()).toContain('"msg":"worker stopped"');
    }, 90_000);
  });
});
