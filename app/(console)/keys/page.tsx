import { denyUnless } from "@/components/ui/page-guard";
import { NotBuiltYet } from "@/components/ui/not-built-yet";

export default async function KeysPage() {
  const denied = await denyUnless("keys:read", "Keys");
  if (denied) return denied;
  return <NotBuiltYet title="Keys" what="Transit keys with version ages, records per version and risk flags come with the inventory issue." />;
}
