import Link from "next/link";
import { Alert, Badge, Card, Code, Group, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import type { AuditEventDetailDto } from "@/lib/audit/types";
import { OUTCOME_COLORS, actorLabel } from "./audit-table";

function Field({ label, value, testId, mono }: { label: string; value: string | number | null; testId?: string; mono?: boolean }) {
  return (
    <Text size="sm">
      <Text span c="dimmed" inherit>
        {label}:{" "}
      </Text>
      <Text span inherit ff={mono ? "monospace" : undefined} style={{ wordBreak: "break-all" }} data-testid={testId}>
        {value === null || value === "" ? "—" : String(value)}
      </Text>
    </Text>
  );
}

/**
 * One audit event (server-rendered). `details` are shown as JSON text inside a <pre>: React escapes it, and
 * they are the writer's redacted details (redacted again on read), so nothing the writer censored appears.
 */
export function AuditEventDetail({ d }: { d: AuditEventDetailDto }) {
  const e = d.event;
  return (
    <Stack data-testid="audit-event">
      <Group justify="space-between">
        <Title order={2}>
          Audit event <Text span inherit data-testid="audit-event-seq">#{e.seq}</Text>
        </Title>
        <Badge size="lg" variant="light" color={OUTCOME_COLORS[e.outcome] ?? "gray"} data-testid="audit-event-outcome">
          {e.outcome}
        </Badge>
      </Group>
      <Group gap="md">
        <Link href="/audit">← Audit trail</Link>
        {d.previousId ? (
          <Link href={`/audit/${d.previousId}`} prefetch={false} data-testid="audit-event-prev">
            ← #{e.seq - 1}
          </Link>
        ) : null}
        {d.nextId ? (
          <Link href={`/audit/${d.nextId}`} prefetch={false} data-testid="audit-event-next">
            #{e.seq + 1} →
          </Link>
        ) : null}
      </Group>

      <Card withBorder>
        <Title order={4}>What happened</Title>
        <SimpleGrid cols={{ base: 1, md: 2 }} spacing={4} mt="xs">
          <Field label="Action" value={e.action} testId="audit-event-action" mono />
          <Field label="Time (UTC)" value={e.occurredAt} mono />
          <Field label="Actor" value={actorLabel(e)} testId="audit-event-actor" />
          <Field label="Actor type / role" value={`${e.actorType}${e.actorRole ? ` / ${e.actorRole}` : ""}`} />
          <Field label="Actor user id" value={e.actorUserId} mono />
          <Field label="Client address" value={e.actorIp} mono />
          <Field label="User agent" value={e.actorUserAgent} />
          <Field label="Target" value={e.targetType ? `${e.targetType}${e.targetId ? `: ${e.targetId}` : ""}` : null} testId="audit-event-target" />
          <Field label="Reason" value={e.reason} />
          <Field label="Request id" value={e.requestId} mono testId="audit-event-request-id" />
          <Field label="Vault request id" value={e.vaultRequestId} mono />
        </SimpleGrid>
      </Card>

      <Card withBorder>
        <Title order={4}>Details (redacted)</Title>
        <Code block mt="xs" data-testid="audit-event-details">
          {JSON.stringify(e.details, null, 2)}
        </Code>
      </Card>

      <Card withBorder>
        <Title order={4}>Chain position</Title>
        <Stack gap={4} mt="xs">
          <Field label="Sequence number" value={e.seq} mono />
          <Field label="Previous hash" value={e.prevHash} mono testId="audit-event-prev-hash" />
          <Field label="Hash" value={e.hash} mono testId="audit-event-hash" />
          <Field
            label="Checkpoint coverage"
            value={d.checkpoint ? `covered by the checkpoint at #${d.checkpoint.seq} (${d.checkpoint.createdAt})` : "no checkpoint covers this event yet"}
            testId="audit-event-checkpoint"
          />
        </Stack>
        {d.verification.state === "not_verified" ? (
          <Alert color="gray" mt="sm" title="Not verified yet" data-testid="audit-event-verification">
            This page shows the stored chain position; it has not recomputed the chain or checked checkpoint signatures for this event.
          </Alert>
        ) : null}
      </Card>
    </Stack>
  );
}
