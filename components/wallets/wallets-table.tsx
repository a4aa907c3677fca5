import Link from "next/link";
import { Badge, Group, Table, TableTbody, TableTd, TableTh, TableThead, TableTr, Text } from "@mantine/core";
import type { InventoryFlags, InventoryRowDto } from "@/lib/inventory/types";
import { BACKUP_COLORS, BACKUP_LABELS, ROW_FLAG_LABELS, ageDays, formatAgeDays, formatDateTime, shortAddress } from "./format";

/**
 * The Wallets table. Server-rendered from DTOs (no client JavaScript): named Mantine table parts, plain
 * links. `now` is passed in so the server render and any re-render agree on ages.
 */
export function WalletsTable({ rows, now }: { rows: InventoryRowDto[]; now: number }) {
  return (
    <Table striped highlightOnHover data-testid="wallets-table" fz="sm">
      <TableThead>
        <TableTr>
          <TableTh>Wallet</TableTh>
          <TableTh>Address</TableTh>
          <TableTh>Chain</TableTh>
          <TableTh>Scheme</TableTh>
          <TableTh>Env</TableTh>
          <TableTh>Transit key</TableTh>
          <TableTh>Layout</TableTh>
          <TableTh>Backup</TableTh>
          <TableTh>Created</TableTh>
          <TableTh>Last access</TableTh>
          <TableTh>Wrap age</TableTh>
          <TableTh>Flags</TableTh>
        </TableTr>
      </TableThead>
      <TableTbody>
        {rows.length === 0 ? (
          <TableTr>
            <TableTd colSpan={12}>
              <Text c="dimmed" data-testid="wallets-empty">
                No wallets match these filters.
              </Text>
            </TableTd>
          </TableTr>
        ) : (
          rows.map((r) => (
            <TableTr key={r.id} data-testid="wallet-row" data-wallet-id={r.walletId}>
              <TableTd>
                <Link href={`/wallets/${encodeURIComponent(r.walletId)}`} data-testid="wallet-link">
                  {r.walletId.length > 14 ? `${r.walletId.slice(0, 13)}…` : r.walletId}
                </Link>
              </TableTd>
              <TableTd title={r.accountAddress} ff="monospace">
                {shortAddress(r.accountAddress)}
              </TableTd>
              <TableTd>{r.chainName ?? "—"}</TableTd>
              <TableTd>{r.thresholdSignatureScheme === "TWO_OF_TWO" ? "2-of-2" : r.thresholdSignatureScheme === "TWO_OF_THREE" ? "2-of-3" : (r.thresholdSignatureScheme ?? "—")}</TableTd>
              <TableTd>{r.environment ?? "—"}</TableTd>
              <TableTd>
                {r.encryptionKeyId ? (
                  <Group gap={4} wrap="nowrap">
                    <Text size="sm">
                      {r.encryptionKeyId} v{r.keyVersion ?? "?"}
                    </Text>
                    {r.behindLatest ? (
                      <Badge size="xs" color="orange" variant="light" title={`latest is v${r.latestVersion}`}>
                        behind
                      </Badge>
                    ) : null}
                  </Group>
                ) : (
                  "—"
                )}
              </TableTd>
              <TableTd>{r.layout ?? "—"}</TableTd>
              <TableTd>
                <Badge size="sm" variant="light" color={BACKUP_COLORS[r.backupStatus]}>
                  {BACKUP_LABELS[r.backupStatus]}
                </Badge>
              </TableTd>
              <TableTd>{formatDateTime(r.createdAt)}</TableTd>
              <TableTd>{r.lastAccessedAt ? formatDateTime(r.lastAccessedAt) : "never"}</TableTd>
              <TableTd>{r.encryptionKeyId ? formatAgeDays(ageDays(r.wrappedAt, now)) : "—"}</TableTd>
              <TableTd>
                <Group gap={4}>
                  {(Object.keys(ROW_FLAG_LABELS) as (keyof InventoryFlags)[])
                    .filter((f) => r.flags[f])
                    .map((f) => (
                      <Badge key={f} size="xs" color="red" variant="outline" data-testid={`flag-${f}`}>
                        {ROW_FLAG_LABELS[f]}
                      </Badge>
                    ))}
                </Group>
              </TableTd>
            </TableTr>
          ))
        )}
      </TableTbody>
    </Table>
  );
}
