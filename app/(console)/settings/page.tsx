import { Card, Stack, Table, TableTbody, TableTd, TableTh, TableThead, TableTr, Text, Title } from "@mantine/core";
import { can, listActiveSessions, requireUser } from "@/lib/auth";
import { denyUnless } from "@/components/ui/page-guard";
import { ActiveSessions } from "@/components/settings/active-sessions";
import { getSettingsSummary } from "@/lib/settings/queries";

export const dynamic = "force-dynamic";

export default async function SettingsPage() {
  const denied = await denyUnless("settings:read", "Settings");
  if (denied) return denied;
  const user = await requireUser();
  const s = getSettingsSummary();
  // listActiveSessions authorises itself; only ask when the role may see them.
  const sessions = can(user.role, "sessions:manage") ? await listActiveSessions() : null;
  const rows: [string, string][] = [
    ["Mode", s.mode],
    ["Database", s.database],
    ["Vault", `${s.vaultAddress} (mount ${s.transitMount}, ${s.vaultAuth} auth)`],
    ["Vault TLS", s.vaultTls],
    ["Identity provider", s.identityProvider],
    ["Groups claim", s.groupsClaim],
    ["Session lifetime", `${s.sessionMaxAgeMinutes} min absolute, ${s.sessionIdleTimeoutMinutes} min idle`],
    ["Key version maximum age", `${s.keyMaxAgeDays} days`],
  ];
  return (
    <Stack>
      <Title order={2}>Settings</Title>
      <Card withBorder data-testid="settings-summary">
        <Table>
          <TableTbody>
            {rows.map(([k, v]) => (
              <TableTr key={k}>
                <TableTh w={240}>{k}</TableTh>
                <TableTd>{v}</TableTd>
              </TableTr>
            ))}
          </TableTbody>
        </Table>
      </Card>
      <Card withBorder>
        <Title order={4}>Role mapping</Title>
        <Text size="sm" c="dimmed">
          IdP groups → console roles. Users in no mapped group get no access.
        </Text>
        <Table data-testid="role-mapping">
          <TableThead>
            <TableTr>
              <TableTh>Group</TableTh>
              <TableTh>Role</TableTh>
            </TableTr>
          </TableThead>
          <TableTbody>
            {s.roleMapping.map((m) => (
              <TableTr key={m.group}>
                <TableTd>{m.group}</TableTd>
                <TableTd>{m.role}</TableTd>
              </TableTr>
            ))}
          </TableTbody>
        </Table>
      </Card>
      {s.keyEnvironmentMapping.length > 0 ? (
        <Card withBorder>
          <Title order={4}>Key environments</Title>
          <Table data-testid="key-environment-mapping">
            <TableTbody>
              {s.keyEnvironmentMapping.map((m) => (
                <TableTr key={m.key}>
                  <TableTd>{m.key}</TableTd>
                  <TableTd>{m.environment}</TableTd>
                </TableTr>
              ))}
            </TableTbody>
          </Table>
        </Card>
      ) : null}
      {sessions ? <ActiveSessions sessions={sessions} /> : null}
    </Stack>
  );
}
