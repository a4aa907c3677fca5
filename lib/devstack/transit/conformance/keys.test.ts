/**
 * Conformance: key lifecycle — create, read (KeyInfo), list, delete, rotate, config, trim, config/keys
 * (reference §2.4–2.8, §2.16, §6, §7).
 */
import { describe, expect, it } from "vitest";
import {
  configure,
  createKey,
  encrypt,
  expectEmpty404,
  expectError,
  expectErrorContaining,
  nowSeconds,
  randomName,
  readKey,
  rotate,
  useTransitMount,
  VaultClient,
} from "./harness";

const ctx = useTransitMount();

const versions = (info: { keys: Record<string, unknown> }) =>
  Object.keys(info.keys)
    .map(Number)
    .sort((a, b) => a - b);

describe("create (§2.5.1)", () => {
  it("defaults to aes256-gcm96 and answers 200 with the KeyInfo of a fresh key", async () => {
    const name = randomName("k");
    const res = await ctx.client.post(ctx.t(`keys/${name}`), {});
    expect(res.status).toBe(200);
    const d = res.body.data;
    expect(d).toMatchObject({
      name,
      type: "aes256-gcm96",
      derived: false,
      deletion_allowed: false,
      exportable: false,
      allow_plaintext_backup: false,
      latest_version: 1,
      min_decryption_version: 1,
      min_encryption_version: 0,
      min_available_version: 0,
      supports_encryption: true,
      supports_decryption: true,
      supports_derivation: true,
      supports_signing: false,
      auto_rotate_period: 0,
      imported_key: false,
    });
    expect(Object.keys(d.keys)).toEqual(["1"]);
    // Non-derived keys carry no kdf / convergent fields.
    expect(d).not.toHaveProperty("kdf");
    expect(d).not.toHaveProperty("convergent_encryption");
  });

  it.each(["aes256-gcm96", "aes128-gcm96", "chacha20-poly1305"])("creates a %s key", async (type) => {
    const name = await createKey(ctx, { type });
    const d = await readKey(ctx, name);
    expect(d.type).toBe(type);
    expect(d.supports_encryption).toBe(true);
    expect(d.supports_decryption).toBe(true);
    expect(d.latest_version).toBe(1);
    const ct = await encrypt(ctx, name, `payload for ${type}`);
    expect(ct.startsWith("vault:v1:")).toBe(true);
  });

  it("derived key: derived true, kdf hkdf_sha256, convergent_encryption false", async () => {
    const d = await readKey(ctx, await createKey(ctx, { derived: true }));
    expect(d).toMatchObject({ derived: true, kdf: "hkdf_sha256", convergent_encryption: false });
  });

  it("derived + convergent key: convergent_encryption true, convergent_encryption_version -1", async () => {
    const d = await readKey(ctx, await createKey(ctx, { derived: true, convergent_encryption: true }));
    expect(d).toMatchObject({
      derived: true,
      kdf: "hkdf_sha256",
      convergent_encryption: true,
      convergent_encryption_version: -1,
    });
  });

  it("exportable and allow_plaintext_backup are recorded", async () => {
    const d = await readKey(ctx, await createKey(ctx, { exportable: true, allow_plaintext_backup: true }));
    expect(d.exportable).toBe(true);
    expect(d.allow_plaintext_backup).toBe(true);
  });

  it("auto_rotate_period accepts a duration string and reports seconds", async () => {
    const d = await readKey(ctx, await createKey(ctx, { auto_rotate_period: "5h" }));
    expect(d.auto_rotate_period).toBe(18000);
  });

  it("create is an idempotent upsert: a second create changes nothing", async () => {
    const name = await createKey(ctx, { type: "aes128-gcm96" });
    const again = await ctx.client.post(ctx.t(`keys/${name}`), { type: "chacha20-poly1305", exportable: true });
    expect(again.status).toBe(200);
    expect(again.body.data).toMatchObject({ type: "aes128-gcm96", latest_version: 1, exportable: false });
  });

  it("deletion_allowed is not a create parameter: ignored with a warning", async () => {
    const res = await ctx.client.post(ctx.t(`keys/${randomName("k")}`), { deletion_allowed: true });
    expect(res.status).toBe(200);
    expect(res.body.warnings).toEqual(["Endpoint ignored these unrecognized parameters: [deletion_allowed]"]);
    expect(res.body.data.deletion_allowed).toBe(false);
  });

  it("unknown type → 400 unknown key type <t>", async () => {
    const name = randomName("k");
    expectError(await ctx.client.post(ctx.t(`keys/${name}`), { type: "rot13" }), 400, "unknown key type rot13");
    expectEmpty404(await ctx.client.get(ctx.t(`keys/${name}`)));
  });

  it("convergent without derived → 400", async () => {
    const res = await ctx.client.post(ctx.t(`keys/${randomName("k")}`), { convergent_encryption: true });
    expectError(res, 400, "convergent encryption requires derivation to be enabled");
  });

  it("auto_rotate_period under an hour → 400", async () => {
    const res = await ctx.client.post(ctx.t(`keys/${randomName("k")}`), { auto_rotate_period: 600 });
    expectError(res, 400, "auto rotate period must be 0 to disable or at least an hour");
  });

  it("derived ecdsa-p256 → 500 (plain error from the lock manager)", async () => {
    const res = await ctx.client.post(ctx.t(`keys/${randomName("k")}`), { type: "ecdsa-p256", derived: true });
    expectErrorContaining(res, 500, "key derivation and convergent encryption not supported for keys of type ecdsa-p256");
  });
});

