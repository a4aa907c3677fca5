import { createHash, randomBytes, randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { serverWalletKeyShares } from "@/lib/db/schema/key-shares";
import { testBackends, type TestDb } from "@/lib/db/testing";

/**
 * Real failures on the error paths that log, with the process logger writing into a buffer: a session
 * lookup while the database is gone, share-table writes that violate constraints, audit appends that fail,
 * and Vault unreachable. The captured output must hold no cookie value (nor its hash), no share ciphertext,
 * no Vault token and no other bound parameter — only types, messages and SQLSTATEs.
 */

const state = vi.hoisted(() => {
  process.env.TRUSTED_PROXIES = "10.0.0.0/8";
  return { db: undefined as unknown, cookie: undefined as string | undefined, lines: [] as string[], userAgent: "" };
});

vi.mock("@/lib/log", async (importOriginal) => {
  const mod = await importOriginal<typeof import("@/lib/log")>();
  const { Writable } = await import("node:stream");
  const destination = new Writable({
    write(chunk, _enc, cb) {
      state.lines.push(String(chunk));
      cb();
    },
  });
  return { ...mod, logger: mod.createLogger({ level: "debug", destination }) };
});
vi.mock("next/headers", () => ({
  cookies: async () => ({
    get: (name: string) => (name === "authjs.session-token" && state.cookie ? { name, value: state.cookie } : undefined),
    set: () => {},
  }),
  headers: async () => new Headers({ "x-forwarded-for": "203.0.113.7, 10.0.0.1", "user-agent": state.userAgent }),
}));
vi.mock("@/lib/db", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@/lib/db")>()),
  getDb: async () => state.db,
}));

const { consoleAdapter, authorizeSignIn, OIDC_PROVIDER_ID } = await import("./sign-in");
const { command } = await import("./command");
const { requirePermission, revokeSession, revokeSessionSchema } = await import("./session");
const { signOutAction } = await import("./actions");
const { hashSessionToken } = await import("./session-token");
const { jsonRoute } = await import("@/lib/http/route");
const { createVaultClient } = await import("@/lib/vault");
const { readTransitKeys } = await import("@/lib/keys/vault-keys");
const { DEMO_ROLE_MAPPING } = await import("@/lib/config/env");

const mark = (what: string) => `${what}-MARKER-${randomBytes(8).toString("hex")}`;
const COOKIE = mark("cookie");
const CIPHERTEXT = `vault:v1:${mark("CIPHERTEXT")}`;
const VAULT_TOKEN = `hvs.${mark("VAULT")}`;
const PARAM = mark("param");

function logged(): string {
  return state.lines.join("");
}

function expectNoSecrets(out: string) {
  for (const secret of [COOKIE, hashSessionToken(COOKIE), CIPHERTEXT, Buffer.from(CIPHERTEXT).toString("hex"), VAULT_TOKEN, PARAM]) {
    expect(out).not.toContain(secret);
  }
  expect(out).not.toContain("Failed query");
  expect(out).not.toContain("Failing row");
}

async function signIn(db: TestDb["db"], sub: string, groups: string[], token: string) {
  const adapter = consoleAdapter(db);
  const profile = { sub, email: `${sub}@keyshare.example`, name: sub, groups } as never;
  expect(await authorizeSignIn(db, { groupsClaim: "groups", roleMapping: DEMO_ROLE_MAPPING }, { provider: OIDC_PROVIDER_ID, providerAccountId: sub }, profile)).toBe(true);
  const user = await adapter.createUser!({ id: randomUUID(), email: `${sub}@keyshare.example`, emailVerified: null, name: sub, role: DEMO_ROLE_MAPPING[groups[0]!], groups } as never);
  await adapter.linkAccount!({ userId: user.id, type: "oidc", provider: OIDC_PROVIDER_ID, providerAccountId: sub });
  await adapter.createSession!({ sessionToken: token, userId: user.id, expires: new Date(Date.now() + 3600_000) });
}

