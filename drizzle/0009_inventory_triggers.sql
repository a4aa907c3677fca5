-- Maintenance of inventory_wallets (lib/db/schema/inventory.ts) from server_wallet_key_shares and
-- wallet_properties, in the database, so rows an external backend writes with only the original columns are
-- right too.
--
-- Model: after every statement on either source table, the account addresses it touched (old and new rows)
-- are recomputed from the sources — the share rows of each address joined with its WalletProperties, or the
-- WalletProperties alone when the address has no share record — and the difference is applied (delete rows
-- that should no longer exist, upsert the rest, skipping rows that did not change). Recomputing by address
-- instead of patching columns keeps every edge case (address changes, a wallet's last share deleted, the
-- properties arriving after the share) right by construction. Statement-level with transition tables: a bulk
-- insert of 1M rows is one set-based statement, not 1M trigger calls.
--
-- Concurrency: the inventory row of an address depends on both tables, so two transactions writing one
-- address (a share insert and a WalletProperties insert) must not each compute from a snapshot missing the
-- other's row. The refresh first takes transaction-scoped advisory locks on the address buckets
-- (hashtext & 63, in bucket order — at most 64 locks even for a bulk statement), then reads in a new
-- statement: under READ COMMITTED each PL/pgSQL statement takes a new snapshot, so the second writer sees the
-- first's committed rows and recomputes the address correctly. Backends and the console write under READ
-- COMMITTED (PostgreSQL's default). The census triggers (0007) fire first on both tables (trigger names sort
-- "counters" < "inventory"), so locks are always taken in the same order.
--
-- Nothing here can make a backend's write fail for its data: no constraints beyond NOT NULL on columns that
-- are always computed, and unknown formats leave key_version/layout NULL as in the share table.

