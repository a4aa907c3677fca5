import { denyUnless } from "@/components/ui/page-guard";
import { NotBuiltYet } from "@/components/ui/not-built-yet";

export default async function RotationsPage() {
  const denied = await denyUnless("rotation:read", "Rotations");
  if (denied) return denied;
  return <NotBuiltYet title="Rotations" what="Rotation proposals, approvals and re-wrap campaigns are not built yet." />;
}
