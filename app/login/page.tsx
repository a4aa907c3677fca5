import { Alert, Button, Card, Code, Stack, Table, TableTbody, TableTd, TableTr, Text, Title } from "@mantine/core";
import { redirect } from "next/navigation";
import { getConfig } from "@/lib/config/env";
import { getSession, signInAction } from "@/lib/auth";
import { safeCallbackPath } from "@/lib/auth/safe-redirect";
import { readDevSignIn } from "./dev-sign-in";

export const dynamic = "force-dynamic";

const ERRORS: Record<string, string> = {
  AccessDenied: "Sign-in was refused.",
  Configuration:
    "Sign-in did not complete: it was cancelled, it took too long, or the identity provider could not be reached. Try again.",
  Verification: "The sign-in link is no longer valid. Try again.",
};

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const callbackUrl = safeCallbackPath(typeof params.callbackUrl === "string" ? params.callbackUrl : undefined);
  if (await getSession()) redirect(callbackUrl);

  const errorCode = typeof params.error === "string" ? params.error : undefined;
  const error = errorCode ? (ERRORS[errorCode] ?? ERRORS.Configuration) : undefined;
  const config = getConfig();
  const { auth } = config;
  // Server component: Mantine's compound members (Table.Tr…) are undefined through a client reference, so the
  // named exports are used. The demo accounts come from the embedded launcher, only in DEV MODE.
  const demo = readDevSignIn(config);

  return (
    <Stack maw={460} mx="auto" mt={64} p="md">
      <Title order={1}>Keyshare Console</Title>
      <Text c="dimmed">Sign in with your organisation&apos;s single sign-on.</Text>
      {error ? (
        <Alert color="red" title="Not signed in" data-testid="login-error" role="alert">
          {error}
        </Alert>
      ) : null}
      {auth.issuer ? (
        <form action={signInAction}>
          <input type="hidden" name="callbackUrl" value={callbackUrl} />
          <Button type="submit" fullWidth size="md" data-testid="sign-in">
            Sign in with SSO
          </Button>
        </form>
      ) : (
        <Alert color="red" title="Sign-in is not configured">
          AUTH_OIDC_ISSUER is not set.
        </Alert>
      )}
      {demo ? (
        <Card withBorder data-testid="demo-accounts">
          <Text fw={600}>Demo accounts (DEV MODE)</Text>
          <Text size="sm">
            Password for all: <Code>{demo.password}</Code>
          </Text>
          <Table mt="xs">
            <TableTbody>
              {demo.accounts.map((a) => (
                <TableTr key={a.username}>
                  <TableTd>
                    <Code>{a.username}</Code>
                  </TableTd>
                  <TableTd>{a.description}</TableTd>
                </TableTr>
              ))}
            </TableTbody>
          </Table>
        </Card>
      ) : null}
    </Stack>
  );
}
