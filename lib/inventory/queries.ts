import "server-only";
import { and, asc, desc, eq, getTableName, inArray, or, sql, type SQL } from "drizzle-orm";
import { rowsOf, type DbOrTx } from "@/lib/db/client";
import { auditEvents } from "@/lib/db/schema/audit";
import { inventoryWallets } from "@/lib/db/schema/inventory";
import { serverWalletKeyShares } from "@/lib/db/schema/key-shares";
import { walletProperties } from "@/lib/db/schema/wallet-properties";
import { can } from "@/lib/auth/permissions";
import { NotFoundError, ServiceUnavailableError } from "@/lib/errors";
import { cursorView, decodeCursor, encodeCursor } from "./cursor";
import { usToIso } from "./iso";
import { MAX_PAGE_SIZE, viewFingerprintText, type InventoryFilters, type InventoryQuery } from "./params";
import type {
  BackupStatus,
  InventoryPageDto,
  InventoryRowDto,
  ShareRecordDto,
  WalletAuditEventDto,
  WalletDetailDto,
  WalletIntegrityFlag,
  WalletPropertiesDto,
} from "./types";

/**
 * The Wallets query layer. Reads `inventory_wallets` (the trigger-maintained read table, see its schema file
 * for why) with keyset pagination: `WHERE (sort_key, id) < (:k, :id) ORDER BY sort_key DESC, id DESC LIMIT n+1`
 * on an index `(filter…, sort_key, id)`, so every page costs about n index tuples at any depth. No count(*).
 * Every value is a bound parameter; column lists are named (DTOs), and the share table's bytea is never
 * selected anywhere in this module.
 */

export interface InventoryContext {
  /** Configured key name → environment (KEY_ENVIRONMENT_MAPPING) for records without an environment column. */
  environmentMapping: Readonly<Record<string, string>>;
  /** Vault's latest version per key; null when Vault could not be asked. */
  latestVersions: ReadonlyMap<string, number> | null;
  /** For "older than N days" (tests pin it). */
  now?: Date;
}

const t = inventoryWallets;

/** Highest code point: `prefix ≤ x < prefix || U+10FFFF` is "x starts with prefix" in C collation. */
const PREFIX_UPPER = "\u{10FFFF}";

/** EVM addresses are checksummed mixed case: searched lower-case (the read table's address_key is too). */
export function normaliseSearch(q: string): string {
  return /^0x[0-9a-f]*$/i.test(q) ? q.toLowerCase() : q;
}

export function resolveEnvironment(environment: string | null, keyId: string | null, ctx: InventoryContext): string | null {
  if (environment) return environment;
  if (keyId && Object.hasOwn(ctx.environmentMapping, keyId)) return ctx.environmentMapping[keyId] ?? null;
  return null;
}

function keysOfEnvironment(env: string, ctx: InventoryContext): string[] {
  return Object.entries(ctx.environmentMapping)
    .filter(([, e]) => e === env)
    .map(([k]) => k);
}

// ---------------------------------------------------------------------------------------------------------
// The list query: SQL text written here (not through the query builder), parameters only.
//
// Per call the list's JavaScript used to cost more than the database (drizzle building and rendering the
// SQL ~0.2 ms, its per-field result mapping ~0.25 ms, for a 0.3–0.5 ms query). The text below depends only on
// the shape of the view (which filters, sort, direction, cursor or not, how many environment keys), never on
// a user string; every value is a bound parameter. On postgres.js it runs as a prepared statement (cached
// per connection by text: no parse or planning after the first call — planning against 25 indexes was most
// of a page's DB time) and rows are read as the driver returns them and mapped in one pass.

/** Column names from the schema (a rename there changes them here). */
const col = {
  id: t.id.name,
  walletId: t.walletId.name,
  accountAddress: t.accountAddress.name,
  addressKey: t.addressKey.name,
  chainName: t.chainName.name,
  scheme: t.thresholdSignatureScheme.name,
  environment: t.environment.name,
  keyId: t.encryptionKeyId.name,
  keyVersion: t.keyVersion.name,
  layout: t.layout.name,
  fingerprint: t.ciphertextFingerprint.name,
  accessCount: t.accessCount.name,
  createdUs: t.createdUs.name,
  accessedUs: t.accessedUs.name,
  wrappedUs: t.wrappedUs.name,
  backupStatus: t.backupStatus.name,
  noShare: t.noShare.name,
  noProperties: t.noProperties.name,
  cannotSign: t.cannotSign.name,
  twoOfTwoUnbacked: t.twoOfTwoUnbacked.name,
  plaintextInCache: t.plaintextInCache.name,
} as const;
const q_ = (name: string) => `"${name}"`;

