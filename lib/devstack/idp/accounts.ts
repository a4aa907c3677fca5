import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Demo identities of the embedded IdP (dev only). Each sits in the IdP group that DEMO_ROLE_MAPPING
 * (lib/config/env.ts) maps to its role; `nobody` is in a group no mapping knows, so the console must refuse it.
 * One published password for all: this IdP exists so that login, logout and denial can be exercised locally.
 */
export const DEMO_PASSWORD = "demo-password";

export interface DemoAccount {
  username: string;
  name: string;
  email: string;
  groups: string[];
  /** Shown by the launcher and the sign-in page. */
  description: string;
}

export const DEMO_ACCOUNTS: readonly DemoAccount[] = [
  { username: "admin", name: "Ada Admin", email: "admin@keyshare.example", groups: ["keyshare-admins"], description: "admin" },
  { username: "officer", name: "Olive Officer", email: "officer@keyshare.example", groups: ["keyshare-officers"], description: "crypto officer" },
  { username: "officer2", name: "Otto Officer", email: "officer2@keyshare.example", groups: ["keyshare-officers"], description: "second crypto officer, for four-eyes approvals" },
  { username: "operator", name: "Opal Operator", email: "operator@keyshare.example", groups: ["keyshare-operators"], description: "operator" },
  { username: "auditor", name: "Aldo Auditor", email: "auditor@keyshare.example", groups: ["keyshare-auditors"], description: "auditor" },
  { username: "viewer", name: "Vera Viewer", email: "viewer@keyshare.example", groups: ["keyshare-viewers"], description: "viewer" },
  { username: "nobody", name: "Ned Nobody", email: "nobody@keyshare.example", groups: ["contractors"], description: "no mapped group: refused" },
];

export function findDemoAccount(username: string): DemoAccount | undefined {
  return DEMO_ACCOUNTS.find((a) => a.username === username);
}

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/** Constant-time password check, so even the dev IdP does not teach timing shortcuts. */
export function checkDemoCredentials(username: string, password: string): DemoAccount | undefined {
  const account = findDemoAccount(username.trim());
  const ok = timingSafeEqual(digest(password), digest(DEMO_PASSWORD));
  return account && ok ? account : undefined;
}
