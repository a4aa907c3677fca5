import { sql } from "drizzle-orm";
import { bigint, check, date, integer, pgTable, primaryKey, smallint, text, timestamp, varchar } from "drizzle-orm/pg-core";

/**
 * Maintained counters for the Overview and the Keys pages (issue 4: no exact count(*) over the big tables on
 * page load). Both tables are written only by statement-level triggers on `server_wallet_key_shares` and
 * `wallet_properties` (migration `census_counters`) and by `keyshare_rebuild_counters()`, never by app code,
 * so rows an external backend writes keep them right.
 *
 * Readers always SUM: a logical counter is spread over several physical rows (see below).
 */

/**
 * Records per (Transit key, key version, environment column, layout). NULLs of the share table are stored as
 * sentinels so the dimensions can form a primary key: key_version 0 = unparsable ciphertext (Transit versions
 * start at 1), environment '' = the row has none (the app maps the key name), layout '' = unknown format.
 *
 * `slot` stripes each counter over up to 16 rows by writing backend (`pg_backend_pid() % 16`): concurrent
 * transactions inserting under the same key version mostly update different rows instead of queueing on one
 * row lock until the other commits.
 */
export const shareCensus = pgTable(
  "share_census",
  {
    encryptionKeyId: varchar("encryption_key_id", { length: 255 }).notNull(),
    keyVersion: integer("key_version").notNull(),
    environment: text("environment").notNull(),
    layout: text("layout").notNull(),
    slot: smallint("slot").notNull(),
    records: bigint("records", { mode: "number" }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.encryptionKeyId, t.keyVersion, t.environment, t.layout, t.slot] })],
);

/**
 * Wallet risk counters in 64 buckets by `hashtext(account_address) & 63` (rows 0..63 exist from the
 * migration on). The cross-table figures (`cannot_sign`, `shares_without_properties`) depend on both tables;
 * their triggers lock the buckets of the addresses they touch before reading the other table, so two writers
 * racing on one wallet (a share insert and a WalletProperties insert) are serialised per bucket and the
 * second sees the first's rows. Writers on unrelated wallets mostly take different buckets.
 */
export const walletRiskCounters = pgTable(
  "wallet_risk_counters",
  {
    bucket: smallint("bucket").primaryKey(),
    /** wallet_properties rows. */
    wallets: bigint("wallets", { mode: "number" }).notNull().default(0),
    /** WalletProperties without backup info: the SDK fails with StaleWalletProperties. */
    missingBackupInfo: bigint("missing_backup_info", { mode: "number" }).notNull().default(0),
    /** TWO_OF_TWO wallets with no backup anywhere: losing the server share loses the wallet. */
    twoOfTwoNotBackedUp: bigint("two_of_two_not_backed_up", { mode: "number" }).notNull().default(0),
    /** WalletProperties with no backup anywhere and no share record: cannot sign. */
    cannotSign: bigint("cannot_sign", { mode: "number" }).notNull().default(0),
    /** Share records whose account_address has no WalletProperties. */
    sharesWithoutProperties: bigint("shares_without_properties", { mode: "number" }).notNull().default(0),
    /** WalletProperties whose cached document carried plaintext key shares. */
    plaintextSharesInCache: bigint("plaintext_shares_in_cache", { mode: "number" }).notNull().default(0),
    /** Bumped by every trigger that locks the bucket (serialisation under REPEATABLE READ, see migration). */
    touches: bigint("touches", { mode: "number" }).notNull().default(0),
  },
  (t) => [check("wallet_risk_counters_bucket_range", sql`${t.bucket} between 0 and 63`)],
);

/**
 * Daily re-encryption debt per Transit key, for the Overview trend. Written lazily by the first Overview read
 * of a UTC day (INSERT … ON CONFLICT DO NOTHING, so concurrent readers write it once). `records_behind` and
 * `latest_version` are as Vault reported at that moment (null when Vault was unreachable): a rotation shows as
 * a step up, a re-wrap campaign as the slope down.
 */
export const censusDaily = pgTable(
  "census_daily",
  {
    day: date("day", { mode: "string" }).notNull(),
    encryptionKeyId: varchar("encryption_key_id", { length: 255 }).notNull(),
    latestVersion: integer("latest_version"),
    records: bigint("records", { mode: "number" }).notNull(),
    recordsBehind: bigint("records_behind", { mode: "number" }),
    takenAt: timestamp("taken_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.day, t.encryptionKeyId] })],
);
