import { sql, type SQL } from "drizzle-orm";
import { bigint, boolean, index, integer, pgTable, text, uuid, varchar, type ExtraConfigColumn } from "drizzle-orm/pg-core";

/**
 * The wallet inventory read table (issue 4, Wallets): one row per share record, plus one row per
 * WalletProperties that has no share record. It holds only the filterable, sortable and listed columns of
 * `server_wallet_key_shares` and `wallet_properties` joined on `account_address` — never share material.
 *
 * Why a denormalised table: the Wallets list filters on both tables (key/version/layout on the share, chain/
 * scheme/backup on the properties) and sorts on either side (created/last accessed/wrap age). A join cannot be
 * served by one index at 1M rows: the planner must either scan one table's sort index and probe the other per
 * row, filtering as it goes (slow whenever a filter is selective), or fetch all matches and sort them (slow
 * whenever it is not). Here every offered (filter, sort) pair has a composite index `(filter…, sort, id)` that
 * yields rows already in keyset order, so a page costs ~limit index tuples at any depth.
 *
 * Written ONLY by statement-level triggers on both source tables (migration `inventory_triggers`), so rows an
 * external backend writes with nothing but the original columns keep it right. A share UPDATE that changed only
 * `last_accessed_at` / `access_count` writes those two columns in place (`inventory_access_in_place`). A
 * transaction of the tables' owner (the role that migrates, i.e. the console) with
 * `SET LOCAL keyshare.inventory_deferred = 'on'` skips the INSERT-time refresh and must call
 * `keyshare_inventory_refresh(addresses)` itself before committing (the demo seed does; never set it for a
 * role or database, or inserts stop reaching this table until `keyshare_inventory_rebuild()`). Any other role's
 * setting is ignored (migration `security_hardening`), so a backend cannot keep its rows out of this table.
 * `keyshare_inventory_rebuild()` recomputes it (TRUNCATE of a source runs it).
 *
 * Sort keys are bigint microseconds since the epoch (UTC), NOT NULL: exact in a cursor (a JS Date would lose
 * the microseconds `now()` stores and keyset pages would skip or repeat ties) and free of NULL ordering rules.
 * `accessed_us = -1` means never accessed (it sorts as the oldest).
 */
export const inventoryWallets = pgTable(
  "inventory_wallets",
  {
    /** The share record id, or the WalletProperties id for a wallet without a share record. */
    id: uuid("id").primaryKey(),
    shareId: uuid("share_id"),
    propertiesId: uuid("properties_id"),
    walletId: varchar("wallet_id", { length: 255 }).notNull(),
    accountAddress: varchar("account_address", { length: 255 }).notNull(),
    /** Search key: lower-case for 0x-hex (EVM, checksummed mixed case), verbatim otherwise (base58 is case-sensitive). */
    addressKey: text("address_key").notNull(),
    chainName: varchar("chain_name", { length: 32 }),
    thresholdSignatureScheme: varchar("threshold_signature_scheme", { length: 32 }),
    /** The share row's own environment column (a backend may fill it); NULL → the app maps the key name. */
    environment: text("environment"),
    encryptionKeyId: varchar("encryption_key_id", { length: 255 }),
    keyVersion: integer("key_version"),
    layout: text("layout"),
    ciphertextFingerprint: text("ciphertext_fingerprint"),
    accessCount: integer("access_count"),
    createdUs: bigint("created_us", { mode: "bigint" }).notNull(),
    accessedUs: bigint("accessed_us", { mode: "bigint" }).notNull(),
    /** Last re-wrap, or creation when never re-wrapped: the age of the wrapping. */
    wrappedUs: bigint("wrapped_us", { mode: "bigint" }).notNull(),
    /** backed_up | password_encrypted | none | missing_info | unknown (no WalletProperties). */
    backupStatus: text("backup_status").notNull(),
    noShare: boolean("no_share").notNull(),
    noProperties: boolean("no_properties").notNull(),
    cannotSign: boolean("cannot_sign").notNull(),
    twoOfTwoUnbacked: boolean("two_of_two_unbacked").notNull(),
    /** The wallet's cached WalletProperties carried plaintext key shares (`wallet_properties.plaintext_shares_in_cache`). */
    plaintextInCache: boolean("plaintext_in_cache").notNull().default(false),
  },
  (t) => {
    const sorts = { created: t.createdUs, accessed: t.accessedUs, wrapped: t.wrappedUs } as const;
    const perSort = (name: string, lead: ExtraConfigColumn[]) =>
      Object.entries(sorts).map(([s, col]) => index(`inv_${name}_${s}_idx`).on(...(lead.concat([col, t.id]) as [ExtraConfigColumn, ...ExtraConfigColumn[]])));
    const rare = (name: string, where: SQL) => index(`inv_${name}_idx`).on(t.createdUs, t.id).where(where);
    return [
      // Plain sorts, and every single equality filter under every sort.
      ...perSort("all", []),
      ...perSort("chain", [t.chainName]),
      ...perSort("scheme", [t.thresholdSignatureScheme]),
      ...perSort("key_version", [t.encryptionKeyId, t.keyVersion]),
      ...perSort("layout", [t.layout]),
      ...perSort("backup", [t.backupStatus]),
      // Integrity flags are rare: a small partial index fetches all of them; any sort is a cheap top-N.
      rare("no_share", sql`${t.noShare}`),
      rare("no_properties", sql`${t.noProperties}`),
      rare("cannot_sign", sql`${t.cannotSign}`),
      rare("two_of_two_unbacked", sql`${t.twoOfTwoUnbacked}`),
      rare("plaintext_in_cache", sql`${t.plaintextInCache}`),
      // Search: prefix range on a C-collated key (works with generic plans, unlike LIKE $1), exact wallet id.
      index("inv_address_key_idx").using("btree", sql`${t.addressKey} collate "C"`),
      index("inv_wallet_id_idx").on(t.walletId),
      // Trigger maintenance and the detail page.
      index("inv_account_address_idx").on(t.accountAddress),
    ];
  },
);

export const INVENTORY_BACKUP_STATUSES = ["backed_up", "password_encrypted", "none", "missing_info", "unknown"] as const;
export type InventoryBackupStatus = (typeof INVENTORY_BACKUP_STATUSES)[number];
