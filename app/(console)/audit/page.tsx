import { denyUnless } from "@/components/ui/page-guard";
import { NotBuiltYet } from "@/components/ui/not-built-yet";

export default async function AuditPage() {
  const denied = await denyUnless("audit:read", "Audit trail");
  if (denied) return denied;
  return <NotBuiltYet title="Audit trail" what="Events are already recorded (hash-chained, append-only); the audit trail viewer, search, export and chain verification are not built yet." />;
}
