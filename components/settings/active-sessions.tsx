"use client";

import { useState, useTransition } from "react";
import { Alert, Badge, Button, Card, Table, Text, Title } from "@mantine/core";
import type { ActiveSessionDto } from "@/lib/auth";
import { followReauth } from "@/lib/auth/reauth-client";
import { revokeSessionAction } from "@/app/(console)/settings/actions";

export function ActiveSessions({ sessions }: { sessions: ActiveSessionDto[] }) {
  const [pending, startTransition] = useTransition();
  const [error, setError] = useState<string | null>(null);
  const [revoked, setRevoked] = useState<ReadonlySet<string>>(new Set());

  const revoke = (sessionId: string) =>
    startTransition(async () => {
      setError(null);
      const result = await revokeSessionAction({ sessionId });
      if (result.ok) setRevoked((prev) => new Set(prev).add(sessionId));
      else if (!followReauth(result)) setError(result.error);
    });

  return (
    <Card withBorder>
      <Title order={4}>Active sessions</Title>
      <Text size="sm" c="dimmed">
        Revoking ends a session on the server at once; the person must sign in again. It asks you to confirm your
        own sign-in first when that was more than a few minutes ago.
      </Text>
      {error ? (
        <Alert color="red" data-testid="session-revoke-error">
          {error}
        </Alert>
      ) : null}
      <Table data-testid="active-sessions">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>User</Table.Th>
            <Table.Th>Role</Table.Th>
            <Table.Th>Signed in</Table.Th>
            <Table.Th>Last active</Table.Th>
            <Table.Th>Address</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {sessions
            .filter((s) => !revoked.has(s.id))
            .map((s) => (
              <Table.Tr key={s.id} data-testid="session-row" data-email={s.userEmail} data-session-id={s.id}>
                <Table.Td>
                  {s.userName} <Text span size="xs" c="dimmed">{s.userEmail}</Text>{" "}
                  {s.current ? <Badge size="xs">this session</Badge> : null}
                </Table.Td>
                <Table.Td>{s.role ?? "—"}</Table.Td>
                <Table.Td>{new Date(s.createdAt).toLocaleString("en-GB", { timeZone: "UTC" })} UTC</Table.Td>
                <Table.Td>{new Date(s.lastActiveAt).toLocaleString("en-GB", { timeZone: "UTC" })} UTC</Table.Td>
                <Table.Td>{s.ipAddress ?? "—"}</Table.Td>
                <Table.Td>
                  <Button size="xs" color="red" variant="light" loading={pending} onClick={() => revoke(s.id)} data-testid="revoke-session">
                    Revoke
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
        </Table.Tbody>
      </Table>
    </Card>
  );
}
