import { Alert, Button, Stack, Text, Title } from "@mantine/core";
import { signOutAction } from "@/lib/auth";

export const dynamic = "force-dynamic";

/**
 * Where the sign-in flow sends someone whose IdP groups map to no console role. They have no console
 * session; signing out here ends the IdP session so another account can be used.
 */
export default function NoAccessPage() {
  return (
    <Stack maw={520} mx="auto" mt={64} p="md">
      <Title order={1}>No access</Title>
      <Alert color="red" title="Your account has no role in Keyshare Console" data-testid="no-access" role="alert">
        You signed in successfully, but none of your identity provider groups is mapped to a console role, so
        you cannot use the console. Ask an administrator to add you to one of the console&apos;s groups. This
        attempt has been recorded.
      </Alert>
      <Text size="sm" c="dimmed">
        To use another account, sign out of single sign-on first.
      </Text>
      <form action={signOutAction}>
        <Button type="submit" variant="light" data-testid="no-access-sign-out">
          Sign out
        </Button>
      </form>
    </Stack>
  );
}
