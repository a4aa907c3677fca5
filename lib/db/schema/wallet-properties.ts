import { sql } from "drizzle-orm";
import { boolean, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid, varchar } from "drizzle-orm/pg-core";

/**
 * The non-secret WalletProperties inventory (DESIGN §1), one row per account address (the backend's cache key
 * is `wallet:{accountAddress}`). `backup_info` keeps what the console reads of externalServerKeySharesBackupInfo
 * — passwordEncrypted and the number of backups per location, never the entries themselves (a backend may put
 * a password-encrypted share or anything else there); the boolean/array columns next to it are derived from it
 * on write (lib/ingest/wallet-properties.ts) so the inventory can filter 1M rows by index instead of by jsonb.
 */
export const walletProperties = pgTable(
  "wallet_properties",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    walletId: varchar("wallet_id", { length: 255 }).notNull(),
    accountAddress: varchar("account_address", { length: 255 }).notNull(),
    chainName: varchar("chain_name", { length: 32 }).notNull(),
    thresholdSignatureScheme: varchar("threshold_signature_scheme", { length: 32 }).notNull(),
    derivationPath: text("derivation_path"),
    /** Normalised backup info, or null when the cached properties have none (SDK: StaleWalletProperties). */
    backupInfo: jsonb("backup_info").$type<WalletBackupInfo>(),
    hasBackupInfo: boolean("has_backup_info").notNull().default(false),
    passwordEncrypted: boolean("password_encrypted"),
    /** Backup locations holding at least one backup, e.g. {dynamic,googleDrive}. */
    backupLocations: text("backup_locations").array().notNull().default(sql`'{}'::text[]`),
    backedUpAnywhere: boolean("backed_up_anywhere").notNull().default(false),
    /**
     * The cached document carried the SDK's plaintext `externalServerKeyShares` (a backend caching the Node SDK's
     * WalletProperties object as is). Only this flag is kept, never the content.
     */
    plaintextSharesInCache: boolean("plaintext_shares_in_cache").notNull().default(false),
    source: varchar("source", { length: 16 }).notNull().$type<WalletPropertiesSource>(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("wp_account_address_key").on(t.accountAddress),
    index("wp_account_address_lower_prefix_idx").using("btree", sql`lower(${t.accountAddress}) text_pattern_ops`),
    index("wp_wallet_id_idx").on(t.walletId),
    index("wp_chain_created_at_id_idx").on(t.chainName, t.createdAt, t.id),
    index("wp_created_at_id_idx").on(t.createdAt, t.id),
    // Integrity flags are the rare case: partial indexes stay small at 1M wallets.
    index("wp_missing_backup_info_idx").on(t.createdAt, t.id).where(sql`${t.hasBackupInfo} = false`),
    index("wp_not_backed_up_idx").on(t.createdAt, t.id).where(sql`${t.backedUpAnywhere} = false`),
  ],
);

export const BACKUP_LOCATIONS = ["dynamic", "googleDrive", "iCloud", "user", "external"] as const;
export type BackupLocation = (typeof BACKUP_LOCATIONS)[number];

/** What the console keeps of externalServerKeySharesBackupInfo: backups counted per location, entries dropped. */
export interface WalletBackupInfo {
  passwordEncrypted: boolean;
  backups: Partial<Record<BackupLocation, number>>;
}

export const WALLET_PROPERTIES_SOURCES = ["seed", "redis", "postgres", "ingest"] as const;
export type WalletPropertiesSource = (typeof WALLET_PROPERTIES_SOURCES)[number];
