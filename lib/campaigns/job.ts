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
export function rewrapCampaignJob(cfg: Config): LoopJob {
  return defineJob({
    kind: "loop",
    name: "rewrap-campaigns",
    run: (ctx) =>
      runCampaignWorker({
        db: ctx.db,
        vault: getVaultClient(),
        workerId: defaultWorkerId(),
        environmentMapping: cfg.keys.environmentMapping,
        leaseMs: cfg.campaigns.leaseSeconds * 1000,
        concurrency: cfg.campaigns.concurrency,
        logger: ctx.logger,
        signal: ctx.signal,
      }),
  });
}
