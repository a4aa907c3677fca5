import Link from "next/link";
import { Badge, Table, TableTbody, TableTd, TableTh, TableThead, TableTr, Text } from "@mantine/core";
import type { AuditEventRowDto } from "@/lib/audit/types";
import { formatDateTime } from "@/components/wallets/format";

export const OUTCOME_COLORS: Record<string, string> = { success: "green", failure: "orange", denied: "red" };

export function actorLabel(e: Pick<AuditEventRowDto, "actorEmail" | "actorUserId" | "actorType">): string {
  return e.actorEmail ?? e.actorUserId ?? e.actorType;
}

/** One page of search results (server-rendered; text only, React escapes every value). */
export function AuditTable({ rows }: { rows: AuditEventRowDto[] }) {
  if (rows.length === 0) {
    return (
      <Text c="dimmed" data-testid="audit-empty">
        No events match this search.
      </Text>
    );
  }
  return (
    <Table data-testid="audit-table" fz="sm" striped>
      <TableThead>
        <TableTr>
          <TableTh>#</TableTh>
          <TableTh>Time (UTC)</TableTh>
          <TableTh>Actor</TableTh>
          <TableTh>Action</TableTh>
          <TableTh>Target</TableTh>
          <TableTh>Outcome</TableTh>
          <TableTh>Request</TableTh>
        </TableTr>
      </TableThead>
      <TableTbody>
        {rows.map((e) => (
          <TableTr key={e.id} data-testid="audit-row" data-event-id={e.id} data-action={e.action}>
            <TableTd>
              <Link href={`/audit/${e.id}`} prefetch={false} data-testid="audit-event-link">
                {e.seq}
              </Link>
            </TableTd>
            <TableTd title={e.occurredAt}>{formatDateTime(e.occurredAt)}</TableTd>
            <TableTd>
              {actorLabel(e)}
              {e.actorRole ? (
                <Text span size="xs" c="dimmed">
                  {" "}
                  ({e.actorRole})
                </Text>
              ) : null}
            </TableTd>
            <TableTd ff="monospace">{e.action}</TableTd>
            <TableTd>
              {e.targetType ?? "—"}
              {e.targetId ? `: ${e.targetId}` : ""}
            </TableTd>
            <TableTd>
              <Badge size="sm" variant="light" color={OUTCOME_COLORS[e.outcome] ?? "gray"}>
                {e.outcome}
              </Badge>
            </TableTd>
            <TableTd ff="monospace" title={e.requestId ?? undefined}>
              {e.requestId ? e.requestId.slice(0, 8) : "—"}
            </TableTd>
          </TableTr>
        ))}
      </TableTbody>
    </Table>
  );
}
