import { getDb } from "@/lib/db";
import { getVaultClient } from "@/lib/vault";
import { getKeyDetail } from "@/lib/keys/queries";
import { jsonRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

// getKeyDetail validates the name (Vault's pattern) and answers 404 with a message for bad or unknown ones.
export const GET = jsonRoute("keys:read", async (_req, _user, ctx: { params: Promise<{ name: string }> }) => {
  const { name } = await ctx.params;
  return getKeyDetail(await getDb(), getVaultClient(), name);
});
