import { Alert, Stack, Title } from "@mantine/core";

export function Forbidden({ title, message }: { title: string; message?: string }) {
  return (
    <Stack>
      <Title order={2}>{title}</Title>
      <Alert color="red" title="Access denied" data-testid="forbidden">
        {message ?? "Your role does not allow this page. Ask an administrator if you need it."}
      </Alert>
    </Stack>
  );
}
