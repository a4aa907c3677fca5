import { createDecipheriv } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTransitServer, type RunningTransitServer } from "./server";
import { call } from "./test-helpers";

let srv: RunningTransitServer;
const T = "root";
const api = (method: string, path: string, body?: unknown, token: string | null = T) => call(srv.url, token ?? undefined, method, path, body);
const b64 = (s: string) => Buffer.from(s).toString("base64");

beforeAll(async () => {
  srv = await startTransitServer({ port: 0, quiet: true, rootToken: T });
});
afterAll(() => srv.close());

describe("envelopes and core errors", () => {
  it("wraps success in Vault's envelope with ignored/replaced warnings", async () => {
    const r = await api("POST", "transit/keys/env", { name: "other", deletion_allowed: true });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ lease_id: "", renewable: false, lease_duration: 0, wrap_info: null, auth: null, mount_type: "transit" });
    expect(r.json.request_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(r.json.warnings).toEqual([
      "Endpoint ignored these unrecognized parameters: [deletion_allowed]",
      "Endpoint replaced the value of these parameters with the values captured from the endpoint's path: [name]",
    ]);
    expect(r.json.data).toMatchObject({ name: "env", type: "aes256-gcm96", latest_version: 1, min_decryption_version: 1, deletion_allowed: false });
    expect(Number.isInteger(r.json.data.keys["1"])).toBe(true);
    expect((await api("GET", "transit/keys/env")).json.warnings).toBeNull();
    expect(r.headers.get("cache-control")).toBe("no-store");
  });

  it("answers 403 without or with a wrong token (header or Bearer)", async () => {
    expect(await api("GET", "transit/keys/env", undefined, null)).toMatchObject({ status: 403, json: { errors: ["permission denied"] } });
    const bad = await api("GET", "transit/keys/env", undefined, "nope");
    expect(bad.status).toBe(403);
    expect(bad.json.errors[0]).toBe("permission denied");
    const bearer = await fetch(`${srv.url}/v1/transit/keys/env`, { headers: { Authorization: `Bearer ${T}` } });
    expect(bearer.status).toBe(200);
  });

  it("uses Vault's 404/405 texts", async () => {
    expect(await api("GET", "transit/keys/missing")).toMatchObject({ status: 404, json: { errors: [] } });
    expect(await api("POST", "transit/keys/bad.")).toMatchObject({ status: 404, json: { errors: ["1 error occurred:\n\t* unsupported path\n\n"] } });
    expect(await api("GET", "transit/encrypt/env")).toMatchObject({ status: 405, json: { errors: ["1 error occurred:\n\t* unsupported operation\n\n"] } });
    expect(await api("DELETE", "transit/keys/env/rotate")).toMatchObject({ status: 405 });
    expect((await api("GET", "nomount/x")).json.errors[0]).toBe('no handler for route "nomount/x". route entry not found.');
  });

  it("validates field types before the handler runs", async () => {
    const r = await api("POST", "transit/encrypt/env", { plaintext: "", key_version: "abc" });
    expect(r.status).toBe(400);
    expect(r.json.errors[0]).toMatch(/^Field validation failed: error converting input abc for field "key_version"/);
    expect((await api("POST", "transit/keys/env/config", { deletion_allowed: [] })).status).toBe(400);
    // Weak decoding: numeric strings and booleans as 0/1 are accepted, as in Vault.
    expect((await api("POST", "transit/keys/env/config", { deletion_allowed: "true", min_decryption_version: "1" })).status).toBe(200);
  });

  it("400s malformed JSON and non-object bodies", async () => {
    expect((await api("POST", "transit/encrypt/env", '{"plaintext":')).status).toBe(400);
    expect((await api("POST", "transit/encrypt/env", "[1,2]")).status).toBe(400);
  });
});

