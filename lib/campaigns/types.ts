import type { CampaignState } from "@/lib/db/schema/campaigns";

export type { CampaignState };

/** What any caller (UI, CLI, route handler) may see of a campaign: counters and settings, never a record's bytes. */
export interface CampaignDto {
  id: string;
  keyName: string;
  targetVersion: number;
  scopeVersions: number[] | null;
  scopeEnvironment: string | null;
  derived: boolean;
  state: CampaignState;
  stateReason: string | null;
  batchSize: number;
  failureBudget: number;
  maxItemAttempts: number;
  createdBy: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
  recordsAtStart: number;
  rewrapped: number;
  skippedConflict: number;
  itemFailures: number;
  batches: number;
  failedCalls: number;
  consecutiveFailures: number;
  notBefore: string | null;
  lastBatchAt: string | null;
  lastError: string | null;
  pass: number;
}

export interface CampaignStatusDto extends CampaignDto {
  /** Records of the key in scope still below the target (from the census counters: cheap, current). */
  remaining: number;
  quarantined: number;
  quarantinedUnacknowledged: number;
  activeLeases: number;
}

export interface QuarantinedRecordDto {
  recordId: string;
  walletId: string | null;
  attempts: number;
  reasonCode: string;
  error: string;
  quarantined: boolean;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  lastFailedAt: string;
}
