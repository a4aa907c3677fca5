import { sql } from "drizzle-orm";
import { index, integer, pgTable, text, timestamp, uuid, varchar } from "drizzle-orm/pg-core";
import { bytea } from "./columns";

/**
 * The backend's share table (DESIGN §1), column for column, plus console columns that are all nullable or
 * defaulted so a backend that knows nothing of them keeps working.
 *
 * `encrypted_key_shares` holds one of two layouts (see lib/db/README.md):
 * - direct:   the UTF-8 bytes of a Transit ciphertext, `vault:vN:<base64>`, of the serialized shares;
 * - envelope: the UTF-8 bytes of a JSON document
 *             {"v":1,"wrapped_key":"vault:vN:…","iv":"<b64, 12 bytes>","ciphertext":"<b64>","tag":"<b64, 16 bytes>"}
 *             where `wrapped_key` is the Transit ciphertext of a per-record 256-bit data key and
 *             iv/ciphertext/tag are AES-256-GCM over the serialized shares with that key, a fresh IV per record
 *             and the UTF-8 wallet_id as additional authenticated data. Re-wrap replaces only `wrapped_key`.
 *
 * `key_version`, `layout` and `ciphertext_fingerprint` are derived by a BEFORE INSERT OR UPDATE trigger
 * (migration `share_derived_columns`), never by application code, so rows written by an external backend are
 * right too. The same trigger owns `row_version`: +1 whenever the ciphertext changes, unchanged otherwise —
 * the compare-and-swap token for re-wrap (`… WHERE id = $1 AND row_version = $2`).
 *
 * `created_at`/`last_accessed_at` are `timestamp without time zone` as in the original table and are UTC.
 */
export const serverWalletKeyShares = pgTable(
  "server_wallet_key_shares",
  {
    id: uuid("id").primaryKey(),
    walletId: varchar("wallet_id", { length: 255 }).notNull(),
    accountAddress: varchar("account_address", { length: 255 }).notNull(),
    encryptedKeyShares: bytea("encrypted_key_shares").notNull(),
    encryptionKeyId: varchar("encryption_key_id", { length: 255 }).notNull(),
    encryptionAlgorithm: varchar("encryption_algorithm", { length: 50 }).default("AES-256-GCM"),
    createdAt: timestamp("created_at", { mode: "date" }).notNull().defaultNow(),
    lastAccessedAt: timestamp("last_accessed_at", { mode: "date" }),
    accessCount: integer("access_count").default(0),

    // Console additions (trigger-derived unless noted).
    keyVersion: integer("key_version"),
    layout: text("layout").$type<ShareLayout>(),
    /** Optional, a backend may fill it; otherwise the app maps encryption_key_id → environment. */
    environment: text("environment"),
    ciphertextFingerprint: text("ciphertext_fingerprint"),
    /** Set by re-wrap campaigns. */
    lastRewrappedAt: timestamp("last_rewrapped_at", { mode: "date" }),
    rewrapCampaignId: uuid("rewrap_campaign_id"),
    rowVersion: integer("row_version").notNull().default(0),
  },
  (t) => [
    // Census (records per key and version) and campaign claims (records of a key below a version, by id).
    index("swks_key_version_id_idx").on(t.encryptionKeyId, t.keyVersion, t.id),
    index("swks_wallet_id_idx").on(t.walletId),
    index("swks_account_address_idx").on(t.accountAddress),
    // Case-insensitive prefix search (EVM addresses are mixed-case checksummed): lower(x) LIKE 'abc%'.
    index("swks_account_address_lower_prefix_idx").using("btree", sql`lower(${t.accountAddress}) text_pattern_ops`),
    // Keyset pagination on the offered sorts.
    index("swks_created_at_id_idx").on(t.createdAt, t.id),
    index("swks_last_accessed_at_id_idx").on(t.lastAccessedAt, t.id),
  ],
);

export const SHARE_LAYOUTS = ["direct", "envelope"] as const;
export type ShareLayout = (typeof SHARE_LAYOUTS)[number];