describe("mounts", () => {
  it("enables transit at any path with isolated keys, refuses duplicates, and disables", async () => {
    expect((await api("POST", "sys/mounts/a/b", { type: "transit" })).status).toBe(204);
    expect((await api("POST", "sys/mounts/a/b", { type: "transit" })).json.errors[0]).toContain("path is already in use at a/b/");
    await api("POST", "a/b/keys/only-here");
    expect((await api("GET", "transit/keys/only-here")).status).toBe(404);
    expect((await api("LIST", "a/b/keys")).json.data.keys).toEqual(["only-here"]);
    const mounts = await api("GET", "sys/mounts");
    expect(mounts.json.data["a/b/"]).toMatchObject({ type: "transit" });
    expect((await api("DELETE", "sys/mounts/a/b")).status).toBe(204);
    expect((await api("GET", "a/b/keys/only-here")).status).toBe(404);
  });

  it("starts without transit/ when mountTransit is false", async () => {
    const s = await startTransitServer({ port: 0, quiet: true, mountTransit: false });
    try {
      expect((await call(s.url, s.token, "POST", "transit/keys/x")).status).toBe(404);
    } finally {
      await s.close();
    }
  });

  it("lookup-self and health", async () => {
    const r = await api("GET", "auth/token/lookup-self");
    expect(r.json.data).toMatchObject({ id: T, policies: ["root"], ttl: 0, display_name: "root" });
    const h = await api("GET", "sys/health", undefined, null);
    expect(h.json).toMatchObject({ initialized: true, sealed: false, standby: false });
  });
});

