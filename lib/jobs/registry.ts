import "server-only";
import type { Logger } from "pino";
import { auditCheckpointJob } from "@/lib/audit/checkpoint";
import { sessionSweeperJob } from "@/lib/auth/session-sweeper";
import { rewrapCampaignJob } from "@/lib/campaigns/job";
import type { Config } from "@/lib/config/env";
import { redisSyncJob } from "@/lib/ingest/redis-sync-job";
import { logger as rootLogger } from "@/lib/log";
import type { Job } from "./define";
import { describeError } from "./describe-error";

export interface RegisteredJob {
  name: string;
  /** One line for `npm run worker -- --help` and the logs. */
  description: string;
  /** Why the job does not run with this configuration; undefined when it does. */
  off?(cfg: Config): string | undefined;
  create(cfg: Config): Job;
}

/**
 * Every background job of Keyshare Console, in one list. The console process (embedded mode, and production
 * unless KEYSHARE_RUN_JOBS_IN_WEB=false) and `npm run worker` both start the jobs that are on.
 */
export const JOBS: readonly RegisteredJob[] = [
  {
    name: "redis-sync",
    description: "imports WalletProperties from the Redis cache every REDIS_SYNC_INTERVAL_SECONDS (single-instance)",
    off: (cfg) => (cfg.redisUrl ? undefined : "REDIS_URL is not set"),
    create: (cfg) => redisSyncJob({ redisUrl: cfg.redisUrl!, intervalMs: cfg.redisSyncIntervalSeconds * 1000 }),
  },
  {
    name: "session-sweeper",
    description: "deletes expired, idle and too-old sessions every 15 minutes",
    create: (cfg) =>
      sessionSweeperJob({ maxAgeSeconds: cfg.auth.sessionMaxAgeSeconds, idleTimeoutSeconds: cfg.auth.sessionIdleTimeoutSeconds }),
  },
  {
    name: "audit-checkpoint",
    description:
      "signs an audit checkpoint through Vault every AUDIT_CHECKPOINT_EVERY_EVENTS events or AUDIT_CHECKPOINT_INTERVAL_MINUTES (single-instance)",
    create: (cfg) => auditCheckpointJob(cfg),
  },
  {
    name: "rewrap-campaigns",
    description: "works re-wrap campaigns: claims batches, re-wraps them in Vault, writes them back (every process may run it)",
    create: (cfg) => rewrapCampaignJob(cfg),
  },
];

export class UnknownJobError extends Error {
  constructor(readonly names: string[], readonly known: string[]) {
    super(`unknown job${names.length > 1 ? "s" : ""}: ${names.join(", ")} (known: ${known.join(", ")})`);
    this.name = "UnknownJobError";
  }
}

export interface ResolvedJobs {
  jobs: Job[];
  /** Jobs that are off with this configuration, and why. */
  off: { name: string; reason: string }[];
  /** Jobs whose definition could not be built (logged); the others are unaffected. */
  failed: string[];
}

/**
 * The jobs to start with this configuration: all registered jobs that are on, or only those named in `only`
 * (an unknown name throws UnknownJobError). A job whose `create` throws is logged and left out.
 */
export function resolveJobs(
  cfg: Config,
  options: { only?: readonly string[]; registry?: readonly RegisteredJob[]; logger?: Logger } = {},
): ResolvedJobs {
  const registry = options.registry ?? JOBS;
  const log = options.logger ?? rootLogger;
  const known = registry.map((e) => e.name);
  if (options.only) {
    const unknown = options.only.filter((n) => !known.includes(n));
    if (unknown.length > 0) throw new UnknownJobError(unknown, known);
  }
  const result: ResolvedJobs = { jobs: [], off: [], failed: [] };
  for (const entry of registry) {
    if (options.only && !options.only.includes(entry.name)) continue;
    try {
      const reason = entry.off?.(cfg);
      if (reason) {
        result.off.push({ name: entry.name, reason });
        continue;
      }
      const job = entry.create(cfg);
      if (job.name !== entry.name) throw new Error(`registered as "${entry.name}" but defines "${job.name}"`);
      result.jobs.push(job);
    } catch (err) {
      result.failed.push(entry.name);
      log.error({ job: entry.name, err: describeError(err) }, "background job not started");
    }
  }
  return result;
}