describe.each(testBackends())("error paths log no secrets on $name", (backend) => {
  let t: TestDb;
  let gone: TestDb;
  const officerToken = `${COOKIE}`;
  const adminToken = mark("admin-cookie");
  const viewerToken = mark("viewer-cookie");

  beforeAll(async () => {
    t = await backend.create();
    state.db = t.db;
    state.userAgent = `browser ${PARAM}`;
    await signIn(t.db, "officer", ["keyshare-officers"], officerToken);
    await signIn(t.db, "admin", ["keyshare-admins"], adminToken);
    await signIn(t.db, "viewer", ["keyshare-viewers"], viewerToken);
    // A database that has been shut down (PostgreSQL: connection ended and database dropped).
    gone = await backend.create({ migrate: false });
    await gone.close();
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  it("a session lookup while the database is down (server action and JSON route)", async () => {
    state.lines.length = 0;
    state.db = gone.db;
    state.cookie = COOKIE;
    try {
      const action = command({ permission: "inventory:read", input: z.object({}), audit: () => ({ action: "test.never" }), run: async () => "never" });
      expect(await action({})).toMatchObject({ ok: false, code: "error", errorId: expect.any(String) });
      const route = jsonRoute("inventory:read", async () => ({}));
      expect((await route(new Request("http://localhost/api/x"), {})).status).toBe(500);
    } finally {
      state.db = t.db;
    }
    const out = logged();
    expect(out).toContain("server action failed");
    expect(out).toContain("route failed");
    expectNoSecrets(out);
  });

  it("share-table writes that violate constraints (insert: NOT NULL; update: value too long)", async () => {
    state.lines.length = 0;
    state.cookie = officerToken;
    const id = randomUUID();
    await t.db.insert(serverWalletKeyShares).values({
      id,
      walletId: "w-1",
      accountAddress: "0xabc",
      encryptedKeyShares: Buffer.from("vault:v1:AAAA"),
      encryptionKeyId: "wallet-shares",
    });
    const insert = command({ permission: "campaign:run", input: z.object({}), audit: () => ({ action: "test.insert" }), run: async (_i, { tx }) => {
      await tx.insert(serverWalletKeyShares).values({
        id: randomUUID(),
        walletId: null as never,
        accountAddress: "0xdef",
        encryptedKeyShares: Buffer.from(CIPHERTEXT),
        encryptionKeyId: "wallet-shares",
      });
    } });
    const update = command({ permission: "campaign:run", input: z.object({}), audit: () => ({ action: "test.update" }), run: async (_i, { tx }) => {
      await tx
        .update(serverWalletKeyShares)
        .set({ encryptedKeyShares: Buffer.from(CIPHERTEXT), accountAddress: `0x${"f".repeat(300)}` })
        .where(eq(serverWalletKeyShares.id, id));
    } });
    expect(await insert({})).toMatchObject({ ok: false, code: "error" });
    expect(await update({})).toMatchObject({ ok: false, code: "error" });
    const out = logged();
    expect(out).toContain('"code":"23502"');
    expect(out).toContain('"code":"22001"');
    expectNoSecrets(out);
  });

  it("audit appends that fail (access denial, a revocation in withAudit, sign-out)", async () => {
    state.lines.length = 0;
    await t.db.execute(
      sql.raw(`create or replace function ks_test_audit_down() returns trigger language plpgsql as $$ begin raise exception 'audit store unavailable'; end $$`),
    );
    await t.db.execute(sql.raw(`create trigger ks_test_audit_down before insert on audit_events for each row execute function ks_test_audit_down()`));
    try {
      state.cookie = viewerToken;
      await expect(requirePermission("settings:write")).rejects.toThrow();
      state.cookie = adminToken;
      const [victim] = await t.db.select({ id: sql<string>`id` }).from(sql`sessions`).where(sql`session_token = ${hashSessionToken(officerToken)}`);
      const revoke = command({
        permission: "sessions:manage",
        input: revokeSessionSchema,
        audit: (i) => ({ action: "session.revoke", target: { type: "session", id: i.sessionId } }),
        run: (i, { tx, actor, audit }) => revokeSession(tx, i, actor, audit),
      });
      expect(await revoke({ sessionId: victim!.id })).toMatchObject({ ok: false, code: "error" });
      await expect(signOutAction()).rejects.toThrow(); // Next's redirect() throws once the session is ended
    } finally {
      await t.db.execute(sql.raw(`drop trigger ks_test_audit_down on audit_events`));
    }
    const out = logged();
    expect(out).toContain("could not audit an access denial");
    expect(out).toContain("could not record audit failure event");
    expect(out).toContain("could not audit a logout");
    expect(out).toContain("audit store unavailable");
    expectNoSecrets(out);
  });

  it("Vault unreachable with a token configured", async () => {
    state.lines.length = 0;
    const vault = createVaultClient({ addr: "http://127.0.0.1:9", token: VAULT_TOKEN, timeoutMs: 500, retries: 0 });
    expect((await readTransitKeys(vault, { fresh: true })).keys).toBeNull();
    const out = logged();
    expect(out).toContain("Vault");
    expectNoSecrets(out);
  });

  it("the captured output does hold what was logged (the scan is not vacuous)", () => {
    state.lines.length = 0;
    expect(createHash("sha256").update(COOKIE).digest("hex")).toBe(hashSessionToken(COOKIE));
    state.lines.push(JSON.stringify({ probe: PARAM }));
    expect(() => expectNoSecrets(logged())).toThrow();
  });
});
