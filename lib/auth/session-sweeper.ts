import "server-only";
import { lte, or } from "drizzle-orm";
import type { Db } from "@/lib/db";
import { sessions } from "@/lib/db/schema/auth";
import { defineJob, type IntervalJob } from "@/lib/jobs/define";
import type { SessionLimits } from "./session-policy";

/**
 * Deletes session rows that can no longer be used: past `expires`, idle longer than the idle limit, or older
 * than the absolute limit (the same three rules `evaluateSession` applies when a token is presented). Without
 * this, a session nobody presents again — a closed laptop, a user who never signs out — stays in the table
 * until its row is read. Not audited: nothing is decided here that the rules had not already decided; a
 * revocation by an admin is (`session.revoke`).
 *
 * Every instance may run it (the DELETE is idempotent); it is cheap — `sessions_expires_idx` serves the first rule.
 */
export async function sweepDeadSessions(db: Db, limits: SessionLimits, now = Date.now()): Promise<number> {
  const deleted = await db
    .delete(sessions)
    .where(
      or(
        lte(sessions.expires, new Date(now)),
        lte(sessions.lastActiveAt, new Date(now - limits.idleTimeoutSeconds * 1000)),
        lte(sessions.createdAt, new Date(now - limits.maxAgeSeconds * 1000)),
      ),
    )
    .returning({ id: sessions.id });
  return deleted.length;
}

const SWEEP_INTERVAL_MS = 15 * 60_000;

/** Sweeps 30 s after start and every 15 minutes (lib/jobs). Not single-instance: see above. */
export function sessionSweeperJob(limits: SessionLimits): IntervalJob {
  return defineJob({
    name: "session-sweeper",
    kind: "interval",
    intervalMs: SWEEP_INTERVAL_MS,
    initialDelayMs: 30_000,
    async run({ db, logger }) {
      const n = await sweepDeadSessions(db, limits);
      if (n > 0) logger.info({ deleted: n }, "expired sessions deleted");
    },
  });
}
