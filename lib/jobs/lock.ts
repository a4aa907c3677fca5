import "server-only";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { rowsOf, type Db } from "@/lib/db/client";

/**
 * Single-instance locks for background jobs.
 *
 * PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) on a dedicated one-connection client, so
 * lock and unlock run in the same session — a pooled client could unlock on another connection. If the
 * process dies its connection closes and PostgreSQL releases the lock, so another process takes over. While a
 * run holds the lock, the lock's session is checked every `checkIntervalMs`: when the connection died (or was
 * terminated) the run's `lost` signal aborts, because another process may already be running the same job.
 *
 * PGlite is one process with one session, where advisory locks are re-entrant: there an in-process flag per
 * database and lock id is what keeps two runs apart; the session lock is taken as well.
 */
export interface AdvisoryLock {
  /**
   * Runs `fn` while holding the lock; resolves `{ locked: false }` without running it when the lock is taken
   * (elsewhere, or by a run of this same lock object). `lost` aborts when the lock can no longer be trusted.
   */
  run<T>(fn: (lost: AbortSignal) => Promise<T>): Promise<{ locked: true; value: T } | { locked: false }>;
  /** Ends the lock's connection; `force` does not wait for a query in flight (a job still running at shutdown). */
  close(options?: { force?: boolean }): Promise<void>;
}

export class LockLostError extends Error {
  constructor() {
    super("advisory lock lost: its database session ended");
    this.name = "LockLostError";
  }
}

/** pg_locks shows a bigint advisory key as classid (high 32 bits) and objid (low 32 bits), objsubid 1. */
function lockKeyParts(lockId: bigint): { classid: string; objid: string } {
  return { classid: ((lockId >> 32n) & 0xffffffffn).toString(), objid: (lockId & 0xffffffffn).toString() };
}

export function postgresAdvisoryLock(url: string, lockId: bigint, options: { checkIntervalMs?: number } = {}): AdvisoryLock {
  const checkIntervalMs = options.checkIntervalMs ?? 5_000;
  const client = postgres(url, {
    max: 1,
    // Never closed behind our back while holding the lock: no idle timeout, no maximum lifetime. A reconnect
    // after a network failure is a new session without the lock, which the check below notices.
    idle_timeout: 0,
    max_lifetime: 0,
    onnotice: () => {},
    connection: { application_name: "keyshare-console-lock" },
  });
  const id = lockId.toString();
  const { classid, objid } = lockKeyParts(lockId);
  let busy = false;

  const stillHeld = async (): Promise<boolean> => {
    const [row] = await client<{ held: boolean }[]>`
      select exists (
        select 1 from pg_locks
        where locktype = 'advisory' and pid = pg_backend_pid() and granted
          and classid = ${classid}::oid and objid = ${objid}::oid and objsubid = 1
      ) as held`;
    return row?.held === true;
  };

  return {
    async run(fn) {
      if (busy) return { locked: false };
      busy = true;
      try {
        const [row] = await client<{ locked: boolean }[]>`select pg_try_advisory_lock(${id}::bigint) as locked`;
        if (!row?.locked) return { locked: false };
        const lost = new AbortController();
        let checking = false;
        const timer = setInterval(() => {
          if (checking || lost.signal.aborted) return;
          checking = true;
          stillHeld()
            .then(
              (held) => held || lost.abort(new LockLostError()),
              () => lost.abort(new LockLostError()),
            )
            .finally(() => (checking = false));
        }, checkIntervalMs);
        timer.unref();
        try {
          return { locked: true, value: await fn(lost.signal) };
        } finally {
          clearInterval(timer);
          // After a lost session this unlocks nothing (PostgreSQL only warns); otherwise it releases the lock.
          await client`select pg_advisory_unlock(${id}::bigint)`.catch(() => undefined);
        }
      } finally {
        busy = false;
      }
    },
    close: (opts = {}) => client.end({ timeout: opts.force ? 0 : 5 }),
  };
}

const SESSION_LOCKS = Symbol.for("keyshare-console.jobs.session-locks");
const sessionHolder = globalThis as unknown as { [SESSION_LOCKS]?: WeakMap<object, Set<string>> };

/** The lock for PGlite (one process, one session): in-process flag per database and lock id, plus the session lock. */
export function sessionAdvisoryLock(db: Db, lockId: bigint): AdvisoryLock {
  const id = lockId.toString();
  return {
    async run(fn) {
      const held = (sessionHolder[SESSION_LOCKS] ??= new WeakMap());
      let ids = held.get(db);
      if (!ids) held.set(db, (ids = new Set()));
      if (ids.has(id)) return { locked: false };
      ids.add(id);
      try {
        const [row] = rowsOf<{ locked: boolean }>(await db.execute(sql`select pg_try_advisory_lock(${id}::bigint) as locked`));
        if (!row?.locked) return { locked: false };
        try {
          // One session that lives as long as the process: it cannot be lost while the process runs.
          return { locked: true, value: await fn(new AbortController().signal) };
        } finally {
          await db.execute(sql`select pg_advisory_unlock(${id}::bigint)`).catch(() => undefined);
        }
      } finally {
        ids.delete(id);
      }
    },
    close: async () => {},
  };
}
