import "server-only";
import { and, asc, desc, eq, gte, inArray, lt, or, sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "@/lib/db/client";
import { auditEvents } from "@/lib/db/schema/audit";
import { inventoryWallets } from "@/lib/db/schema/inventory";
import { serverWalletKeyShares } from "@/lib/db/schema/key-shares";
import { walletProperties } from "@/lib/db/schema/wallet-properties";
import { NotFoundError, ServiceUnavailableError } from "@/lib/errors";
import { decodeCursor, encodeCursor } from "./cursor";
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

const LIST_COLUMNS = {
  id: t.id,
  walletId: t.walletId,
  accountAddress: t.accountAddress,
  chainName: t.chainName,
  thresholdSignatureScheme: t.thresholdSignatureScheme,
  environment: t.environment,
  encryptionKeyId: t.encryptionKeyId,
  keyVersion: t.keyVersion,
  layout: t.layout,
  fingerprint: t.ciphertextFingerprint,
  accessCount: t.accessCount,
  createdUs: t.createdUs,
  accessedUs: t.accessedUs,
  wrappedUs: t.wrappedUs,
  backupStatus: t.backupStatus,
  noShare: t.noShare,
  noProperties: t.noProperties,
  cannotSign: t.cannotSign,
  twoOfTwoUnbacked: t.twoOfTwoUnbacked,
} as const;

const SORT_COLUMNS = { created: t.createdUs, accessed: t.accessedUs, wrapped: t.wrappedUs } as const;

/** Highest code point: `prefix ≤ x < prefix || U+10FFFF` is "x starts with prefix" in C collation. */
const PREFIX_UPPER = "\u{10FFFF}";

/** EVM addresses are checksummed mixed case: searched lower-case (the read table's address_key is too). */
export function normaliseSearch(q: string): string {
  return /^0x[0-9a-f]*$/i.test(q) ? q.toLowerCase() : q;
}

function usToIso(us: bigint): string {
  return new Date(Number(us / 1000n)).toISOString();
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

/** WHERE conditions for the filters (all parameterised). Exported for the benchmark's floor query. */
export function inventoryConditions(f: InventoryFilters, ctx: InventoryContext): SQL[] {
  const c: SQL[] = [];
  if (f.q !== undefined) {
    const p = normaliseSearch(f.q);
    c.push(
      or(
        and(sql`(${t.addressKey} collate "C") >= ${p}`, sql`(${t.addressKey} collate "C") < ${p + PREFIX_UPPER}`),
        eq(t.walletId, f.q),
      )!,
    );
  }
  if (f.chain !== undefined) c.push(eq(t.chainName, f.chain));
  if (f.scheme !== undefined) c.push(eq(t.thresholdSignatureScheme, f.scheme));
  if (f.env !== undefined) {
    const keys = keysOfEnvironment(f.env, ctx);
    c.push(
      keys.length > 0
        ? or(eq(t.environment, f.env), and(sql`${t.environment} is null`, inArray(t.encryptionKeyId, keys)))!
        : eq(t.environment, f.env),
    );
  }
  if (f.key !== undefined) c.push(eq(t.encryptionKeyId, f.key));
  if (f.version !== undefined) c.push(eq(t.keyVersion, f.version));
  if (f.behind) {
    if (!ctx.latestVersions) {
      throw new ServiceUnavailableError("Vault could not be reached, so “behind latest” cannot be worked out right now. Remove that filter or try again shortly.");
    }
    const behind = [...ctx.latestVersions]
      .filter(([k]) => f.key === undefined || k === f.key)
      .map(([k, latest]) => and(eq(t.encryptionKeyId, k), lt(t.keyVersion, latest))!);
    c.push(behind.length > 0 ? or(...behind)! : sql`false`);
  }
  if (f.layout !== undefined) c.push(eq(t.layout, f.layout));
  if (f.backup !== undefined) c.push(eq(t.backupStatus, f.backup));
  // A range, not `= -1`: under a generic (prepared) plan an equality on a near-unique column is estimated at
  // one row and would pick the wrong index for the 10%+ of wallets never accessed.
  if (f.access === "never") c.push(lt(t.accessedUs, 0n));
  if (f.access === "older") {
    const now = BigInt((ctx.now ?? new Date()).getTime()) * 1000n;
    const cutoff = now - BigInt(f.days ?? 90) * 86_400_000_000n;
    c.push(and(gte(t.accessedUs, 0n), lt(t.accessedUs, cutoff))!);
  }
  if (f.flag !== undefined) {
    const col = { no_share: t.noShare, no_properties: t.noProperties, cannot_sign: t.cannotSign, two_of_two_unbacked: t.twoOfTwoUnbacked }[f.flag];
    c.push(eq(col, true));
  }
  return c;
}

type ListRow = {
  [K in keyof typeof LIST_COLUMNS]: (typeof LIST_COLUMNS)[K]["_"]["notNull"] extends true
    ? (typeof LIST_COLUMNS)[K]["_"]["data"]
    : (typeof LIST_COLUMNS)[K]["_"]["data"] | null;
};

function toRowDto(r: ListRow, ctx: InventoryContext): InventoryRowDto {
  const latest = r.encryptionKeyId !== null ? (ctx.latestVersions?.get(r.encryptionKeyId) ?? null) : null;
  return {
    id: r.id,
    walletId: r.walletId,
    accountAddress: r.accountAddress,
    chainName: r.chainName,
    thresholdSignatureScheme: r.thresholdSignatureScheme,
    environment: resolveEnvironment(r.environment, r.encryptionKeyId, ctx),
    encryptionKeyId: r.encryptionKeyId,
    keyVersion: r.keyVersion,
    latestVersion: latest,
    behindLatest: latest !== null && r.keyVersion !== null ? r.keyVersion < latest : null,
    layout: r.layout,
    fingerprint: r.fingerprint,
    createdAt: usToIso(r.createdUs),
    lastAccessedAt: r.accessedUs < 0n ? null : usToIso(r.accessedUs),
    wrappedAt: usToIso(r.wrappedUs),
    accessCount: r.accessCount,
    backupStatus: r.backupStatus as BackupStatus,
    flags: {
      noShare: r.noShare,
      noProperties: r.noProperties,
      cannotSign: r.cannotSign,
      twoOfTwoUnbacked: r.twoOfTwoUnbacked,
      staleProperties: r.backupStatus === "missing_info",
    },
  };
}

export interface ListOptions {
  /** Export batches may exceed the interactive page size. */
  maxLimit?: number;
}

/**
 * The page's SELECT, not yet run (the benchmark runs its SQL bare as the floor). A bad cursor throws
 * ValidationError (a clear message, never a 500).
 */
export function buildInventorySelect(db: DbOrTx, q: InventoryQuery, ctx: InventoryContext, opts: ListOptions = {}) {
  const limit = Math.max(1, Math.min(q.limit, opts.maxLimit ?? MAX_PAGE_SIZE));
  const viewText = viewFingerprintText(q);
  const sortCol = SORT_COLUMNS[q.sort];
  const conds = inventoryConditions(q.filters, ctx);
  if (q.cursor !== undefined) {
    const pos = decodeCursor(q.cursor, viewText);
    // Row comparison: one index range condition on (sort_key, id).
    conds.push(
      q.dir === "desc"
        ? sql`(${sortCol}, ${t.id}) < (${pos.key.toString()}::bigint, ${pos.id}::uuid)`
        : sql`(${sortCol}, ${t.id}) > (${pos.key.toString()}::bigint, ${pos.id}::uuid)`,
    );
  }
  const order = q.dir === "desc" ? [desc(sortCol), desc(t.id)] : [asc(sortCol), asc(t.id)];
  const query = db
    .select(LIST_COLUMNS)
    .from(t)
    .where(conds.length > 0 ? and(...conds) : undefined)
    .orderBy(...order)
    .limit(limit + 1);
  return { query, limit, viewText };
}

/** One keyset page of the Wallets list. */
export async function listInventory(db: DbOrTx, q: InventoryQuery, ctx: InventoryContext, opts: ListOptions = {}): Promise<InventoryPageDto> {
  const { query, limit, viewText } = buildInventorySelect(db, q, ctx, opts);
  // Named → a prepared statement per distinct SQL text on each connection (postgres.js), so repeated page
  // loads skip parse and planning — with 25 indexes on the read table, planning is most of a page's DB time.
  const rows = (await query.prepare("inventory_list").execute()) as ListRow[];
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > limit && last
      ? encodeCursor({ key: { created: last.createdUs, accessed: last.accessedUs, wrapped: last.wrappedUs }[q.sort], id: last.id }, viewText)
      : null;
  return { rows: page.map((r) => toRowDto(r, ctx)), nextCursor, limit };
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

export async function getWalletDetail(db: DbOrTx, walletId: string, ctx: InventoryContext): Promise<WalletDetailDto> {
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
    if (!p.hasBackupInfo) flags.add("stale-properties");
    if (!p.backedUpAnywhere && !shares.some((x) => x.accountAddress === p.accountAddress)) flags.add("cannot-sign");
    if (p.thresholdSignatureScheme === "TWO_OF_TWO" && !p.backedUpAnywhere) flags.add("two-of-two-unbacked");
  }
  for (const x of shares) {
    if (!addresses.includes(x.accountAddress)) flags.add("share-without-properties");
    if (x.keyVersion === null || x.layout === null) flags.add("unparsable-share");
    if (x.behindLatest) flags.add("behind-latest");
  }

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
  const auditEventsDto: WalletAuditEventDto[] = events.map((e) => ({
    seq: e.seq,
    occurredAt: e.occurredAt.toISOString(),
    action: e.action,
    outcome: e.outcome,
    actor: e.actorEmail ?? e.actorUserId ?? e.actorType,
    targetType: e.targetType,
    targetId: e.targetId,
  }));

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
