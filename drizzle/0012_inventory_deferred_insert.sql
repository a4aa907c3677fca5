-- Bulk loads that write both source tables for the same wallets (the demo seed: WalletProperties, then their
-- share records) made the inventory do every wallet twice: the properties insert added a properties-only row
-- to 25 indexes, the share insert deleted it and added the share row. Seeding 100,000 wallets went from 46 s
-- to 64 s on PostgreSQL with the inventory triggers.
--
-- A transaction that sets `SET LOCAL keyshare.inventory_deferred = 'on'` now skips the INSERT-time refresh
-- and takes on the duty to call keyshare_inventory_refresh(addresses) itself before it commits (the seed does,
-- once per chunk, after both inserts). Only INSERTs are deferred; updates and deletes always refresh. SET LOCAL
-- ends with the transaction, so a pooled connection never carries it. A writer that sets it and forgets the
-- refresh leaves the read table short of its rows until keyshare_inventory_rebuild().

CREATE OR REPLACE FUNCTION keyshare_inventory_on_write() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  addrs text[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF current_setting('keyshare.inventory_deferred', true) = 'on' THEN
      RETURN NULL;
    END IF;
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
