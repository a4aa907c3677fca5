/** getVaultClient: one memoized client, configured only from lib/config (env read there, nowhere else). */
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { startStub } from "./test-support";

let stub: Awaited<ReturnType<typeof startStub>>;
const saved = { ...process.env };

beforeAll(async () => {
  stub = await startStub((req) =>
    req.path.startsWith("/v1/team-transit/keys?list=") ? { status: 200, json: { data: { keys: ["k1"] } } } : { status: 200, json: { data: { ttl: 0 } } },
  );
});
afterAll(async () => {
  process.env = saved;
  await stub.close();
});

it("builds the client from getConfig().vault once, with the configured address, token, mount and namespace", async () => {
  vi.resetModules();
  Object.assign(process.env, { VAULT_ADDR: stub.url, VAULT_TOKEN: "cfg-token", VAULT_TRANSIT_MOUNT: "team-transit", VAULT_NAMESPACE: "ns1/" });
  const { getVaultClient } = await import("./index");
  const a = getVaultClient();
  expect(getVaultClient()).toBe(a);
  expect(await a.listKeys()).toEqual(["k1"]);
  const list = stub.requests.find((r) => r.path.startsWith("/v1/team-transit/keys"));
  expect(list?.headers["x-vault-token"]).toBe("cfg-token");
  expect(list?.headers["x-vault-namespace"]).toBe("ns1/");
  a.close();
});
