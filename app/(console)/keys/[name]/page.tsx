import { Alert, Anchor, Stack, Title } from "@mantine/core";
import { can, requireUser } from "@/lib/auth";
import { getDb } from "@/lib/db";
import { getVaultClient } from "@/lib/vault";
import { getKeyDetail, KeyNotFoundError } from "@/lib/keys/queries";
import { denyUnless } from "@/components/ui/page-guard";
import { KeyDetail } from "@/components/keys/key-detail";
import { keyAuditHref } from "@/components/audit/links";

export const dynamic = "force-dynamic";

export default async function KeyDetailPage({ params }: { params: Promise<{ name: string }> }) {
  const denied = await denyUnless("keys:read", "Key");
  if (denied) return denied;
  const user = await requireUser();
  const { name } = await params;
  try {
    const detail = await getKeyDetail(await getDb(), getVaultClient(), name);
    return <KeyDetail initial={detail} auditHref={can(user.role, "audit:read") ? keyAuditHref(detail.key.name) : null} />;
  } catch (err) {
    // A bad or unknown name in the URL is the user's, not ours: a clear message, not an error page.
    if (!(err instanceof KeyNotFoundError)) throw err;
    // (Server component: no Mantine compound members or component={Link} here, they do not cross into RSC.)
    return (
      <Stack>
        <Title order={2}>Key not found</Title>
        <Alert color="gray" data-testid="key-not-found">
          {err.message}
        </Alert>
        <Anchor href="/keys">
          All keys
        </Anchor>
      </Stack>
    );
  }
}
