import { Card, Stack, Table, Text, Title } from "@mantine/core";
import { denyUnless } from "@/components/ui/page-guard";
import { getSettingsSummary } from "@/lib/settings/queries";

export const dynamic = "force-dynamic";

export default async function SettingsPage() {
  const denied = await denyUnless("settings:read", "Settings");
  if (denied) return denied;
  const s = getSettingsSummary();
  const rows: [string, string][] = [
    ["Mode", s.mode],
    ["Database", s.database],
    ["Vault", `${s.vaultAddress} (mount ${s.transitMount}, ${s.vaultAuth} auth)`],
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
          <Table.Tbody>
            {rows.map(([k, v]) => (
              <Table.Tr key={k}>
                <Table.Th w={240}>{k}</Table.Th>
                <Table.Td>{v}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Card>
      <Card withBorder>
        <Title order={4}>Role mapping</Title>
        <Text size="sm" c="dimmed">
          IdP groups → console roles. Users in no mapped group get no access.
        </Text>
        <Table data-testid="role-mapping">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Group</Table.Th>
              <Table.Th>Role</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {s.roleMapping.map((m) => (
              <Table.Tr key={m.group}>
                <Table.Td>{m.group}</Table.Td>
                <Table.Td>{m.role}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Card>
    </Stack>
  );
}
