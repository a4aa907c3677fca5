import Link from "next/link";
import { Alert, Stack, Title } from "@mantine/core";
import { auditActorFor, getRequestContext, requireUser } from "@/lib/auth";
import { getDb } from "@/lib/db";
import { loadAuditEventView } from "@/lib/audit/search-view";
import { denyUnless } from "@/components/ui/page-guard";
import { AuditEventDetail } from "@/components/audit/audit-event";

export const dynamic = "force-dynamic";

export default async function AuditEventPage({ params }: { params: Promise<{ eventId: string }> }) {
  const denied = await denyUnless("audit:read", "Audit event");
  if (denied) return denied;
  const user = await requireUser();
  const req = await getRequestContext();
  const { eventId } = await params;
  const v = await loadAuditEventView(await getDb(), eventId, { actor: auditActorFor(user, req), requestId: req.requestId });
  if (!v.detail) {
    return (
      <Stack>
        <Title order={2}>Audit event</Title>
        <Alert color="orange" title="Not shown" data-testid="audit-event-not-found">
          {v.error} <Link href="/audit">Back to the audit trail</Link>
        </Alert>
      </Stack>
    );
  }
  return <AuditEventDetail d={v.detail} />;
}