describe("read (§2.5.2)", () => {
  it("keys map: version → integer unix seconds of creation", async () => {
    const before = nowSeconds();
    const d = await readKey(ctx, await createKey(ctx));
    const t = d.keys["1"];
    expect(Number.isInteger(t)).toBe(true);
    expect(t).toBeGreaterThanOrEqual(before - 300);
    expect(t).toBeLessThanOrEqual(nowSeconds() + 300);
  });

  it("missing key → 404 {errors: []}", async () => {
    expectEmpty404(await ctx.client.get(ctx.t(`keys/${randomName("missing")}`)));
  });

  it("keys hides versions below min_decryption_version and shows them again when it is lowered", async () => {
    const name = await createKey(ctx);
    await rotate(ctx, name, 3);
    expect(versions(await readKey(ctx, name))).toEqual([1, 2, 3, 4]);
    const cfg = await configure(ctx, name, { min_decryption_version: 3 });
    expect(versions(cfg.data)).toEqual([3, 4]);
    expect(versions(await readKey(ctx, name))).toEqual([3, 4]);
    await configure(ctx, name, { min_decryption_version: 1 });
    expect(versions(await readKey(ctx, name))).toEqual([1, 2, 3, 4]);
  });
});

describe("list (§2.4)", () => {
  it("an empty mount lists as 404 {errors: []}", async () => {
    const mount = randomName("conf-empty");
    const client: VaultClient = ctx.client;
    expect((await client.post(`sys/mounts/${mount}`, { type: "transit" })).status).toBe(204);
    try {
      expectEmpty404(await client.get(`${mount}/keys?list=true`));
    } finally {
      await client.delete(`sys/mounts/${mount}`);
    }
  });

  it("GET ?list=true lists key names, sorted", async () => {
    const names = ["c-key", "a-key", "b-key"].map((n) => randomName(n));
    for (const n of names) await createKey(ctx, {}, n);
    const res = await ctx.client.get(ctx.t("keys?list=true"));
    expect(res.status).toBe(200);
    const keys = res.body.data.keys as string[];
    for (const n of names) expect(keys).toContain(n);
    expect(keys).toEqual([...keys].sort());
  });

  it("?list=1 is accepted as true (strconv.ParseBool)", async () => {
    const name = await createKey(ctx);
    const res = await ctx.client.get(ctx.t("keys?list=1"));
    expect(res.status).toBe(200);
    expect(res.body.data.keys).toContain(name);
  });
});

describe("delete (§2.5.3)", () => {
  it("not allowed → 400 error deleting policy <n>: deletion is not allowed for this key; key survives", async () => {
    const name = await createKey(ctx);
    expectError(
      await ctx.client.delete(ctx.t(`keys/${name}`)),
      400,
      `error deleting policy ${name}: deletion is not allowed for this key`,
    );
    expect((await readKey(ctx, name)).name).toBe(name);
  });

  it("allowed → 204 empty; later read 404; recreation starts again at v1", async () => {
    const name = await createKey(ctx);
    await rotate(ctx, name, 2);
    const cfg = await configure(ctx, name, { deletion_allowed: true });
    expect(cfg.data.deletion_allowed).toBe(true);
    const del = await ctx.client.delete(ctx.t(`keys/${name}`));
    expect(del.status).toBe(204);
    expect(del.text).toBe("");
    expectEmpty404(await ctx.client.get(ctx.t(`keys/${name}`)));
    const recreated = await readKey(ctx, await createKey(ctx, {}, name));
    expect(recreated.latest_version).toBe(1);
    expect(recreated.deletion_allowed).toBe(false);
  });

  it("missing key → 400 could not delete key; not found", async () => {
    const name = randomName("missing");
    expectError(
      await ctx.client.delete(ctx.t(`keys/${name}`)),
      400,
      `error deleting policy ${name}: could not delete key; not found`,
    );
  });
});

