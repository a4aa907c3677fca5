import { Anchor, Stack, Text, Title } from "@mantine/core";

/**
 * The 404 page for every unknown path and every `notFound()`. Next's built-in one ships an inline <style>
 * element without the request's nonce, which the Content-Security-Policy (rightly) blocks.
 */
export default function NotFound() {
  return (
    <Stack maw={460} mx="auto" mt={64} p="md" data-testid="not-found">
      <Title order={1}>Not found</Title>
      <Text>There is nothing at this address, or it no longer exists.</Text>
      <Anchor href="/">Back to the overview</Anchor>
    </Stack>
  );
}
