import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestPglite, type TestDb } from "@/lib/db/testing";
import { startDevIdp, type DevIdp } from "@/lib/devstack/idp/server";
import { startTransitServer, type RunningTransitServer } from "@/lib/devstack/transit/server";

/**
 * /api/health is public, so its probes must not run once per request. The route runs against the dev
 * Transit server, the dev IdP and PGlite; counting forwarders in front of the two servers (and a counting
 * getDb) show how often each is actually probed.
 */

const state = vi.hoisted(() => ({ db: undefined as unknown, dbCalls: 0 }));
vi.mock("@/lib/db", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@/lib/db")>()),
  getDb: async () => {
    state.dbCalls++;
    return state.db;
  },
}));

interface Counter {
  url: string;
  hits: number;
  server: Server;
  down: boolean;
}

/** Forwards every request to `target` and counts it; `down` answers 503 instead. */
async function countingForwarder(target: string): Promise<Counter> {
  const counter: Counter = { url: "", hits: 0, server: undefined as never, down: false };
  counter.server = createServer(async (req, res) => {
    counter.hits++;
    if (counter.down) {
      res.writeHead(503).end();
      return;
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string" && k !== "host") headers.set(k, v);
    const upstream = await fetch(`${target}${req.url}`, { method: req.method, headers });
    res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json" });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((resolve) => counter.server.listen(0, "127.0.0.1", resolve));
  counter.url = `http://127.0.0.1:${(counter.server.address() as AddressInfo).port}`;
  return counter;
}

let t: TestDb;
let idp: DevIdp;
let transit: RunningTransitServer;
let idpCount: Counter;
let vaultCount: Counter;
let GET: typeof import("./route").GET;

beforeAll(async () => {
  [t, idp, transit] = await Promise.all([
    createTestPglite(),
    startDevIdp({
      port: 0,
      quiet: true,
      env: { NODE_ENV: "test" },
      clients: [{ client_id: "health-test", client_secret: "health-test-secret", redirect_uris: ["http://localhost:3210/cb"] }],
    }),
    startTransitServer({ port: 0, quiet: true }),
  ]);
  state.db = t.db;
  [idpCount, vaultCount] = await Promise.all([countingForwarder(idp.issuer), countingForwarder(transit.url)]);
  Object.assign(process.env, { AUTH_OIDC_ISSUER: idpCount.url, VAULT_ADDR: vaultCount.url, VAULT_TOKEN: transit.token });
  ({ GET } = await import("./route"));
}, 60_000);

afterEach(() => {
  vi.useRealTimers();
});

afterAll(async () => {
  for (const c of [idpCount, vaultCount]) if (c) await new Promise((r) => c.server.close(r));
  await Promise.all([t?.close(), idp?.close(), transit?.close()]);
});

const counts = () => ({ db: state.dbCalls, vault: vaultCount.hits, idp: idpCount.hits });

describe("/api/health", () => {
  it("concurrent and repeated requests share one probe of each component for a few seconds", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const before = counts();
    const answers = await Promise.all(Array.from({ length: 40 }, () => GET()));
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: "ok", db: "ok", vault: "ok", idp: "ok" });
    }
    for (let i = 0; i < 20; i++) expect((await GET()).status).toBe(200);
    expect(counts()).toEqual({ db: before.db + 1, vault: before.vault + 1, idp: before.idp + 1 });

    vi.setSystemTime(Date.now() + 4_000);
    await GET();
    expect(counts()).toEqual({ db: before.db + 1, vault: before.vault + 1, idp: before.idp + 1 });

    // Once the answer is older than the cache time, the next request probes again (once).
    vi.setSystemTime(Date.now() + 2_000);
    await Promise.all([GET(), GET(), GET()]);
    expect(counts()).toEqual({ db: before.db + 2, vault: before.vault + 2, idp: before.idp + 2 });
  });

  it("a component going down shows within the cache time, and the degraded answer is shared too", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 60_000);
    idpCount.down = true;
    const before = counts();
    const answers = await Promise.all(Array.from({ length: 10 }, () => GET()));
    for (const res of answers) {
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: "degraded", db: "ok", vault: "ok", idp: "down" });
    }
    expect(counts()).toEqual({ db: before.db + 1, vault: before.vault + 1, idp: before.idp + 1 });
    idpCount.down = false;
  });
});