describe("rotate (§2.7)", () => {
  it("adds latest+1 and answers 200 with KeyInfo; D, E, A unchanged", async () => {
    const name = await createKey(ctx);
    const res = await ctx.client.post(ctx.t(`keys/${name}/rotate`));
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      latest_version: 2,
      min_decryption_version: 1,
      min_encryption_version: 0,
      min_available_version: 0,
    });
    expect(versions(res.body.data)).toEqual([1, 2]);
    expect(Number.isInteger(res.body.data.keys["2"])).toBe(true);
    // New encryptions use the new version.
    expect((await encrypt(ctx, name, "after rotate")).startsWith("vault:v2:")).toBe(true);
  });

  it("missing key → 400 key not found", async () => {
    expectError(await ctx.client.post(ctx.t(`keys/${randomName("missing")}/rotate`)), 400, "key not found");
  });
});

describe("config (§2.6)", () => {
  it("missing key → 400 no existing key named <n> could be found", async () => {
    const name = randomName("missing");
    expectError(
      await ctx.client.post(ctx.t(`keys/${name}/config`), { deletion_allowed: true }),
      400,
      `no existing key named ${name} could be found`,
    );
  });

  it("success → 200 KeyInfo, also when nothing changes", async () => {
    const name = await createKey(ctx);
    const res = await ctx.client.post(ctx.t(`keys/${name}/config`), {});
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ name, latest_version: 1, min_decryption_version: 1 });
  });

  it("negative min_decryption_version → 400", async () => {
    const name = await createKey(ctx);
    expectError(
      await ctx.client.post(ctx.t(`keys/${name}/config`), { min_decryption_version: -1 }),
      400,
      "min decryption version cannot be negative",
    );
  });

  it("min_decryption_version 0 is forced to 1 with a warning (wording differs Vault/OpenBao: substring)", async () => {
    const name = await createKey(ctx);
    const res = await ctx.client.post(ctx.t(`keys/${name}/config`), { min_decryption_version: 0 });
    expect(res.status).toBe(200);
    expect(res.body.data.min_decryption_version).toBe(1);
    expect(res.body.warnings).toHaveLength(1);
    expect(res.body.warnings[0]).toContain("transit key numbering starts at 1; forcing minimum to 1");
  });

  it("min_decryption_version above latest → 400", async () => {
    const name = await createKey(ctx);
    await rotate(ctx, name);
    expectError(
      await ctx.client.post(ctx.t(`keys/${name}/config`), { min_decryption_version: 5 }),
      400,
      "cannot set min decryption version of 5, latest key version is 2",
    );
  });

  it("negative min_encryption_version → 400", async () => {
    const name = await createKey(ctx);
    expectError(
      await ctx.client.post(ctx.t(`keys/${name}/config`), { min_encryption_version: -2 }),
      400,
      "min encryption version cannot be negative",
    );
  });

  it("min_encryption_version above latest → 400", async () => {
    const name = await createKey(ctx);
    await rotate(ctx, name);
    expectError(
      await ctx.client.post(ctx.t(`keys/${name}/config`), { min_encryption_version: 3 }),
      400,
      "cannot set min encryption version of 3, latest key version is 2",
    );
  });

  it("0 < min_encryption_version < min_decryption_version → 400, and nothing is applied", async () => {
    const name = await createKey(ctx);
    await rotate(ctx, name, 2);
    expectError(
      await ctx.client.post(ctx.t(`keys/${name}/config`), {
        min_decryption_version: 3,
        min_encryption_version: 2,
        deletion_allowed: true,
      }),
      400,
      "cannot set min encryption/decryption values; min encryption version of 2 must be greater than or equal to min decryption version of 3",
    );
    const d = await readKey(ctx, name);
    expect(d).toMatchObject({ min_decryption_version: 1, min_encryption_version: 0, deletion_allowed: false });
  });

  it("auto_rotate_period under an hour → 400", async () => {
    const name = await createKey(ctx);
    expectError(
      await ctx.client.post(ctx.t(`keys/${name}/config`), { auto_rotate_period: "30m" }),
      400,
      "auto rotate period must be 0 to disable or at least an hour",
    );
  });

  it("exportable can be turned on but never off (false is silently ignored)", async () => {
    const name = await createKey(ctx);
    expect((await configure(ctx, name, { exportable: true })).data.exportable).toBe(true);
    expect((await configure(ctx, name, { exportable: false })).data.exportable).toBe(true);
  });

  it("below the trimmed floor → 400 (min encryption, then min decryption with the 'then' typo)", async () => {
    const name = await createKey(ctx);
    await rotate(ctx, name, 2); // L = 3
    await configure(ctx, name, { min_encryption_version: 3, min_decryption_version: 2 });
    const trimmed = await ctx.client.post(ctx.t(`keys/${name}/trim`), { min_available_version: 2 });
    expect(trimmed.status).toBe(200);
    expectError(
      await ctx.client.post(ctx.t(`keys/${name}/config`), { min_decryption_version: 1, min_encryption_version: 1 }),
      400,
      "min encryption version should not be less than min available version",
    );
    expectError(
      await ctx.client.post(ctx.t(`keys/${name}/config`), { min_decryption_version: 1 }),
      400,
      "min decryption version should not be less then min available version",
    );
    expect(await readKey(ctx, name)).toMatchObject({
      min_decryption_version: 2,
      min_encryption_version: 3,
      min_available_version: 2,
    });
  });
});

