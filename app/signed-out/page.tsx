import { Anchor, Stack, Text, Title } from "@mantine/core";

export const dynamic = "force-dynamic";

export default function SignedOutPage() {
  return (
    <Stack maw={460} mx="auto" mt={64} p="md" data-testid="signed-out">
      <Title order={1}>Signed out</Title>
      <Text>Your console session has ended.</Text>
      <Anchor href="/login">Sign in again</Anchor>
    </Stack>
  );
}
