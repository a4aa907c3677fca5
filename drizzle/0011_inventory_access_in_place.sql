-- The backend's per-signing bookkeeping (`last_accessed_at`, `access_count` on one share row) is the most
-- frequent write to the share table. Until now it recomputed the whole wallet's inventory rows
-- (keyshare_inventory_refresh: both source tables joined, stale-row probes, full-row upsert): p50 2–5 ms per
-- one-row UPDATE at 1M wallets against ~0.5–1 ms with no inventory trigger (bench/README.md, "Inventory",
-- "Costs, stated").
-- An UPDATE that changed nothing the inventory derives from except those two columns now writes just them,
-- in place, on the rows it touched. Any other UPDATE takes the refresh path as before.

-- Takes this feature's per-bucket advisory locks (lock space 'KSIN', bucket = hashtext(address) & 63) for the
-- addresses, in bucket order: the same discipline as keyshare_inventory_refresh, so an in-place write and a
-- refresh of the same wallet never interleave (a refresh computed from an older snapshot would otherwise
-- overwrite newer access figures).
CREATE OR REPLACE FUNCTION keyshare_inventory_lock(addrs text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  b integer;
BEGIN
  FOR b IN SELECT DISTINCT hashtext(x) & 63 FROM unnest(addrs) AS x WHERE x IS NOT NULL ORDER BY 1 LOOP
    PERFORM pg_advisory_xact_lock(1263749454, b);
  END LOOP;
END
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION keyshare_inventory_shares_upd() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  addrs text[];
BEGIN
  -- Every share column keyshare_inventory_desired reads, except the two access columns. EXCEPT ALL compares
  -- NULLs as equal and counts duplicates, so "no difference" means each row kept all of these. A row the read
  -- table lacks (it should never happen; a rebuild would add it) takes the recompute, which adds it.
  IF NOT EXISTS (SELECT 1 FROM new_rows AS n WHERE NOT EXISTS (SELECT 1 FROM inventory_wallets AS i WHERE i.id = n.id))
     AND NOT EXISTS (
    SELECT id, wallet_id, account_address, environment, encryption_key_id, key_version, layout,
           ciphertext_fingerprint, created_at, last_rewrapped_at FROM new_rows
    EXCEPT ALL
    SELECT id, wallet_id, account_address, environment, encryption_key_id, key_version, layout,
           ciphertext_fingerprint, created_at, last_rewrapped_at FROM old_rows
  ) THEN
    SELECT array_agg(DISTINCT account_address) INTO addrs FROM new_rows;
    IF addrs IS NULL THEN
      RETURN NULL;
    END IF;
    PERFORM keyshare_inventory_lock(addrs);
    -- The values are this statement's own (new_rows), so no other writer's snapshot matters here.
    UPDATE inventory_wallets AS i
    SET accessed_us = coalesce(keyshare_epoch_us(n.last_accessed_at), -1),
        access_count = n.access_count
    FROM new_rows AS n
    WHERE i.id = n.id
      AND (i.accessed_us, i.access_count) IS DISTINCT FROM (coalesce(keyshare_epoch_us(n.last_accessed_at), -1), n.access_count);
    RETURN NULL;
  END IF;

  SELECT array_agg(DISTINCT a) INTO addrs FROM (
    SELECT account_address AS a FROM old_rows UNION ALL SELECT account_address FROM new_rows
  ) AS x;
  PERFORM keyshare_inventory_refresh(addrs);
  RETURN NULL;
END
$$;
--> statement-breakpoint

DROP TRIGGER server_wallet_key_shares_inventory_upd ON server_wallet_key_shares;
--> statement-breakpoint
CREATE TRIGGER server_wallet_key_shares_inventory_upd
AFTER UPDATE ON server_wallet_key_shares REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION keyshare_inventory_shares_upd();
