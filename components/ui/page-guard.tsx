import "server-only";
import { ForbiddenError } from "@/lib/errors";
import { requirePermission, type Permission } from "@/lib/auth";
import { Forbidden } from "@/components/ui/forbidden";

/**
 * For pages: authorise (requirePermission audits a denial) and return the forbidden view instead of throwing,
 * so a refused user sees a clear message rather than an error page. Returns null when allowed.
 */
export async function denyUnless(permission: Permission, title: string): Promise<React.ReactElement | null> {
  try {
    await requirePermission(permission);
    return null;
  } catch (err) {
    if (err instanceof ForbiddenError) return <Forbidden title={title} />;
    throw err;
  }
}
