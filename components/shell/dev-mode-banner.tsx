import { Box, Text } from "@mantine/core";

export function DevModeBanner() {
  return (
    <Box data-testid="dev-mode-banner" bg="orange.6" c="white" py={4} px="md" role="status">
      <Text size="sm" fw={700} ta="center">
        DEV MODE — embedded database, dev Transit server and demo identity provider. Not for real key shares.
      </Text>
    </Box>
  );
}
