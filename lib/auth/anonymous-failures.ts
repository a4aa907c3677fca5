import "server-only";
import type { AuditEventInput } from "@/lib/audit";
import { logger } from "@/lib/log";

/**
 * Audit events for failed anonymous sign-in attempts, with a bounded rate.
 *
 * Why: anyone can hit /api/auth/callback/oidc without a valid state. If every hit appended an audit event,
 * a flood would fill a table nobody may delete from and, because every append takes the chain's single
 * row lock (audit_chain_head FOR UPDATE), would queue the audited actions of signed-in users behind it.
 *
 * Rule: per (failure kind, source IP) at most one event per window (a minute). The first failure of a
 * quiet key is written at once, exactly as before; further ones in the window are only counted, and a timer
 * writes one summary event carrying that count (`details.suppressed`) once the window is over. At most
 * MAX_SOURCES keys are tracked; failures from further sources share one overflow key per kind (ip null,
 * `details.overflow`), so a flood from many addresses is bounded too. A flood therefore costs at most
 * (MAX_SOURCES + kinds) appends per window whatever its size, and memory stays bounded.
 *
 * In-process on purpose: a shared counter (database, Redis) would put a write back on the flooded path.
 * Each app instance limits on its own, so N instances write at most N times as many events — still bounded.
 * Counts not yet flushed are lost if the process stops; the first event of each burst is always written.
 */

export interface AnonymousFailure {
  /** What failed, from a fixed set (the Auth.js error type). Anything else is counted as "other". */
  kind: string;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  reason: string;
  details: Record<string, unknown>;
}

export interface AggregatorOptions {
  windowMs: number;
  maxSources: number;
  /** How often the timer looks for summaries that are due. */
  flushEveryMs: number;
  now: () => number;
}

interface Entry {
  kind: string;
  ip: string | null;
  overflow: boolean;
  /** No event for this key before this time. */
  quietUntil: number;
  suppressed: number;
  firstSuppressedAt: number;
  lastSuppressedAt: number;
  lastUserAgent: string | null;
}

const DEFAULTS: AggregatorOptions = { windowMs: 60_000, maxSources: 32, flushEveryMs: 5_000, now: Date.now };
const KIND = /^[A-Za-z]{1,40}$/;
/** Auth.js has about a dozen client-facing error types; more distinct kinds than this are "other". */
const MAX_KINDS = 24;

export class AnonymousFailureAggregator {
  private readonly entries = new Map<string, Entry>();
  private sources = 0;
  private readonly kinds = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly opts: AggregatorOptions;

  constructor(
    private readonly write: (event: AuditEventInput) => Promise<unknown>,
    options: Partial<AggregatorOptions> = {},
  ) {
    this.opts = { ...DEFAULTS, ...options };
  }

  /**
   * Records one failure. Resolves once its event is written, or at once when it was only counted.
   * Never rejects: a failed append is logged (the request that caused it is answered either way).
   */
  async record(failure: AnonymousFailure): Promise<void> {
    const now = this.opts.now();
    const known = KIND.test(failure.kind) && (this.kinds.has(failure.kind) || this.kinds.size < MAX_KINDS);
    const kind = known ? failure.kind : "other";
    this.kinds.add(kind);
    let key = `${kind}\u0000${failure.ip ?? ""}`;
    let entry = this.entries.get(key);
    if (!entry && this.sources >= this.opts.maxSources) {
      key = `${kind}\u0000*`;
      entry = this.entries.get(key);
      if (!entry) {
        entry = this.newEntry(kind, null, true, now);
        this.entries.set(key, entry);
        this.ensureTimer();
        return this.append(this.firstEvent({ ...failure, ip: null }, entry));
      }
    } else if (!entry) {
      entry = this.newEntry(kind, failure.ip, false, now);
      this.entries.set(key, entry);
      this.sources++;
      this.ensureTimer();
      return this.append(this.firstEvent(failure, entry));
    }
    if (entry.suppressed === 0 && now >= entry.quietUntil) {
      entry.quietUntil = now + this.opts.windowMs;
      return this.append(this.firstEvent(entry.overflow ? { ...failure, ip: null } : failure, entry));
    }
    if (entry.suppressed === 0) entry.firstSuppressedAt = now;
    entry.suppressed++;
    entry.lastSuppressedAt = now;
    entry.lastUserAgent = failure.userAgent;
  }

  /** Writes the summaries that are due and forgets keys that have been quiet for a window. */
  async flush(now = this.opts.now()): Promise<void> {
    const writes: Promise<void>[] = [];
    for (const [key, entry] of this.entries) {
      if (now < entry.quietUntil) continue;
      if (entry.suppressed > 0) {
        writes.push(this.append(this.summaryEvent(entry)));
        entry.suppressed = 0;
        entry.quietUntil = now + this.opts.windowMs;
      } else {
        this.entries.delete(key);
        if (!entry.overflow) this.sources--;
      }
    }
    if (this.entries.size === 0) this.stop();
    await Promise.all(writes);
  }

  /** Number of failures counted but not yet written (tests, shutdown). */
  pending(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.suppressed;
    return n;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private newEntry(kind: string, ip: string | null, overflow: boolean, now: number): Entry {
    return { kind, ip, overflow, quietUntil: now + this.opts.windowMs, suppressed: 0, firstSuppressedAt: 0, lastSuppressedAt: 0, lastUserAgent: null };
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.opts.flushEveryMs);
    this.timer.unref();
  }

  private firstEvent(f: AnonymousFailure, entry: Entry): AuditEventInput {
    return {
      actor: { type: "anonymous", ip: f.ip, userAgent: f.userAgent },
      action: "auth.login",
      target: { type: "provider", id: "oidc" },
      outcome: "failure",
      reason: f.reason,
      requestId: f.requestId,
      details: { ...f.details, ...(entry.overflow ? { overflow: true } : {}) },
    };
  }

  private summaryEvent(entry: Entry): AuditEventInput {
    const from = entry.overflow ? "from sources beyond the tracked limit" : "from this address";
    return {
      actor: { type: "anonymous", ip: entry.ip, userAgent: entry.lastUserAgent },
      action: "auth.login",
      target: { type: "provider", id: "oidc" },
      outcome: "failure",
      reason: `${entry.suppressed} more failed sign-in callbacks (${entry.kind}) ${from}, counted instead of recorded one by one`,
      requestId: null,
      details: {
        error: entry.kind,
        suppressed: entry.suppressed,
        firstAt: new Date(entry.firstSuppressedAt).toISOString(),
        lastAt: new Date(entry.lastSuppressedAt).toISOString(),
        ...(entry.overflow ? { overflow: true } : {}),
      },
    };
  }

  private async append(event: AuditEventInput): Promise<void> {
    try {
      await this.write(event);
    } catch (err) {
      logger.error({ err, action: event.action }, "could not audit a failed sign-in");
    }
  }
}