describe("transit behaviour", () => {
  it("encrypt batches: 400 with batch_results on an item failure, override only with a success", async () => {
    const mixed = await api("POST", "transit/encrypt/b1", { batch_input: [{ plaintext: "aGk=", reference: "ok" }, { plaintext: "not base64", reference: "bad" }] });
    expect(mixed.status).toBe(400);
    expect(mixed.json.data.batch_results[0]).toMatchObject({ key_version: 1, reference: "ok" });
    expect(mixed.json.data.batch_results[1]).toEqual({ error: "illegal base64 data at input byte 3", reference: "bad" });
    const over = await api("POST", "transit/encrypt/b1", { batch_input: [{ plaintext: "aGk=" }, { plaintext: "x" }], partial_failure_response_code: 207 });
    expect(over.status).toBe(207);
    const allBad = await api("POST", "transit/encrypt/b1", { batch_input: [{ plaintext: "x" }], partial_failure_response_code: 207 });
    expect(allBad.status).toBe(400);
    const invalid = await api("POST", "transit/encrypt/b1", { batch_input: [{ plaintext: "aGk=" }, { plaintext: "x" }], partial_failure_response_code: 999 });
    expect(invalid.status).toBe(400);
    expect(invalid.json.warnings).toEqual(["invalid HTTP response code override from partial_failure_response_code, reverting to 400"]);
    expect((await api("POST", "transit/encrypt/b1", { batch_input: [] })).json.errors).toEqual(["missing batch input to process"]);
    const parse = await api("POST", "transit/encrypt/b1", { batch_input: [{ context: "Yw==" }] });
    expect(parse.status).toBe(500);
    expect(parse.json.errors[0]).toContain("failed to parse batch input");
    expect((await api("POST", "transit/encrypt/b1", { batch_input: [{ plaintext: "", context: "Yw==" }, { plaintext: "" }] })).status).toBe(400);
  });

  it("rewrap and hmac batches are always 200", async () => {
    const ct = (await api("POST", "transit/encrypt/b2", { plaintext: b64("x") })).json.data.ciphertext;
    await api("POST", "transit/keys/b2/rotate");
    const rw = await api("POST", "transit/rewrap/b2", { batch_input: [{ ciphertext: ct, reference: "a" }, { ciphertext: "garbage", reference: "b" }] });
    expect(rw.status).toBe(200);
    expect(rw.json.data.batch_results[0]).toMatchObject({ key_version: 2, reference: "a" });
    expect(rw.json.data.batch_results[0].ciphertext).toMatch(/^vault:v2:/);
    expect(rw.json.data.batch_results[1]).toEqual({ error: "invalid ciphertext: no prefix", reference: "b" });
    const hm = await api("POST", "transit/hmac/b2", { batch_input: [{ input: "aGk=" }, { input: "!" }] });
    expect(hm.status).toBe(200);
    expect(hm.json.data.batch_results[1].error).toBe("unable to decode input as base64: illegal base64 data at input byte 0");
    const mac = hm.json.data.batch_results[0].hmac;
    expect((await api("POST", "transit/verify/b2", { input: "aGk=", hmac: mac })).json.data.valid).toBe(true);
    expect((await api("POST", "transit/verify/b2", { input: "aGo=", hmac: mac })).json.data.valid).toBe(false);
    expect((await api("POST", "transit/verify/b2/sha2-512", { input: "aGk=", hmac: mac })).json.data.valid).toBe(false);
  });

  it("datakey and export round-trip through local AES-GCM", async () => {
    await api("POST", "transit/keys/ex", { exportable: true });
    const dk = await api("POST", "transit/datakey/plaintext/ex", { bits: 128 });
    expect(Buffer.from(dk.json.data.plaintext, "base64")).toHaveLength(16);
    expect((await api("POST", "transit/decrypt/ex", { ciphertext: dk.json.data.ciphertext })).json.data.plaintext).toBe(dk.json.data.plaintext);
    expect((await api("POST", "transit/datakey/wrapped/ex")).json.data).not.toHaveProperty("plaintext");
    const key = Buffer.from((await api("GET", "transit/export/encryption-key/ex/latest")).json.data.keys["1"], "base64");
    const raw = Buffer.from(dk.json.data.ciphertext.slice(9), "base64");
    const d = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(raw.length - 16));
    expect(Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString("base64")).toBe(dk.json.data.plaintext);
    expect((await api("GET", "transit/export/encryption-key/b2")).json.errors).toEqual(["private key material is not exportable"]);
  });

  it("disable_upsert stops encrypt from creating keys", async () => {
    expect((await api("POST", "transit/config/keys", { disable_upsert: true })).json.data).toEqual({ disable_upsert: true });
    expect((await api("POST", "transit/encrypt/new-key", { plaintext: "" })).json.errors).toEqual(["encryption key not found"]);
    await api("POST", "transit/config/keys", { disable_upsert: false });
    expect((await api("POST", "transit/encrypt/new-key", { plaintext: "" })).status).toBe(200);
  });

  it("config, trim and delete follow the version model", async () => {
    await api("POST", "transit/keys/v");
    for (let i = 0; i < 3; i++) await api("POST", "transit/keys/v/rotate");
    expect((await api("POST", "transit/keys/v/trim", { min_available_version: 2 })).json.errors).toEqual([
      "minimum available version cannot be set when minimum encryption version is not set",
    ]);
    expect((await api("POST", "transit/keys/v/config", { min_decryption_version: 5 })).json.errors).toEqual([
      "cannot set min decryption version of 5, latest key version is 4",
    ]);
    const cfg = await api("POST", "transit/keys/v/config", { min_encryption_version: 3, min_decryption_version: 3 });
    expect(Object.keys(cfg.json.data.keys)).toEqual(["3", "4"]);
    const trimmed = await api("POST", "transit/keys/v/trim", { min_available_version: 3 });
    expect(trimmed.json.data.min_available_version).toBe(3);
    expect((await api("POST", "transit/keys/v/config", { min_decryption_version: 1 })).json.errors).toEqual([
      "min decryption version should not be less then min available version",
    ]);
    expect((await api("POST", "transit/keys/v/config", { min_decryption_version: 4 })).json.errors).toEqual([
      "cannot set min encryption/decryption values; min encryption version of 3 must be greater than or equal to min decryption version of 4",
    ]);
    expect((await api("GET", "transit/keys/v")).json.data.min_decryption_version).toBe(3); // failed config changed nothing
    expect((await api("DELETE", "transit/keys/v")).json.errors).toEqual(["error deleting policy v: deletion is not allowed for this key"]);
    await api("POST", "transit/keys/v/config", { deletion_allowed: true });
    expect((await api("DELETE", "transit/keys/v")).status).toBe(204);
    expect((await api("DELETE", "transit/keys/v")).json.errors).toEqual(["error deleting policy v: could not delete key; not found"]);
  });
});
