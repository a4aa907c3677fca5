import { Table, TableTbody, TableTd, TableTh, TableThead, TableTr, Text } from "@mantine/core";
import type { InventoryFlags, InventoryRowDto } from "@/lib/inventory/types";
import { BACKUP_COLORS, BACKUP_LABELS, ROW_FLAG_LABELS, ageDays, formatAgeDays, formatDateTime, shortAddress } from "./format";

/**
 * The Wallets table. Server-rendered from DTOs (no client JavaScript): named Mantine table parts, plain
 * links. `now` is passed in so the server render and any re-render agree on ages.
 *
 * Cells hold plain elements, not Mantine components: a page has up to 200 rows × 12 cells, and every Mantine
 * component resolves props and styles per instance — Badge/Group/Text in the cells cost ~4× the whole table
 * (bench/README.md, "Inventory"). `Pill` draws Mantine's light badge from its CSS variables instead.
 */
function Pill({ color, children, title, testId, outline }: { color: string; children: React.ReactNode; title?: string; testId?: string; outline?: boolean }) {
  return (
    <span
      title={title}
      data-testid={testId}
      style={{
        display: "inline-block",
        padding: "0 6px",
        marginRight: 4,
        borderRadius: 999,
        fontSize: 11,
        fontWeight: 600,
        lineHeight: "18px",
        whiteSpace: "nowrap",
        color: `var(--mantine-color-${color}-light-color)`,
        background: outline ? "transparent" : `var(--mantine-color-${color}-light)`,
        border: outline ? `1px solid var(--mantine-color-${color}-outline)` : undefined,
      }}
    >
      {children}
    </span>
  );
}

const FLAG_KEYS = Object.keys(ROW_FLAG_LABELS) as (keyof InventoryFlags)[];

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
                <a href={`/wallets/${encodeURIComponent(r.walletId)}`} data-testid="wallet-link">
                  {r.walletId.length > 14 ? `${r.walletId.slice(0, 13)}…` : r.walletId}
                </a>
              </TableTd>
              <TableTd title={r.accountAddress}>
                <code>{shortAddress(r.accountAddress)}</code>
              </TableTd>
              <TableTd>{r.chainName ?? "—"}</TableTd>
              <TableTd>{r.thresholdSignatureScheme === "TWO_OF_TWO" ? "2-of-2" : r.thresholdSignatureScheme === "TWO_OF_THREE" ? "2-of-3" : (r.thresholdSignatureScheme ?? "—")}</TableTd>
              <TableTd>{r.environment ?? "—"}</TableTd>
              <TableTd>
                {r.encryptionKeyId ? (
                  <span style={{ whiteSpace: "nowrap" }}>
                    {r.encryptionKeyId} v{r.keyVersion ?? "?"}{" "}
                    {r.behindLatest ? (
                      <Pill color="orange" title={`latest is v${r.latestVersion}`}>
                        behind
                      </Pill>
                    ) : null}
                  </span>
                ) : (
                  "—"
                )}
              </TableTd>
              <TableTd>{r.layout ?? "—"}</TableTd>
              <TableTd>
                <Pill color={BACKUP_COLORS[r.backupStatus]}>{BACKUP_LABELS[r.backupStatus]}</Pill>
              </TableTd>
              <TableTd>{formatDateTime(r.createdAt)}</TableTd>
              <TableTd>{r.lastAccessedAt ? formatDateTime(r.lastAccessedAt) : "never"}</TableTd>
              <TableTd>{r.encryptionKeyId ? formatAgeDays(ageDays(r.wrappedAt, now)) : "—"}</TableTd>
              <TableTd>
                {FLAG_KEYS.filter((f) => r.flags[f]).map((f) => (
                  <Pill key={f} color="red" outline testId={`flag-${f}`}>
                    {ROW_FLAG_LABELS[f]}
                  </Pill>
                ))}
              </TableTd>
            </TableTr>
          ))
        )}
      </TableTbody>
    </Table>
  );
}
