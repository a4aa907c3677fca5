import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "@/lib/config/env";
import { REDIS_SYNC_LOCK_ID } from "@/lib/ingest/redis-sync-job";
import { defineJob } from "./define";
import { processJobs, startProcessJobs, stopJobsOnSignals, stopProcessJobs } from "./process";
import { JOBS, resolveJobs, UnknownJobError, type RegisteredJob } from "./registry";
import { captureLogger } from "./testing";

const idle = (name: string) => defineJob({ name, kind: "interval", intervalMs: 60_000, initialDelayMs: 60_000, run: async () => {} });

describe("process jobs", () => {
  it("start once per process: a second start (a dev-mode reload) gets the running runner", async () => {
    const log = captureLogger().logger;
    const first = startProcessJobs([idle("one")], { logger: log });
    const second = startProcessJobs([idle("one"), idle("two")], { logger: log });
    expect(first.started).toBe(true);
    expect(second.started).toBe(false);
    expect(second.handle).toBe(first.handle);
    expect(processJobs()?.names).toEqual(["one"]);
    expect(await stopProcessJobs({ timeoutMs: 1_000 })).toEqual({ finished: true, unfinished: [] });
    expect(processJobs()).toBeUndefined();
    const third = startProcessJobs([idle("two")], { logger: log });
    expect(third.started).toBe(true);
    expect(third.handle.names).toEqual(["two"]);
    await stopProcessJobs();
  });
});

describe("stopJobsOnSignals", () => {
  function deferred() {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  }
  const tick = () => new Promise((r) => setImmediate(r));

  it("stops the jobs first, then hands the signal to the listener that was there (Next's shutdown)", async () => {
    const target = new EventEmitter();
    const handedOver: unknown[] = [];
    target.on("SIGTERM", (s: unknown) => handedOver.push(s));
    const stop = deferred();
    let stops = 0;
    const uninstall = stopJobsOnSignals(() => (stops++, stop.promise), { target, exit: () => expect.unreachable() });

    target.emit("SIGTERM", "SIGTERM");
    await tick();
    expect(stops).toBe(1);
    expect(handedOver).toEqual([]);
    stop.resolve();
    await tick();
    expect(handedOver).toEqual(["SIGTERM"]);

    uninstall();
    expect(target.listenerCount("SIGTERM")).toBe(1);
    expect(target.listenerCount("SIGINT")).toBe(0);
  });

  it("hands a second signal over at once, and exits with the signal's code when nobody else listens", async () => {
    const target = new EventEmitter();
    const exits: number[] = [];
    const stop = deferred();
    stopJobsOnSignals(() => stop.promise, { target, exit: (code) => exits.push(code) });
    target.emit("SIGINT", "SIGINT");
    await tick();
    expect(exits).toEqual([]);
    target.emit("SIGINT", "SIGINT");
    expect(exits).toEqual([130]);
    stop.resolve();
    await tick();
    expect(exits).toEqual([130, 130]);
  });

  it("still hands over when stopping the jobs fails", async () => {
    const target = new EventEmitter();
    const handedOver: unknown[] = [];
    target.on("SIGTERM", (s: unknown) => handedOver.push(s));
    stopJobsOnSignals(() => Promise.reject(new Error("stuck")), { target });
    target.emit("SIGTERM", "SIGTERM");
    await tick();
    await tick();
    expect(handedOver).toEqual(["SIGTERM"]);
  });
});

describe("job registry", () => {
  const testConfig = (env: Record<string, string> = {}) => loadConfig({ NODE_ENV: "test", ...env });

  it("lists every job once; the Redis sync only when REDIS_URL is set, under the lock npm run sync:redis takes", () => {
    expect(new Set(JOBS.map((j) => j.name)).size).toBe(JOBS.length);
    const without = resolveJobs(testConfig(), { logger: captureLogger().logger });
    expect(without.jobs.map((j) => j.name)).toEqual(["session-sweeper", "audit-checkpoint", "rewrap-campaigns"]);
    expect(without.off).toEqual([{ name: "redis-sync", reason: "REDIS_URL is not set" }]);

    const withRedis = resolveJobs(testConfig({ REDIS_URL: "redis://127.0.0.1:6379", REDIS_SYNC_INTERVAL_SECONDS: "60" }));
    expect(withRedis.jobs.map((j) => [j.name, j.kind, j.singleInstance])).toEqual([
      ["redis-sync", "interval", REDIS_SYNC_LOCK_ID],
      ["session-sweeper", "interval", undefined],
      ["audit-checkpoint", "interval", true],
      // Every process works campaigns at once: coordination is in the claims, not a lock.
      ["rewrap-campaigns", "loop", undefined],
    ]);
    expect(withRedis.jobs[0]).toMatchObject({ intervalMs: 60_000 });
    expect(resolveJobs(testConfig(), { only: ["session-sweeper"] }).jobs.map((j) => j.name)).toEqual(["session-sweeper"]);
  });

  it("rejects an unknown job name, naming the known ones", () => {
    expect(() => resolveJobs(testConfig(), { only: ["session-sweeper", "nope"] })).toThrow(UnknownJobError);
    expect(() => resolveJobs(testConfig(), { only: ["nope"] })).toThrow(/unknown job: nope \(known: redis-sync, session-sweeper/);
  });

  it("a job whose definition fails is logged and left out; the others are resolved", () => {
    const log = captureLogger();
    const registry: RegisteredJob[] = [
      { name: "broken", description: "", create: () => defineJob({ name: "broken", kind: "interval", intervalMs: 0, run: async () => {} }) },
      { name: "misnamed", description: "", create: () => idle("other-name") },
      { name: "fine", description: "", create: () => idle("fine") },
    ];
    const resolved = resolveJobs(testConfig(), { registry, logger: log.logger });
    expect(resolved.jobs.map((j) => j.name)).toEqual(["fine"]);
    expect(resolved.failed).toEqual(["broken", "misnamed"]);
    expect(log.messages().filter((m) => m.msg === "background job not started").map((m) => m.job)).toEqual(["broken", "misnamed"]);
  });
});

describe("job settings", () => {
  it("default: jobs run in web instances too, 30 s shutdown grace", () => {
    expect(loadConfig({ NODE_ENV: "test" }).jobs).toEqual({ runInWeb: true, shutdownTimeoutMs: 30_000 });
  });

  it("KEYSHARE_RUN_JOBS_IN_WEB and WORKER_SHUTDOWN_TIMEOUT_MS are read and checked", () => {
    expect(loadConfig({ NODE_ENV: "test", KEYSHARE_RUN_JOBS_IN_WEB: "false", WORKER_SHUTDOWN_TIMEOUT_MS: "5000" }).jobs).toEqual({
      runInWeb: false,
      shutdownTimeoutMs: 5_000,
    });
    expect(loadConfig({ NODE_ENV: "test", KEYSHARE_RUN_JOBS_IN_WEB: "0" }).jobs.runInWeb).toBe(false);
    expect(loadConfig({ NODE_ENV: "test", KEYSHARE_RUN_JOBS_IN_WEB: "true" }).jobs.runInWeb).toBe(true);
    expect(() => loadConfig({ NODE_ENV: "test", KEYSHARE_RUN_JOBS_IN_WEB: "no" })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: "test", WORKER_SHUTDOWN_TIMEOUT_MS: "-1" })).toThrow(/WORKER_SHUTDOWN_TIMEOUT_MS/);
  });
});
