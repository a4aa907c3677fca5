/**
 * Test fixtures for re-wrap campaigns: share records with known plaintext on chosen key versions, in both
 * layouts, and a test-only decrypt that proves what a stored record holds. The console itself has no decrypt
 * path; these talk to the dev Transit server over plain HTTP, as a wallet backend would.
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Db } from "@/lib/db/client";

export interface TransitEndpoint {
  url: string;
  token: string;
  mount?: string;
}

async function transit(ep: TransitEndpoint, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${ep.url}/v1/${ep.mount ?? "transit"}/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "X-Vault-Token": ep.token, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`transit ${path}: ${res.status} ${text.slice(0, 200)}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

export async function createKey(ep: TransitEndpoint, name: string, opts: { derived?: boolean } = {}): Promise<void> {
  await transit(ep, `keys/${name}`, { type: "aes256-gcm96", derived: opts.derived ?? false });
}

export async function rotateKey(ep: TransitEndpoint, name: string): Promise<void> {
  await transit(ep, `keys/${name}/rotate`, {});
}

export async function latestVersion(ep: TransitEndpoint, name: string): Promise<number> {
  const body = await transit(ep, `keys/${name}`);
  return Number((body.data as { latest_version: number }).latest_version);
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");

/** Batch encrypt on a chosen version; returns ciphertexts in order. */
export async function encryptMany(
  ep: TransitEndpoint,
  key: string,
  items: { plaintext: Uint8Array; context?: string }[],
  keyVersion?: number,
): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < items.length; i += 500) {
    const chunk = items.slice(i, i + 500);
    const body = await transit(ep, `encrypt/${key}`, {
      batch_input: chunk.map((it) => ({
        plaintext: b64(it.plaintext),
        ...(it.context ? { context: b64(Buffer.from(it.context, "utf8")) } : {}),
        ...(keyVersion ? { key_version: keyVersion } : {}),
      })),
    });
    for (const r of (body.data as { batch_results: { ciphertext?: string; error?: string }[] }).batch_results) {
      if (!r.ciphertext) throw new Error(`encrypt item failed: ${r.error}`);
      out.push(r.ciphertext);
    }
  }
  return out;
}

export async function decryptOne(ep: TransitEndpoint, key: string, ciphertext: string, context?: string): Promise<Buffer> {
  const body = await transit(ep, `decrypt/${key}`, {
    ciphertext,
    ...(context ? { context: b64(Buffer.from(context, "utf8")) } : {}),
  });
  return Buffer.from((body.data as { plaintext: string }).plaintext, "base64");
}

export interface FixtureRecord {
  id: string;
  walletId: string;
  accountAddress: string;
  plaintext: Buffer;
  layout: "direct" | "envelope";
}

/** Stored bytes for a record: the direct ciphertext, or the envelope document around a wrapped data key. */
export function envelopeBytes(wrappedKey: string, dataKey: Buffer, plaintext: Buffer, walletId: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", dataKey, iv);
  cipher.setAAD(Buffer.from(walletId, "utf8"));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.from(
    JSON.stringify({ v: 1, wrapped_key: wrappedKey, iv: b64(iv), ciphertext: b64(ct), tag: b64(cipher.getAuthTag()) }),
    "utf8",
  );
}

/**
 * Inserts `count` records of `key`, spread round-robin over `versions` (which must exist), a share of them in
 * the envelope layout. Derived keys get context = wallet id, as the backend does.
 */
