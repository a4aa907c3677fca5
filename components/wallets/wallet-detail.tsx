import Link from "next/link";
import {
  Alert,
  Badge,
  Card,
  Group,
  List,
  ListItem,
  SimpleGrid,
  Stack,
  Table,
  TableTbody,
  TableTd,
  TableTh,
  TableThead,
  TableTr,
  Text,
  Title,
} from "@mantine/core";
import type { WalletDetailDto } from "@/lib/inventory/types";
import { walletAuditHref } from "@/components/audit/links";
import { BACKUP_COLORS, BACKUP_LABELS, INTEGRITY_FLAG_TEXT, formatAgeDays, formatDateTime } from "./format";

/**
 * Wallet detail (server-rendered from the DTO): properties, backup posture, share records, flags, and — for
 * roles that may read the audit trail (the loader leaves `auditEvents` null otherwise) — its audit events.
 */
export function WalletDetail({ d }: { d: WalletDetailDto }) {
  return (
    <Stack data-testid="wallet-detail">
      <Group justify="space-between">
        <Title order={2}>
          Wallet <Text span ff="monospace" inherit data-testid="wallet-detail-id">{d.walletId}</Text>
        </Title>
        <Badge size="lg" variant="light" color={BACKUP_COLORS[d.backupStatus]} data-testid="wallet-backup-status">
          {BACKUP_LABELS[d.backupStatus]}
        </Badge>
      </Group>
      <Link href="/wallets">← All wallets</Link>

      {d.flags.length > 0 ? (
        <Alert color="red" title="Integrity" data-testid="wallet-flags">
          <List size="sm">
            {d.flags.map((f) => (
              <ListItem key={f} data-testid={`wallet-flag-${f}`}>
                {INTEGRITY_FLAG_TEXT[f]}
              </ListItem>
            ))}
          </List>
        </Alert>
      ) : (
        <Alert color="green" title="Integrity" data-testid="wallet-flags-ok">
          No integrity problems found.
        </Alert>
      )}
      {d.vaultUnavailable ? (
        <Alert color="orange" data-testid="vault-unavailable">
          Vault could not be reached: whether records are behind the latest key version is not shown.
        </Alert>
      ) : null}

      <Card withBorder>
        <Title order={4}>WalletProperties</Title>
        {d.properties.length === 0 ? (
          <Text c="dimmed" data-testid="wallet-no-properties">
            None cached for this wallet.
          </Text>
        ) : (
          d.properties.map((p) => (
            <SimpleGrid key={p.accountAddress} cols={{ base: 1, md: 2 }} spacing={4} mt="xs" data-testid="wallet-properties">
              <Text size="sm">Address: <Text span ff="monospace" inherit>{p.accountAddress}</Text></Text>
              <Text size="sm">Chain: {p.chainName}</Text>
              <Text size="sm">Threshold scheme: {p.thresholdSignatureScheme}</Text>
              <Text size="sm">Derivation path: {p.derivationPath ?? "—"}</Text>
              <Text size="sm">Backup info present: {p.hasBackupInfo ? "yes" : "no"}</Text>
              <Text size="sm">Password-encrypted: {p.passwordEncrypted === null ? "—" : p.passwordEncrypted ? "yes" : "no"}</Text>
              <Text size="sm">Backed up to: {p.backupLocations.length > 0 ? p.backupLocations.join(", ") : "nowhere"}</Text>
              <Text size="sm">Source: {p.source}</Text>
              <Text size="sm">Cached since: {formatDateTime(p.createdAt)}</Text>
              <Text size="sm">Updated: {formatDateTime(p.updatedAt)}</Text>
            </SimpleGrid>
          ))
        )}
      </Card>

      <Card withBorder>
        <Title order={4}>Share records</Title>
        {d.shares.length === 0 ? (
          <Text c="dimmed" data-testid="wallet-no-shares">
            No share record is stored for this wallet.
          </Text>
        ) : (
          <Table data-testid="wallet-shares" fz="sm">
            <TableThead>
              <TableTr>
                <TableTh>Record</TableTh>
                <TableTh>Transit key</TableTh>
                <TableTh>Version</TableTh>
                <TableTh>Fingerprint</TableTh>
                <TableTh>Layout</TableTh>
                <TableTh>Env</TableTh>
                <TableTh>Wrap age</TableTh>
                <TableTh>Created</TableTh>
                <TableTh>Last accessed</TableTh>
                <TableTh>Accesses</TableTh>
              </TableTr>
            </TableThead>
            <TableTbody>
              {d.shares.map((s) => (
                <TableTr key={s.id} data-testid="wallet-share">
                  <TableTd ff="monospace">{s.id.slice(0, 8)}</TableTd>
                  <TableTd>
                    <Link href={`/keys/${encodeURIComponent(s.encryptionKeyId)}`}>{s.encryptionKeyId}</Link>
                  </TableTd>
                  <TableTd>
                    v{s.keyVersion ?? "?"}
                    {s.latestVersion !== null ? ` / latest v${s.latestVersion}` : ""}
                    {s.behindLatest ? (
                      <Badge ml={4} size="xs" color="orange" variant="light">
                        behind
                      </Badge>
                    ) : null}
                  </TableTd>
                  <TableTd ff="monospace" data-testid="share-fingerprint">{s.fingerprint ?? "—"}</TableTd>
                  <TableTd>{s.layout ?? "unknown"}</TableTd>
                  <TableTd>{s.environment ?? "—"}</TableTd>
                  <TableTd title={s.lastRewrappedAt ? `re-wrapped ${formatDateTime(s.lastRewrappedAt)}` : "never re-wrapped"}>
                    {formatAgeDays(s.wrapAgeDays)}
                  </TableTd>
                  <TableTd>{formatDateTime(s.createdAt)}</TableTd>
                  <TableTd>{s.lastAccessedAt ? formatDateTime(s.lastAccessedAt) : "never"}</TableTd>
                  <TableTd>{s.accessCount ?? 0}</TableTd>
                </TableTr>
              ))}
            </TableTbody>
          </Table>
        )}
      </Card>

      {d.auditEvents !== null ? (
        <Card withBorder data-testid="wallet-audit-card">
          <Group justify="space-between">
            <Title order={4}>Audit events</Title>
            <Link href={walletAuditHref(d.walletId)} prefetch={false} data-testid="wallet-audit-link">
              All events for this wallet →
            </Link>
          </Group>
          {d.auditEvents.length === 0 ? (
            <Text c="dimmed" data-testid="wallet-no-audit">
              No audit events name this wallet.
            </Text>
          ) : (
            <Table data-testid="wallet-audit" fz="sm">
              <TableThead>
                <TableTr>
                  <TableTh>#</TableTh>
                  <TableTh>Time</TableTh>
                  <TableTh>Action</TableTh>
                  <TableTh>Outcome</TableTh>
                  <TableTh>Actor</TableTh>
                  <TableTh>Target</TableTh>
                </TableTr>
              </TableThead>
              <TableTbody>
                {d.auditEvents.map((e) => (
                  <TableTr key={e.seq}>
                    <TableTd>{e.seq}</TableTd>
                    <TableTd>{formatDateTime(e.occurredAt)}</TableTd>
                    <TableTd>{e.action}</TableTd>
                    <TableTd>{e.outcome}</TableTd>
                    <TableTd>{e.actor}</TableTd>
                    <TableTd>
                      {e.targetType}
                      {e.targetId ? `: ${e.targetId}` : ""}
                    </TableTd>
                  </TableTr>
                ))}
              </TableTbody>
            </Table>
          )}
        </Card>
      ) : null}
    </Stack>
  );
}
