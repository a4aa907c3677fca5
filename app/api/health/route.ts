import { NextResponse } from "next/server";
import { checkHealth } from "@/lib/health/check";

export const dynamic = "force-dynamic";

/** Public on purpose (load balancers have no session); it reveals only ok/down per component. */
export async function GET() {
  const report = await checkHealth();
  return NextResponse.json(report, {
    status: report.status === "ok" ? 200 : 503,
    headers: { "Cache-Control": "no-store" },
  });
}
