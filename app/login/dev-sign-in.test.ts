import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeDevSignIn } from "@/lib/devstack/launcher";
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from "@/lib/devstack/idp/accounts";
import { DEV_SIGN_IN_FILE, readDevSignIn } from "./dev-sign-in";

describe("sign-in page demo accounts, from the embedded launcher", () => {
  let dataDir: string;
  const issuer = "http://localhost:3241";
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), "ks-signin-"));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("lists the demo IdP's accounts the launcher wrote, in DEV MODE with that IdP configured", () => {
    writeDevSignIn(dataDir, issuer);
    expect(statSync(path.join(dataDir, DEV_SIGN_IN_FILE)).mode & 0o777).toBe(0o600);
    const demo = readDevSignIn({ devMode: true, dataDir, auth: { issuer } });
    expect(demo?.password).toBe(DEMO_PASSWORD);
    expect(demo?.accounts.map((a) => a.username)).toEqual(DEMO_ACCOUNTS.map((a) => a.username));
    expect(demo?.accounts.find((a) => a.username === "nobody")?.description).toMatch(/refused/);
  });

  it("shows nothing in production, for another issuer, without a file or with a malformed one", () => {
    writeDevSignIn(dataDir, issuer);
    expect(readDevSignIn({ devMode: false, dataDir, auth: { issuer } })).toBeUndefined();
    expect(readDevSignIn({ devMode: true, dataDir, auth: { issuer: "https://sso.example.com" } })).toBeUndefined();
    expect(readDevSignIn({ devMode: true, dataDir, auth: { issuer: undefined } })).toBeUndefined();
    expect(readDevSignIn({ devMode: true, dataDir: path.join(dataDir, "elsewhere"), auth: { issuer } })).toBeUndefined();
    const file = path.join(dataDir, DEV_SIGN_IN_FILE);
    writeFileSync(file, JSON.stringify({ issuer, password: 1, accounts: "all" }));
    chmodSync(file, 0o600);
    expect(readDevSignIn({ devMode: true, dataDir, auth: { issuer } })).toBeUndefined();
    writeFileSync(file, "{not json");
    expect(readDevSignIn({ devMode: true, dataDir, auth: { issuer } })).toBeUndefined();
  });
});
