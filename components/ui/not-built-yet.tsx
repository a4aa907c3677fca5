import { Alert, Stack, Title } from "@mantine/core";

/** Pages the navigation already offers but whose issue has not landed say so plainly. */
export function NotBuiltYet({ title, what }: { title: string; what: string }) {
  return (
    <Stack>
      <Title order={2}>{title}</Title>
      <Alert color="gray" title="Not built yet" data-testid="not-built-yet">
        {what}
      </Alert>
    </Stack>
  );
}
