export { GET, POST } from "@/lib/auth/route-handlers";

export const dynamic = "force-dynamic";
