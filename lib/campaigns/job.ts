import "server-only";
import type { Config } from "@/lib/config/env";
import { defineJob, type LoopJob } from "@/lib/jobs/define";
import { getVaultClient } from "@/lib/vault";
import { defaultWorkerId } from "./actor";
import { runCampaignWorker } from "./runner";

/**
 * The re-wrap campaign runner as a background job. Not single-instance: any number of processes work the same
 * campaign at once, coordinated by the claim transaction and the leases (lib/campaigns/runner.ts). A stop lets
 * the batches in flight finish their write-back; nothing is ever half-written.
 */
const START_DELAY_MS = 5_000;

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

export function rewrapCampaignJob(cfg: Config): LoopJob {
  return defineJob({
    kind: "loop",
    name: "rewrap-campaigns",
    run: async (ctx) => {
      // A moment after start, like the other jobs: the console serves first, and a process stopped at once
      // (tests, a failed deploy) never touches the database.
      await abortableSleep(START_DELAY_MS, ctx.signal);
      if (ctx.signal.aborted) return;
      await runCampaignWorker({
        db: ctx.db,
        vault: getVaultClient(),
        workerId: defaultWorkerId(),
        environmentMapping: cfg.keys.environmentMapping,
        leaseMs: cfg.campaigns.leaseSeconds * 1000,
        concurrency: cfg.campaigns.concurrency,
        logger: ctx.logger,
        signal: ctx.signal,
      });
    },
  });
}
