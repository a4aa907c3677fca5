import "server-only";
import { hostname, userInfo } from "node:os";
import type { AuditActor } from "@/lib/audit";

/**
 * Who a campaign service call acts for. Domain services never read the session: a server action passes the
 * signed-in user's audit actor, the worker and the CLI pass a service actor.
 */
export type CampaignActor = AuditActor & { requestId?: string | null };

/** The label stored as `created_by` and shown in lists. */
export function actorLabel(actor: CampaignActor): string {
  return actor.email ?? actor.userId ?? actor.type;
}

export function workerActor(workerId: string): CampaignActor {
  return { type: "service", userId: workerId, role: "campaign-worker" };
}

/** The CLI acts as the operating-system account that ran it, on this host. */
export function cliActor(): CampaignActor {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): the host name still says where the call came from.
  }
  return { type: "service", userId: `cli:${user}@${hostname()}`, role: "campaign-cli" };
}

export function defaultWorkerId(): string {
  return `worker:${hostname()}:${process.pid}`;
}
