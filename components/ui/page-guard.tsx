import "server-only";
import { redirect } from "next/navigation";
import { ForbiddenError, UnauthorizedError } from "@/lib/errors";
import { requirePermission, type Permission } from "@/lib/auth";
import { Forbidden } from "@/components/ui/forbidden";

/**
 * For pages: authorise (requirePermission audits a denial) and return the forbidden view instead of throwing,
 * so a refused user sees a clear message rather than an error page; no session → sign in. Returns null when
 * allowed. The layout renders in parallel with the page, so the page cannot rely on the layout's check.
 */
export async function denyUnless(permission: Permission, title: string): Promise<React.ReactElement | null> {
  try {
    await requirePermission(permission);
    return null;
  } catch (err) {
    if (err instanceof ForbiddenError) return <Forbidden title={title} />;
    if (err instanceof UnauthorizedError) redirect("/login");
    throw err;
  }
}