/** Exactly the columns the row DTO needs. */
const LIST_SELECT = `select ${[
  col.id, col.walletId, col.accountAddress, col.chainName, col.scheme, col.environment, col.keyId, col.keyVersion, col.layout,
  col.fingerprint, col.accessCount, col.createdUs, col.accessedUs, col.wrappedUs, col.backupStatus, col.noShare, col.noProperties,
  col.cannotSign, col.twoOfTwoUnbacked, col.plaintextInCache,
].map(q_).join(", ")} from ${q_(getTableName(t))}`;

const SORT_COLUMN = { created: col.createdUs, accessed: col.accessedUs, wrapped: col.wrappedUs } as const;
const FLAG_COLUMN = {
  plaintext_in_cache: col.plaintextInCache,
  no_share: col.noShare,
  no_properties: col.noProperties,
  cannot_sign: col.cannotSign,
  two_of_two_unbacked: col.twoOfTwoUnbacked,
} as const;

/** A row as the driver returns it: bigint columns arrive as decimal text (postgres.js) or bigint (PGlite). */
interface ListRow {
  id: string;
  wallet_id: string;
  account_address: string;
  chain_name: string | null;
  threshold_signature_scheme: string | null;
  environment: string | null;
  encryption_key_id: string | null;
  key_version: number | null;
  layout: string | null;
  ciphertext_fingerprint: string | null;
  access_count: number | null;
  created_us: string | bigint;
  accessed_us: string | bigint;
  wrapped_us: string | bigint;
  backup_status: string;
  no_share: boolean;
  no_properties: boolean;
  cannot_sign: boolean;
  two_of_two_unbacked: boolean;
  plaintext_in_cache: boolean;
}

