/**
 * Next.js calls `register()` once per server instance at start. Everything it does needs Node (sockets to
 * PostgreSQL and Redis, process exit on bad configuration), so it lives in a module loaded only in the Node.js
 * runtime; the edge bundle never sees it.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { registerNode } = await import("./lib/startup/register-node");
    await registerNode();
  }
}
