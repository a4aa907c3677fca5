import { getDb } from "@/lib/db";
import { getVaultClient } from "@/lib/vault";
import { getOverviewFigures } from "@/lib/overview/queries";
import { jsonRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

export const GET = jsonRoute("inventory:read", async () => getOverviewFigures(await getDb(), getVaultClient()));
