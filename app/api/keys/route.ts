import { getDb } from "@/lib/db";
import { getVaultClient } from "@/lib/vault";
import { listKeySummaries } from "@/lib/keys/queries";
import { jsonRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const GET = jsonRoute("keys:read", async () => listKeySummaries(await getDb(), getVaultClient()));
