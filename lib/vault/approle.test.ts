/**
 * AppRole login and token renewal. The dev Transit server implements only token auth, so these run against
 * a small stub of `auth/<mount>/login`, `auth/token/renew-self` and one Transit read.
 */
import { afterEach, describe, expect, it } from "vitest";
import util from "node:util";
import { createVaultClient, type VaultClient } from "./client";
import { VaultPermissionDeniedError } from "./errors";
import { captureLogger, startStub, type StubReply, type StubRequest } from "./test-support";

const ROLE_ID = "role-7f1c2b";
const SECRET_ID = "secret-id-DO-NOT-LEAK-4a9e";

interface StubState {
  loginLease: number;
  renewLease: number;
  renewable: boolean;
  valid: Set<string>;
  issued: number;
  logins: number;
  renewals: number;
}

function approleHandler(state: StubState, mount: string) {
  return (req: StubRequest): StubReply => {
    const token = req.headers["x-vault-token"];
    if (req.method === "POST" && req.path === `/v1/auth/${mount}/login`) {
      const body = req.body as { role_id?: string; secret_id?: string };
      if (body.role_id !== ROLE_ID || body.secret_id !== SECRET_ID) return { status: 400, json: { errors: ["invalid role or secret ID"] } };
      state.logins++;
      const t = `s.approle-token-${++state.issued}`;
      state.valid.add(t);
      return {
        status: 200,
        json: { request_id: `login-${state.issued}`, data: null, auth: { client_token: t, lease_duration: state.loginLease, renewable: state.renewable, policies: ["default"] } },
      };
    }
    if (typeof token !== "string" || !state.valid.has(token)) return { status: 403, json: { errors: ["permission denied"] } };
    if (req.method === "POST" && req.path === "/v1/auth/token/renew-self") {
      state.renewals++;
      return { status: 200, json: { auth: { client_token: token, lease_duration: state.renewLease, renewable: state.renewable } } };
    }
    if (req.method === "GET" && req.path.startsWith("/v1/transit/keys?list=")) {
      return { status: 200, json: { request_id: "r", data: { keys: ["k1"] } } };
    }
    return { status: 404, json: { errors: [] } };
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(partial: Partial<StubState> = {}, mount = "approle", namespace?: string) {
  const state: StubState = { loginLease: 60, renewLease: 60, renewable: true, valid: new Set(), issued: 0, logins: 0, renewals: 0, ...partial };
  const stub = await startStub(approleHandler(state, mount));
  const logs = captureLogger();
  const client: VaultClient = createVaultClient({
    addr: stub.url,
    appRole: { roleId: ROLE_ID, secretId: SECRET_ID, mount },
    namespace,
    timeoutMs: 2_000,
    retryBaseDelayMs: 5,
    logger: logs.logger,
  });
  cleanups.push(() => stub.close(), () => client.close());
  return { state, stub, client, logs };
}

describe("AppRole auth", () => {
  it("logs in lazily at the configured mount, sends the token and namespace, and logs in once for concurrent calls", async () => {
    const { state, stub, client, logs } = await setup({}, "team-approle", "ns1/");
    expect(stub.requests).toHaveLength(0);
    const lists = await Promise.all([client.listKeys(), client.listKeys(), client.listKeys()]);
    expect(lists).toEqual([["k1"], ["k1"], ["k1"]]);
    expect(state.logins).toBe(1);
    const login = stub.requests.find((r) => r.path === "/v1/auth/team-approle/login");
    expect(login?.headers["x-vault-token"]).toBeUndefined();
    for (const r of stub.requests) expect(r.headers["x-vault-namespace"]).toBe("ns1/");
    const reads = stub.requests.filter((r) => r.path.startsWith("/v1/transit/keys"));
    for (const r of reads) expect(r.headers["x-vault-token"]).toBe("s.approle-token-1");
    expect(logs.text()).not.toContain(SECRET_ID);
    expect(logs.text()).not.toContain("s.approle-token-1");
  });

  it("renews the token with renew-self before it expires", async () => {
    const { state, client } = await setup({ loginLease: 2, renewLease: 2 });
    await client.listKeys();
    await sleep(1_600); // renewal is due at 2/3 of the lease
    expect(state.renewals).toBe(1);
    await sleep(1_000); // past the original expiry; the renewed token is still in use, no second login
    await client.listKeys();
    expect(state.logins).toBe(1);
  });

  it("logs in again when renewal grants too little lease (token near its max TTL)", async () => {
    const { state, client } = await setup({ loginLease: 3, renewLease: 0.5 });
    await client.listKeys();
    await sleep(2_300);
    expect(state.renewals).toBe(1);
    expect(state.logins).toBe(2);
    await client.listKeys();
    expect(state.logins).toBe(2);
  });

  it("logs in again when the token is not renewable", async () => {
    const { state, client } = await setup({ loginLease: 2, renewable: false });
    await client.listKeys();
    await sleep(1_600);
    expect(state.renewals).toBe(0);
    expect(state.logins).toBe(2);
  });

  it("answers a 403 from a revoked token with one fresh login and one resend", async () => {
    const { state, client } = await setup();
    await client.listKeys();
    state.valid.clear(); // revoked behind our back
    expect(await client.listKeys()).toEqual(["k1"]);
    expect(state.logins).toBe(2);
  });

  it("stops renewing after close()", async () => {
    const { state, client } = await setup({ loginLease: 1, renewLease: 1 });
    await client.listKeys();
    client.close();
    await sleep(1_200);
    expect(state.renewals).toBe(0);
    expect(state.logins).toBe(1);
  });

  it("turns a refused login into VaultPermissionDeniedError that leaks no credential", async () => {
    const state: StubState = { loginLease: 60, renewLease: 60, renewable: true, valid: new Set(), issued: 0, logins: 0, renewals: 0 };
    const stub = await startStub(approleHandler(state, "approle"));
    const logs = captureLogger();
    const client = createVaultClient({ addr: stub.url, appRole: { roleId: ROLE_ID, secretId: "wrong-secret-XYZ-123" }, logger: logs.logger, retryBaseDelayMs: 5 });
    cleanups.push(() => stub.close(), () => client.close());
    const err = await client.readKey("k1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultPermissionDeniedError);
    expect((err as VaultPermissionDeniedError).operation).toBe("login");
    const dumped = JSON.stringify(err) + util.inspect(err, { depth: 10, showHidden: true }) + logs.text();
    expect(dumped).not.toContain("wrong-secret-XYZ-123");
    expect(dumped).not.toContain(ROLE_ID);
  });
});

describe("static token renewal", () => {
  it("a renewable token with a TTL is renewed with renew-self; lookup runs once, in the background", async () => {
    let lookups = 0;
    let renewals = 0;
    const stub = await startStub((req) => {
      if (req.headers["x-vault-token"] !== "s.periodic-token") return { status: 403, json: { errors: ["permission denied"] } };
      if (req.path === "/v1/auth/token/lookup-self") {
        lookups++;
        return { status: 200, json: { data: { ttl: 2, renewable: true, period: 2 } } };
      }
      if (req.path === "/v1/auth/token/renew-self") {
        renewals++;
        return { status: 200, json: { auth: { client_token: "s.periodic-token", lease_duration: 2, renewable: true } } };
      }
      return { status: 200, json: { data: { keys: ["k1"] } } };
    });
    const client = createVaultClient({ addr: stub.url, token: "s.periodic-token", logger: captureLogger().logger });
    cleanups.push(() => stub.close(), () => client.close());
    await client.listKeys();
    await client.listKeys();
    await sleep(1_600);
    expect(lookups).toBe(1);
    expect(renewals).toBe(1);
    await sleep(1_400);
    expect(renewals).toBe(2);
  });

  it("a token without TTL (root, dev) is never renewed", async () => {
    const seen: string[] = [];
    const stub = await startStub((req) => {
      seen.push(req.path);
      if (req.path === "/v1/auth/token/lookup-self") return { status: 200, json: { data: { ttl: 0, renewable: false } } };
      return { status: 200, json: { data: { keys: ["k1"] } } };
    });
    const client = createVaultClient({ addr: stub.url, token: "root", logger: captureLogger().logger });
    cleanups.push(() => stub.close(), () => client.close());
    await client.listKeys();
    await sleep(200);
    expect(seen.filter((p) => p.startsWith("/v1/auth/token/"))).toEqual(["/v1/auth/token/lookup-self"]);
  });
});
