import "server-only";
import { lte, or } from "drizzle-orm";
import { getConfig } from "@/lib/config/env";
import { getDb, type Db } from "@/lib/db";
import { sessions } from "@/lib/db/schema/auth";
import { logger } from "@/lib/log";
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
const SLOT = Symbol.for("keyshare-console.session-sweeper");
const holder = globalThis as unknown as { [SLOT]?: NodeJS.Timeout };

/** Sweeps shortly after start and every 15 minutes. Idempotent (a dev-mode reload keeps the first schedule). */
export function startSessionSweeper(): void {
  if (holder[SLOT]) return;
  const { auth } = getConfig();
  const limits: SessionLimits = { maxAgeSeconds: auth.sessionMaxAgeSeconds, idleTimeoutSeconds: auth.sessionIdleTimeoutSeconds };
  const tick = async () => {
    try {
      const n = await sweepDeadSessions(await getDb(), limits);
      if (n > 0) logger.info({ deleted: n }, "expired sessions deleted");
    } catch (err) {
      logger.error({ err }, "session sweep failed; retrying next interval");
    } finally {
      holder[SLOT] = setTimeout(() => void tick(), SWEEP_INTERVAL_MS);
      holder[SLOT].unref();
    }
  };
  holder[SLOT] = setTimeout(() => void tick(), 30_000);
  holder[SLOT].unref();
}
