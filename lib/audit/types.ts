/**
 * DTOs of the Audit pages: JSON-safe (times as ISO strings, ids as decimal text). Types only, so client
 * components may import them. `details` are the writer's redacted details, redacted once more on read.
 */

export interface AuditEventRowDto {
  id: string;
  seq: number;
  /** Millisecond precision, for display. */
  occurredAt: string;
  actorType: string;
  actorUserId: string | null;
  actorEmail: string | null;
  actorRole: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  reason: string | null;
  requestId: string | null;
  vaultRequestId: string | null;
}

export interface AuditPageDto {
  rows: AuditEventRowDto[];
  /** Older events (the next page), when there are any. */
  nextCursor: string | null;
  /** Newer events (the previous page), when this is not the first page. */
  prevCursor: string | null;
  limit: number;
}

/** A full event, as exported and as the event page shows it. */
export interface AuditEventFullDto extends AuditEventRowDto {
  actorIp: string | null;
  actorUserAgent: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/**
 * Whether a verification run has covered this event. Verification (recomputing the chain and checking the
 * checkpoint signatures with Vault) is not wired to this page yet: until it is, the state is always
 * `not_verified` and the page says so; nothing here claims integrity it has not checked.
 */
export type AuditVerificationState = { state: "not_verified" };

export interface AuditEventDetailDto {
  event: AuditEventFullDto;
  /** Neighbours in the chain (seq − 1, seq + 1), for walking it. */
  previousId: string | null;
  nextId: string | null;
  /** The first checkpoint at or after this event's position, if one has been written (signature not checked here). */
  checkpoint: { seq: number; createdAt: string } | null;
  verification: AuditVerificationState;
}