CREATE OR REPLACE FUNCTION keyshare_epoch_us(ts timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (extract(epoch FROM ts) * 1000000)::bigint
$$;
--> statement-breakpoint

-- Share timestamps are `timestamp without time zone` meaning UTC.
CREATE OR REPLACE FUNCTION keyshare_epoch_us(ts timestamp) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (extract(epoch FROM ts) * 1000000)::bigint
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION keyshare_address_key(addr text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN addr ~ '^0[xX][0-9a-fA-F]*$' THEN lower(addr) ELSE addr END
$$;
--> statement-breakpoint

-- What inventory_wallets should hold for the given addresses, from the sources as this statement sees them.
CREATE OR REPLACE FUNCTION keyshare_inventory_desired(addrs text[]) RETURNS SETOF inventory_wallets
LANGUAGE sql STABLE AS $$
  WITH a AS (SELECT DISTINCT x AS addr FROM unnest(addrs) AS x WHERE x IS NOT NULL),
  wp AS (
    SELECT w.*,
           CASE
             WHEN NOT w.has_backup_info THEN 'missing_info'
             WHEN NOT w.backed_up_anywhere THEN 'none'
             WHEN coalesce(w.password_encrypted, false) THEN 'password_encrypted'
             ELSE 'backed_up'
           END AS status
    FROM a JOIN wallet_properties AS w ON w.account_address = a.addr
  )
  SELECT s.id, s.id, wp.id,
         coalesce(wp.wallet_id, s.wallet_id), s.account_address, keyshare_address_key(s.account_address),
         wp.chain_name, wp.threshold_signature_scheme,
         s.environment, s.encryption_key_id, s.key_version, s.layout, s.ciphertext_fingerprint, s.access_count,
         keyshare_epoch_us(s.created_at),
         coalesce(keyshare_epoch_us(s.last_accessed_at), -1),
         keyshare_epoch_us(coalesce(s.last_rewrapped_at, s.created_at)),
         coalesce(wp.status, 'unknown'),
         false,
         wp.id IS NULL,
         false,
         coalesce(wp.threshold_signature_scheme = 'TWO_OF_TWO' AND NOT wp.backed_up_anywhere, false)
  FROM a
  JOIN server_wallet_key_shares AS s ON s.account_address = a.addr
  LEFT JOIN wp ON wp.account_address = a.addr
  UNION ALL
  SELECT wp.id, NULL, wp.id,
         wp.wallet_id, wp.account_address, keyshare_address_key(wp.account_address),
         wp.chain_name, wp.threshold_signature_scheme,
         NULL, NULL, NULL, NULL, NULL, NULL,
         keyshare_epoch_us(wp.created_at), -1, keyshare_epoch_us(wp.created_at),
         wp.status,
         true,
         false,
         NOT wp.backed_up_anywhere,
         (wp.threshold_signature_scheme = 'TWO_OF_TWO' AND NOT wp.backed_up_anywhere)
  FROM wp
  WHERE NOT EXISTS (SELECT 1 FROM server_wallet_key_shares AS s WHERE s.account_address = wp.account_address)
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION keyshare_inventory_refresh(addrs text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  b integer;
BEGIN
  IF addrs IS NULL OR cardinality(addrs) = 0 THEN
    RETURN;
  END IF;
  -- 0x4B53494E ('KSIN'): this feature's advisory lock space; second key = bucket.
  FOR b IN SELECT DISTINCT hashtext(x) & 63 FROM unnest(addrs) AS x WHERE x IS NOT NULL ORDER BY 1 LOOP
    PERFORM pg_advisory_xact_lock(1263749454, b);
  END LOOP;

  -- New statement, new snapshot (READ COMMITTED): sees what writers that held these buckets committed.
  WITH d AS (SELECT * FROM keyshare_inventory_desired(addrs)),
  gone AS (
    DELETE FROM inventory_wallets AS i
    WHERE i.account_address = ANY (addrs)
      AND NOT EXISTS (SELECT 1 FROM d WHERE d.id = i.id)
  )
  INSERT INTO inventory_wallets AS i
  SELECT * FROM d
  ON CONFLICT (id) DO UPDATE SET
    share_id = excluded.share_id,
    properties_id = excluded.properties_id,
    wallet_id = excluded.wallet_id,
    account_address = excluded.account_address,
    address_key = excluded.address_key,
    chain_name = excluded.chain_name,
    threshold_signature_scheme = excluded.threshold_signature_scheme,
    environment = excluded.environment,
    encryption_key_id = excluded.encryption_key_id,
    key_version = excluded.key_version,
    layout = excluded.layout,
    ciphertext_fingerprint = excluded.ciphertext_fingerprint,
    access_count = excluded.access_count,
    created_us = excluded.created_us,
    accessed_us = excluded.accessed_us,
    wrapped_us = excluded.wrapped_us,
    backup_status = excluded.backup_status,
    no_share = excluded.no_share,
    no_properties = excluded.no_properties,
    cannot_sign = excluded.cannot_sign,
    two_of_two_unbacked = excluded.two_of_two_unbacked
  WHERE (i.*) IS DISTINCT FROM (excluded.*);
END
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION keyshare_inventory_on_write() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  addrs text[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(DISTINCT account_address) INTO addrs FROM new_rows;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(DISTINCT account_address) INTO addrs FROM old_rows;
  ELSE
    SELECT array_agg(DISTINCT a) INTO addrs FROM (
      SELECT account_address AS a FROM old_rows UNION ALL SELECT account_address FROM new_rows
    ) AS x;
  END IF;
  PERFORM keyshare_inventory_refresh(addrs);
  RETURN NULL;
END
$$;
--> statement-breakpoint

-- Recomputes the whole table (after TRUNCATE of a source, or by hand after a restore).
CREATE OR REPLACE FUNCTION keyshare_inventory_rebuild() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  b integer;
BEGIN
  FOR b IN SELECT g FROM generate_series(0, 63) AS g LOOP
    PERFORM pg_advisory_xact_lock(1263749454, b);
  END LOOP;
  DELETE FROM inventory_wallets WHERE true;
  INSERT INTO inventory_wallets
  SELECT * FROM keyshare_inventory_desired(ARRAY(
    SELECT account_address FROM server_wallet_key_shares
    UNION
    SELECT account_address FROM wallet_properties
  ));
END
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION keyshare_inventory_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM keyshare_inventory_rebuild();
  RETURN NULL;
END
$$;
--> statement-breakpoint

-- Rows present before this migration (an adopted backend table, or demo data).
SELECT keyshare_inventory_rebuild();
--> statement-breakpoint

CREATE TRIGGER server_wallet_key_shares_inventory_ins
AFTER INSERT ON server_wallet_key_shares REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION keyshare_inventory_on_write();
--> statement-breakpoint
CREATE TRIGGER server_wallet_key_shares_inventory_upd
AFTER UPDATE ON server_wallet_key_shares REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION keyshare_inventory_on_write();
--> statement-breakpoint
CREATE TRIGGER server_wallet_key_shares_inventory_del
AFTER DELETE ON server_wallet_key_shares REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION keyshare_inventory_on_write();
--> statement-breakpoint
CREATE TRIGGER server_wallet_key_shares_inventory_trunc
AFTER TRUNCATE ON server_wallet_key_shares
FOR EACH STATEMENT EXECUTE FUNCTION keyshare_inventory_truncated();
--> statement-breakpoint
CREATE TRIGGER wallet_properties_inventory_ins
AFTER INSERT ON wallet_properties REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION keyshare_inventory_on_write();
--> statement-breakpoint
CREATE TRIGGER wallet_properties_inventory_upd
AFTER UPDATE ON wallet_properties REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION keyshare_inventory_on_write();
--> statement-breakpoint
CREATE TRIGGER wallet_properties_inventory_del
AFTER DELETE ON wallet_properties REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION keyshare_inventory_on_write();
--> statement-breakpoint
CREATE TRIGGER wallet_properties_inventory_trunc
AFTER TRUNCATE ON wallet_properties
FOR EACH STATEMENT EXECUTE FUNCTION keyshare_inventory_truncated();