describe("trim (§2.8)", () => {
  async function trimmable() {
    const name = await createKey(ctx);
    await rotate(ctx, name, 3); // L = 4
    return name;
  }

  it("missing key → 400 invalid key name", async () => {
    expectError(
      await ctx.client.post(ctx.t(`keys/${randomName("missing")}/trim`), { min_available_version: 1 }),
      400,
      "invalid key name",
    );
  });

  it("absent min_available_version → 400", async () => {
    const name = await trimmable();
    expectError(await ctx.client.post(ctx.t(`keys/${name}/trim`), {}), 400, "missing min_available_version");
  });

  it("min_encryption_version not set → 400", async () => {
    const name = await trimmable();
    await configure(ctx, name, { min_decryption_version: 2 });
    expectError(
      await ctx.client.post(ctx.t(`keys/${name}/trim`), { min_available_version: 2 }),
      400,
      "minimum available version cannot be set when minimum encryption version is not set",
    );
  });

  it("above min_encryption_version → 400 (the 'minmum' typo)", async () => {
    const name = await trimmable();
    await configure(ctx, name, { min_decryption_version: 2, min_encryption_version: 2 });
    expectError(
      await ctx.client.post(ctx.t(`keys/${name}/trim`), { min_available_version: 3 }),
      400,
      "minimum available version cannot be greater than minmum encryption version",
    );
  });

  it("above min_decryption_version → 400", async () => {
    const name = await trimmable();
    await configure(ctx, name, { min_decryption_version: 2, min_encryption_version: 4 });
    expectError(
      await ctx.client.post(ctx.t(`keys/${name}/trim`), { min_available_version: 3 }),
      400,
      "minimum available version cannot be greater than minimum decryption version",
    );
  });

  it("zero → 400 should be positive", async () => {
    const name = await trimmable();
    await configure(ctx, name, { min_decryption_version: 2, min_encryption_version: 2 });
    expectError(
      await ctx.client.post(ctx.t(`keys/${name}/trim`), { min_available_version: 0 }),
      400,
      "minimum available version should be positive",
    );
  });

  it("success → 200 KeyInfo; trimmed versions are gone for good; cannot be decremented", async () => {
    const name = await trimmable();
    const oldCt = await encrypt(ctx, name, "old", { key_version: 1 });
    await configure(ctx, name, { min_encryption_version: 3 });
    await configure(ctx, name, { min_decryption_version: 3 });
    const res = await ctx.client.post(ctx.t(`keys/${name}/trim`), { min_available_version: 3 });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ min_available_version: 3, min_decryption_version: 3, latest_version: 4 });
    expect(versions(res.body.data)).toEqual([3, 4]);
    // Lowering min_decryption_version can no longer bring v1 back.
    expectError(
      await ctx.client.post(ctx.t(`keys/${name}/config`), { min_decryption_version: 1 }),
      400,
      "min decryption version should not be less then min available version",
    );
    expectError(
      await ctx.client.post(ctx.t(`decrypt/${name}`), { ciphertext: oldCt }),
      400,
      "ciphertext or signature version is disallowed by policy (too old)",
    );
    expectError(
      await ctx.client.post(ctx.t(`keys/${name}/trim`), { min_available_version: 2 }),
      400,
      "minimum available version cannot be decremented",
    );
  });
});

describe("config/keys (§2.16)", () => {
  it("GET returns disable_upsert false by default; POST sets it and returns it", async () => {
    const got = await ctx.client.get(ctx.t("config/keys"));
    expect(got.status).toBe(200);
    expect(got.body.data.disable_upsert).toBe(false);
    const set = await ctx.client.post(ctx.t("config/keys"), { disable_upsert: true });
    try {
      expect(set.status).toBe(200);
      expect(set.body.data).toEqual({ disable_upsert: true });
      expect((await ctx.client.get(ctx.t("config/keys"))).body.data.disable_upsert).toBe(true);
    } finally {
      const reset = await ctx.client.post(ctx.t("config/keys"), { disable_upsert: false });
      expect(reset.body.data.disable_upsert).toBe(false);
    }
  });
});
