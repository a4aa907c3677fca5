export { startReauthentication as GET } from "@/lib/auth/reauth";

export const dynamic = "force-dynamic";
