import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startTransitServer } from "./server";
import { STATE_FILE } from "./store";
import { call } from "./test-helpers";

const dir = mkdtempSync(path.join(tmpdir(), "transit-persist-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("dataDir persistence", () => {
  it("keeps keys of every mount, versions, config and disable_upsert across a restart", async () => {
    const T = "root";
    const a = await startTransitServer({ port: 0, quiet: true, rootToken: T, dataDir: dir });
    expect((await call(a.url, T, "POST", "sys/mounts/team/kms", { type: "transit" })).status).toBe(204);
    await call(a.url, T, "POST", "transit/keys/k", { exportable: true });
    await call(a.url, T, "POST", "transit/keys/k/rotate");
    await call(a.url, T, "POST", "transit/keys/k/config", { min_decryption_version: 2, deletion_allowed: true });
    await call(a.url, T, "POST", "team/kms/keys/d", { derived: true });
    await call(a.url, T, "POST", "team/kms/config/keys", { disable_upsert: true });
    const ct = (await call(a.url, T, "POST", "transit/encrypt/k", { plaintext: "aGk=" })).json.data.ciphertext as string;
    const dct = (await call(a.url, T, "POST", "team/kms/encrypt/d", { plaintext: "aGk=", context: "Yw==" })).json.data.ciphertext as string;
    const before = (await call(a.url, T, "GET", "transit/keys/k")).json.data;
    await a.close();

    const file = path.join(dir, STATE_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual([STATE_FILE]); // no temp files left behind

    const b = await startTransitServer({ port: 0, quiet: true, rootToken: T, dataDir: dir });
    try {
      expect((await call(b.url, T, "GET", "transit/keys/k")).json.data).toEqual(before);
      expect((await call(b.url, T, "POST", "transit/decrypt/k", { ciphertext: ct })).json.data.plaintext).toBe("aGk=");
      expect((await call(b.url, T, "POST", "team/kms/decrypt/d", { ciphertext: dct, context: "Yw==" })).json.data.plaintext).toBe("aGk=");
      expect((await call(b.url, T, "GET", "team/kms/config/keys")).json.data).toEqual({ disable_upsert: true });
      expect(Object.keys((await call(b.url, T, "GET", "sys/mounts")).json.data).sort()).toEqual(["team/kms/", "transit/"]);
      // Deletion is persisted too.
      expect((await call(b.url, T, "DELETE", "transit/keys/k")).status).toBe(204);
    } finally {
      await b.close();
    }
    const c = await startTransitServer({ port: 0, quiet: true, rootToken: T, dataDir: dir });
    try {
      expect((await call(c.url, T, "GET", "transit/keys/k")).status).toBe(404);
    } finally {
      await c.close();
    }
  });

  it("keeps an upserted key but does not rewrite the file on plain encrypt/rewrap", async () => {
    const d2 = mkdtempSync(path.join(tmpdir(), "transit-persist-"));
    try {
      const s = await startTransitServer({ port: 0, quiet: true, dataDir: d2 });
      await call(s.url, s.token, "POST", "transit/encrypt/up", { plaintext: "" });
      const file = path.join(d2, STATE_FILE);
      const m1 = statSync(file).mtimeMs;
      await new Promise((r) => setTimeout(r, 30));
      const ct = (await call(s.url, s.token, "POST", "transit/encrypt/up", { plaintext: "" })).json.data.ciphertext;
      await call(s.url, s.token, "POST", "transit/rewrap/up", { ciphertext: ct });
      expect(statSync(file).mtimeMs).toBe(m1);
      await s.close();
      const s2 = await startTransitServer({ port: 0, quiet: true, dataDir: d2 });
      expect((await call(s2.url, s2.token, "POST", "transit/decrypt/up", { ciphertext: ct })).status).toBe(200);
      await s2.close();
    } finally {
      rmSync(d2, { recursive: true, force: true });
    }
  });

  it("without dataDir nothing survives", async () => {
    const s = await startTransitServer({ port: 0, quiet: true });
    await call(s.url, s.token, "POST", "transit/keys/x");
    await s.close();
    const s2 = await startTransitServer({ port: 0, quiet: true });
    expect((await call(s2.url, s2.token, "LIST", "transit/keys")).status).toBe(404);
    await s2.close();
  });
});