class Params {
  readonly values: unknown[] = [];
  /** Binds a value; returns its placeholder. */
  p(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

/** WHERE conditions for the filters: SQL text from fixed fragments, every value bound. */
function inventoryConditions(f: InventoryFilters, ctx: InventoryContext, b: Params): string[] {
  const c: string[] = [];
  if (f.q !== undefined) {
    const p = normaliseSearch(f.q);
    const k = `(${q_(col.addressKey)} collate "C")`;
    c.push(`((${k} >= ${b.p(p)} and ${k} < ${b.p(p + PREFIX_UPPER)}) or ${q_(col.walletId)} = ${b.p(f.q)})`);
  }
  if (f.chain !== undefined) c.push(`${q_(col.chainName)} = ${b.p(f.chain)}`);
  if (f.scheme !== undefined) c.push(`${q_(col.scheme)} = ${b.p(f.scheme)}`);
  if (f.env !== undefined) {
    const keys = keysOfEnvironment(f.env, ctx);
    const eqEnv = `${q_(col.environment)} = ${b.p(f.env)}`;
    c.push(keys.length > 0 ? `(${eqEnv} or (${q_(col.environment)} is null and ${q_(col.keyId)} in (${keys.map((k) => b.p(k)).join(", ")})))` : eqEnv);
  }
  if (f.key !== undefined) c.push(`${q_(col.keyId)} = ${b.p(f.key)}`);
  if (f.version !== undefined) c.push(`${q_(col.keyVersion)} = ${b.p(f.version)}`);
  if (f.behind) {
    if (!ctx.latestVersions) {
      throw new ServiceUnavailableError("Vault could not be reached, so “behind latest” cannot be worked out right now. Remove that filter or try again shortly.");
    }
    const behind = [...ctx.latestVersions]
      .filter(([k]) => f.key === undefined || k === f.key)
      .map(([k, latest]) => `(${q_(col.keyId)} = ${b.p(k)} and ${q_(col.keyVersion)} < ${b.p(latest)})`);
    c.push(behind.length > 0 ? `(${behind.join(" or ")})` : "false");
  }
  if (f.layout !== undefined) c.push(`${q_(col.layout)} = ${b.p(f.layout)}`);
  if (f.backup !== undefined) c.push(`${q_(col.backupStatus)} = ${b.p(f.backup)}`);
  // A range, not `= -1`: under a generic (prepared) plan an equality on a near-unique column is estimated at
  // one row and would pick the wrong index for the 10%+ of wallets never accessed.
  if (f.access === "never") c.push(`${q_(col.accessedUs)} < ${b.p("0")}`);
  if (f.access === "older") {
    const now = BigInt((ctx.now ?? new Date()).getTime()) * 1000n;
    const cutoff = now - BigInt(f.days ?? 90) * 86_400_000_000n;
    c.push(`(${q_(col.accessedUs)} >= ${b.p("0")} and ${q_(col.accessedUs)} < ${b.p(cutoff.toString())})`);
  }
  // The flag column itself (a fixed name from the enum), so the condition matches the partial index's predicate
  // under any plan.
  if (f.flag !== undefined) c.push(q_(FLAG_COLUMN[f.flag]));
  return c;
}

export interface ListOptions {
  /** Export batches may exceed the interactive page size. */
  maxLimit?: number;
}

export interface InventorySql {
  text: string;
  params: unknown[];
  limit: number;
  /** The view id the page's cursors carry (`cursorView`). */
  view: string;
}

/**
 * The page's SELECT (text and parameters), not yet run — the benchmark runs it bare as the floor. A bad cursor
 * throws ValidationError (a clear message, never a 500).
 */
export function inventorySql(q: InventoryQuery, ctx: InventoryContext, opts: ListOptions = {}): InventorySql {
  const limit = Math.max(1, Math.min(q.limit, opts.maxLimit ?? MAX_PAGE_SIZE));
  const view = cursorView(viewFingerprintText(q));
  const sortCol = q_(SORT_COLUMN[q.sort]);
  const b = new Params();
  const conds = inventoryConditions(q.filters, ctx, b);
  const dir = q.dir === "desc" ? "desc" : "asc";
  if (q.cursor !== undefined) {
    const pos = decodeCursor(q.cursor, view);
    // Row comparison: one index range condition on (sort_key, id).
    conds.push(`(${sortCol}, ${q_(col.id)}) ${dir === "desc" ? "<" : ">"} (${b.p(pos.key.toString())}::bigint, ${b.p(pos.id)}::uuid)`);
  }
  const where = conds.length > 0 ? ` where ${conds.join(" and ")}` : "";
  const text = `${LIST_SELECT}${where} order by ${sortCol} ${dir}, ${q_(col.id)} ${dir} limit ${b.p(limit + 1)}`;
  return { text, params: b.values, limit, view };
}

type UnsafeClient = { unsafe(text: string, params: unknown[], opts: { prepare: boolean }): Promise<unknown[]> };

/** The postgres.js client behind a database handle (not a transaction: that has no `$client` of its own). */
function postgresJsClient(db: DbOrTx): UnsafeClient | null {
  if (!Object.hasOwn(db, "$client")) return null;
  const c = (db as unknown as { $client: unknown }).$client;
  return typeof (c as Partial<UnsafeClient>)?.unsafe === "function" ? (c as UnsafeClient) : null;
}

async function runListSql(db: DbOrTx, text: string, params: unknown[]): Promise<ListRow[]> {
  const pg = postgresJsClient(db);
  if (pg) return (await pg.unsafe(text, params, { prepare: true })) as ListRow[];
  // PGlite or a transaction: the same text and parameters through drizzle's execute.
  const segs = text.split(/\$(\d+)/);
  const chunks: SQL[] = segs.map((s, i) => (i % 2 === 1 ? sql`${params[Number(s) - 1]}` : sql.raw(s)));
  return rowsOf<ListRow>(await db.execute(sql.join(chunks)));
}

/** One keyset page of the Wallets list. */
export async function listInventory(db: DbOrTx, q: InventoryQuery, ctx: InventoryContext, opts: ListOptions = {}): Promise<InventoryPageDto> {
  const { text, params, limit, view } = inventorySql(q, ctx, opts);
  const rows = await runListSql(db, text, params);
  const n = Math.min(rows.length, limit);
  const out = new Array<InventoryRowDto>(n);
  const latestVersions = ctx.latestVersions;
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    const keyId = r.encryption_key_id;
    const version = r.key_version;
    const latest = keyId !== null && latestVersions ? (latestVersions.get(keyId) ?? null) : null;
    const accessed = Number(r.accessed_us);
    out[i] = {
      id: r.id,
      walletId: r.wallet_id,
      accountAddress: r.account_address,
      chainName: r.chain_name,
      thresholdSignatureScheme: r.threshold_signature_scheme,
      environment: resolveEnvironment(r.environment, keyId, ctx),
      encryptionKeyId: keyId,
      keyVersion: version,
      latestVersion: latest,
      behindLatest: latest !== null && version !== null ? version < latest : null,
      layout: r.layout,
      fingerprint: r.ciphertext_fingerprint,
      createdAt: usToIso(Number(r.created_us)),
      lastAccessedAt: accessed < 0 ? null : usToIso(accessed),
      wrappedAt: usToIso(Number(r.wrapped_us)),
      accessCount: r.access_count,
      backupStatus: r.backup_status as BackupStatus,
      flags: {
        plaintextInCache: r.plaintext_in_cache,
        noShare: r.no_share,
        noProperties: r.no_properties,
        cannotSign: r.cannot_sign,
        twoOfTwoUnbacked: r.two_of_two_unbacked,
        staleProperties: r.backup_status === "missing_info",
      },
    };
  }
  const last = rows.length > limit ? rows[limit - 1] : undefined;
  const nextCursor = last
    ? encodeCursor({ key: BigInt({ created: last.created_us, accessed: last.accessed_us, wrapped: last.wrapped_us }[q.sort]), id: last.id }, view)
    : null;
  return { rows: out, nextCursor, limit };
}

/** Every page of a view in keyset batches (CSV export). */
export async function* iterateInventory(
  db: DbOrTx,
  q: Omit<InventoryQuery, "cursor" | "limit">,
  ctx: InventoryContext,
  batchSize = 1000,
): AsyncGenerator<InventoryRowDto[]> {
  let cursor: string | undefined;
  for (;;) {
    const page = await listInventory(db, { ...q, limit: batchSize, cursor }, ctx, { maxLimit: batchSize });
    if (page.rows.length > 0) yield page.rows;
    if (!page.nextCursor) return;
    cursor = page.nextCursor;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Wallet detail

const s = serverWalletKeyShares;
const w = walletProperties;

const SHARE_COLUMNS = {
  id: s.id,
  walletId: s.walletId,
  accountAddress: s.accountAddress,
  encryptionKeyId: s.encryptionKeyId,
  encryptionAlgorithm: s.encryptionAlgorithm,
  keyVersion: s.keyVersion,
  layout: s.layout,
  fingerprint: s.ciphertextFingerprint,
  environment: s.environment,
  createdAt: s.createdAt,
  lastAccessedAt: s.lastAccessedAt,
  lastRewrappedAt: s.lastRewrappedAt,
  accessCount: s.accessCount,
} as const;

const PROPERTIES_COLUMNS = {
  walletId: w.walletId,
  accountAddress: w.accountAddress,
  chainName: w.chainName,
  thresholdSignatureScheme: w.thresholdSignatureScheme,
  derivationPath: w.derivationPath,
  hasBackupInfo: w.hasBackupInfo,
  passwordEncrypted: w.passwordEncrypted,
  backupLocations: w.backupLocations,
  backedUpAnywhere: w.backedUpAnywhere,
  plaintextSharesInCache: w.plaintextSharesInCache,
  source: w.source,
  createdAt: w.createdAt,
  updatedAt: w.updatedAt,
} as const;

/**
 * Audit targets that name a wallet: `wallet` (wallet id), `wallet_address` (account address) and
 * `share_record` (share record id). Writers that act on a wallet use these so its detail page finds them
 * through the (target_type, target_id, occurred_at, id) index.
 */
export const WALLET_AUDIT_TARGETS = { wallet: "wallet", address: "wallet_address", share: "share_record" } as const;

const MAX_DETAIL_RECORDS = 50;
const MAX_DETAIL_EVENTS = 20;

export function backupStatusOf(p: Pick<WalletPropertiesDto, "hasBackupInfo" | "backedUpAnywhere" | "passwordEncrypted"> | undefined): BackupStatus {
  if (!p) return "unknown";
  if (!p.hasBackupInfo) return "missing_info";
  if (!p.backedUpAnywhere) return "none";
  return p.passwordEncrypted ? "password_encrypted" : "backed_up";
}

/**
 * A wallet's detail. The audit events naming it (actors, e-mail addresses, outcomes) are part of the audit
 * trail: they are read and returned only for a role holding `audit:read`, otherwise `auditEvents` is null.
 */
export async function getWalletDetail(db: DbOrTx, walletId: string, ctx: InventoryContext, viewer: { role: string }): Promise<WalletDetailDto> {
  const props = await db.select(PROPERTIES_COLUMNS).from(w).where(eq(w.walletId, walletId)).orderBy(asc(w.accountAddress)).limit(MAX_DETAIL_RECORDS);
  const addresses = props.map((p) => p.accountAddress);
  const shareRows = await db
    .select(SHARE_COLUMNS)
    .from(s)
    .where(addresses.length > 0 ? or(eq(s.walletId, walletId), inArray(s.accountAddress, addresses)) : eq(s.walletId, walletId))
    .orderBy(asc(s.createdAt), asc(s.id))
    .limit(MAX_DETAIL_RECORDS);
  if (props.length === 0 && shareRows.length === 0) throw new NotFoundError("No wallet with this id is in the inventory.");

  const now = (ctx.now ?? new Date()).getTime();
  const shares: ShareRecordDto[] = shareRows.map((r) => {
    const latest = ctx.latestVersions?.get(r.encryptionKeyId) ?? null;
    const wrapped = r.lastRewrappedAt ?? r.createdAt;
    return {
      id: r.id,
      accountAddress: r.accountAddress,
      encryptionKeyId: r.encryptionKeyId,
      keyVersion: r.keyVersion,
      latestVersion: latest,
      behindLatest: latest !== null && r.keyVersion !== null ? r.keyVersion < latest : null,
      layout: r.layout,
      fingerprint: r.fingerprint,
      environment: resolveEnvironment(r.environment, r.encryptionKeyId, ctx),
      encryptionAlgorithm: r.encryptionAlgorithm,
      createdAt: r.createdAt.toISOString(),
      lastAccessedAt: r.lastAccessedAt?.toISOString() ?? null,
      lastRewrappedAt: r.lastRewrappedAt?.toISOString() ?? null,
      wrappedAt: wrapped.toISOString(),
      wrapAgeDays: Math.max(0, Math.floor((now - wrapped.getTime()) / 86_400_000)),
      accessCount: r.accessCount,
    };
  });
  const properties: WalletPropertiesDto[] = props.map((p) => ({
    ...p,
    backupLocations: [...p.backupLocations],
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  }));

  const flags = new Set<WalletIntegrityFlag>();
  for (const p of properties) {
    if (p.plaintextSharesInCache) flags.add("plaintext-in-cache");
    if (!p.hasBackupInfo) flags.add("stale-properties");
    if (!p.backedUpAnywhere && !shares.some((x) => x.accountAddress === p.accountAddress)) flags.add("cannot-sign");
    if (p.thresholdSignatureScheme === "TWO_OF_TWO" && !p.backedUpAnywhere) flags.add("two-of-two-unbacked");
  }
  for (const x of shares) {
    if (!addresses.includes(x.accountAddress)) flags.add("share-without-properties");
    if (x.keyVersion === null || x.layout === null) flags.add("unparsable-share");
    if (x.behindLatest) flags.add("behind-latest");
  }

  const auditEventsDto = can(viewer.role, "audit:read") ? await walletAuditEvents(db, walletId, addresses, shares) : null;

  return {
    walletId,
    properties,
    shares,
    flags: [...flags],
    backupStatus: backupStatusOf(properties[0]),
    auditEvents: auditEventsDto,
    vaultUnavailable: ctx.latestVersions === null,
  };
}

async function walletAuditEvents(db: DbOrTx, walletId: string, addresses: string[], shares: ShareRecordDto[]): Promise<WalletAuditEventDto[]> {
  const targets: SQL[] = [
    and(eq(auditEvents.targetType, WALLET_AUDIT_TARGETS.wallet), eq(auditEvents.targetId, walletId))!,
    ...[...new Set([...addresses, ...shares.map((x) => x.accountAddress)])].map(
      (a) => and(eq(auditEvents.targetType, WALLET_AUDIT_TARGETS.address), eq(auditEvents.targetId, a))!,
    ),
    ...(shares.length > 0 ? [and(eq(auditEvents.targetType, WALLET_AUDIT_TARGETS.share), inArray(auditEvents.targetId, shares.map((x) => x.id)))!] : []),
  ];
  const events = await db
    .select({
      seq: auditEvents.seq,
      occurredAt: auditEvents.occurredAt,
      action: auditEvents.action,
      outcome: auditEvents.outcome,
      actorEmail: auditEvents.actorEmail,
      actorUserId: auditEvents.actorUserId,
      actorType: auditEvents.actorType,
      targetType: auditEvents.targetType,
      targetId: auditEvents.targetId,
    })
    .from(auditEvents)
    .where(or(...targets))
    .orderBy(desc(auditEvents.occurredAt), desc(auditEvents.id))
    .limit(MAX_DETAIL_EVENTS);
  return events.map((e) => ({
    seq: e.seq,
    occurredAt: e.occurredAt.toISOString(),
    action: e.action,
    outcome: e.outcome,
    actor: e.actorEmail ?? e.actorUserId ?? e.actorType,
    targetType: e.targetType,
    targetId: e.targetId,
  }));
}