export async function seedRecords(
  db: Db,
  ep: TransitEndpoint,
  opts: { key: string; count: number; versions: number[]; envelopeEvery?: number; derived?: boolean; environment?: string },
): Promise<FixtureRecord[]> {
  const records: FixtureRecord[] = [];
  const byVersion = new Map<number, { rec: FixtureRecord; secret: Buffer }[]>();
  for (let i = 0; i < opts.count; i++) {
    const walletId = randomUUID();
    const rec: FixtureRecord = {
      id: randomUUID(),
      walletId,
      accountAddress: `0x${randomBytes(20).toString("hex")}`,
      plaintext: randomBytes(48),
      layout: opts.envelopeEvery && i % opts.envelopeEvery === 0 ? "envelope" : "direct",
    };
    records.push(rec);
    const v = opts.versions[i % opts.versions.length]!;
    const secret = rec.layout === "envelope" ? randomBytes(32) : rec.plaintext;
    (byVersion.get(v) ?? byVersion.set(v, []).get(v)!).push({ rec, secret });
  }
  const bytes = new Map<string, Buffer>();
  for (const [v, list] of byVersion) {
    const cts = await encryptMany(
      ep,
      opts.key,
      list.map((x) => ({ plaintext: x.secret, ...(opts.derived ? { context: x.rec.walletId } : {}) })),
      v,
    );
    list.forEach((x, i) => {
      const ct = cts[i]!;
      bytes.set(x.rec.id, x.rec.layout === "envelope" ? envelopeBytes(ct, x.secret, x.rec.plaintext, x.rec.walletId) : Buffer.from(ct, "utf8"));
    });
  }
  for (let i = 0; i < records.length; i += 1000) {
    const chunk = records.slice(i, i + 1000);
    const rows = chunk.map((r) => ({
      id: r.id,
      wallet_id: r.walletId,
      account_address: r.accountAddress,
      ct: bytes.get(r.id)!.toString("utf8"),
    }));
    await db.execute(sql`
      insert into server_wallet_key_shares (id, wallet_id, account_address, encrypted_key_shares, encryption_key_id, environment)
      select x.id, x.wallet_id, x.account_address, convert_to(x.ct, 'UTF8'), ${opts.key}, ${opts.environment ?? null}
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(id uuid, wallet_id text, account_address text, ct text)`);
  }
  return records;
}

/** Test-only: what a stored record decrypts to (Transit decrypt, then AES-GCM for the envelope layout). */
export async function openRecord(ep: TransitEndpoint, key: string, stored: Uint8Array, walletId: string, derived = false): Promise<Buffer> {
  const text = Buffer.from(stored).toString("utf8");
  const context = derived ? walletId : undefined;
  if (text.startsWith("vault:")) return decryptOne(ep, key, text, context);
  const doc = JSON.parse(text) as { wrapped_key: string; iv: string; ciphertext: string; tag: string };
  const dataKey = await decryptOne(ep, key, doc.wrapped_key, context);
  const d = createDecipheriv("aes-256-gcm", dataKey, Buffer.from(doc.iv, "base64"));
  d.setAAD(Buffer.from(walletId, "utf8"));
  d.setAuthTag(Buffer.from(doc.tag, "base64"));
  return Buffer.concat([d.update(Buffer.from(doc.ciphertext, "base64")), d.final()]);
}

/** Test-only batch decrypt (500 per call); retries the whole call while injected faults make it fail. */
export async function decryptMany(ep: TransitEndpoint, key: string, items: { ciphertext: string; context?: string }[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < items.length; i += 500) {
    const chunk = items.slice(i, i + 500);
    const body = await transit(ep, `decrypt/${key}`, {
      batch_input: chunk.map((it) => ({ ciphertext: it.ciphertext, ...(it.context ? { context: b64(Buffer.from(it.context, "utf8")) } : {}) })),
    });
    for (const r of (body.data as { batch_results: { plaintext?: string; error?: string }[] }).batch_results) {
      if (r.plaintext === undefined) throw new Error(`decrypt item failed: ${r.error}`);
      out.push(Buffer.from(r.plaintext, "base64"));
    }
  }
  return out;
}

/** Test-only: what each stored record decrypts to, in batches (see openRecord). */
export async function openRecords(ep: TransitEndpoint, key: string, rows: { stored: Uint8Array; walletId: string }[]): Promise<Buffer[]> {
  const parsed = rows.map((r) => {
    const text = Buffer.from(r.stored).toString("utf8");
    if (text.startsWith("vault:")) return { transit: text, doc: null as null | { iv: string; ciphertext: string; tag: string }, walletId: r.walletId };
    const doc = JSON.parse(text) as { wrapped_key: string; iv: string; ciphertext: string; tag: string };
    return { transit: doc.wrapped_key, doc, walletId: r.walletId };
  });
  const secrets = await decryptMany(ep, key, parsed.map((p) => ({ ciphertext: p.transit })));
  return parsed.map((p, i) => {
    const secret = secrets[i]!;
    if (!p.doc) return secret;
    const d = createDecipheriv("aes-256-gcm", secret, Buffer.from(p.doc.iv, "base64"));
    d.setAAD(Buffer.from(p.walletId, "utf8"));
    d.setAuthTag(Buffer.from(p.doc.tag, "base64"));
    return Buffer.concat([d.update(Buffer.from(p.doc.ciphertext, "base64")), d.final()]);
  });
}
