import "server-only";
import { readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";

/**
 * The demo accounts the sign-in page lists in DEV MODE. The embedded launcher (lib/devstack/launcher.ts) writes
 * them into DATA_DIR next to the database it prepares; production code never imports the dev stack, so this
 * file is the only way the page learns them. Shown only when dev components are allowed and the configured
 * issuer is the demo IdP the file describes: a stale file never advertises accounts of an IdP not in use.
 * The password is the demo IdP's published one, not a secret.
 */
export const DEV_SIGN_IN_FILE = "dev-sign-in.json";

const devSignInSchema = z.object({
  issuer: z.string().min(1),
  password: z.string(),
  accounts: z.array(z.object({ username: z.string(), description: z.string() })).max(50),
});

export type DevSignIn = z.infer<typeof devSignInSchema>;

/** `config` is getConfig()'s: devMode, dataDir and the configured OIDC issuer. */
export function readDevSignIn(config: { devMode: boolean; dataDir: string; auth: { issuer?: string } }): DevSignIn | undefined {
  if (!config.devMode || !config.auth.issuer) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path.join(config.dataDir, DEV_SIGN_IN_FILE), "utf8"));
  } catch {
    return undefined;
  }
  const parsed = devSignInSchema.safeParse(doc);
  if (!parsed.success || parsed.data.issuer !== config.auth.issuer) return undefined;
  return parsed.data;
}
