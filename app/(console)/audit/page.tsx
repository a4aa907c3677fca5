import Link from "next/link";
import { Alert, Button, Group, Stack, Text, Title } from "@mantine/core";
import { auditActorFor, can, getRequestContext, requireUser } from "@/lib/auth";
import { getDb } from "@/lib/db";
import type { RawParams } from "@/lib/audit/search-params";
import { loadAuditSearchView } from "@/lib/audit/search-view";
import { denyUnless } from "@/components/ui/page-guard";
import { AuditFilters, type AuditFilterValues } from "@/components/audit/audit-filters";
import { AuditTable } from "@/components/audit/audit-table";

export const dynamic = "force-dynamic";

function rawValues(raw: RawParams): AuditFilterValues {
  const out: Record<string, string> = {};
  for (const k of ["actor", "group", "action", "targetType", "targetId", "outcome", "from", "to", "requestId", "vaultRequestId", "limit"]) {
    const v = raw[k];
    const s = Array.isArray(v) ? v[0] : v;
    if (typeof s === "string") out[k] = s.slice(0, 320);
  }
  return out;
}

export default async function AuditPage({ searchParams }: { searchParams: Promise<RawParams> }) {
  const denied = await denyUnless("audit:read", "Audit trail");
  if (denied) return denied;
  const user = await requireUser();
  const req = await getRequestContext();
  const raw = await searchParams;
  const v = await loadAuditSearchView(await getDb(), raw, { actor: auditActorFor(user, req), requestId: req.requestId });
  const q = v.query;
  const values: AuditFilterValues = q ? { ...q.filters, limit: String(q.limit) } : rawValues(raw);
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Audit trail</Title>
        {can(user.role, "audit:export") && q ? (
          // Plain links: the route handler authorises, audits and streams the file.
          <Group gap="xs">
            <Button component="a" href={`/api/audit/export?${new URLSearchParams([["format", "csv"], ...new URLSearchParams(v.exportQs)]).toString()}`} variant="default" size="xs" data-testid="audit-export-csv">
              Export CSV
            </Button>
            <Button component="a" href={`/api/audit/export?${new URLSearchParams([["format", "jsonl"], ...new URLSearchParams(v.exportQs)]).toString()}`} variant="default" size="xs" data-testid="audit-export-jsonl">
              Export JSONL
            </Button>
          </Group>
        ) : null}
      </Group>
      <Text size="sm" c="dimmed">
        Newest first. Every search, event view and export is itself recorded in the trail.
      </Text>
      <AuditFilters values={values} />
      {v.error ? (
        <Alert color="orange" title="Cannot show this search" data-testid="audit-error">
          {v.error} <Link href="/audit">Reset filters</Link>
        </Alert>
      ) : null}
      {v.page ? <AuditTable rows={v.page.rows} /> : null}
      <Group justify="space-between">
        <Text size="sm" c="dimmed" data-testid="audit-page-info">
          {v.page ? `${v.page.rows.length} shown${q?.cursor ? " (continued)" : ""}` : ""}
        </Text>
        <Group gap="md">
          {v.firstQs !== null ? (
            <Link href={`/audit?${v.firstQs}`} prefetch={false} data-testid="audit-first">
              ⟲ Newest
            </Link>
          ) : null}
          {v.prevQs !== null ? (
            <Link href={`/audit?${v.prevQs}`} prefetch={false} data-testid="audit-prev">
              ← Newer
            </Link>
          ) : null}
          {v.nextQs !== null ? (
            <Link href={`/audit?${v.nextQs}`} prefetch={false} data-testid="audit-next">
              Older →
            </Link>
          ) : null}
        </Group>
      </Group>
    </Stack>
  );
}
