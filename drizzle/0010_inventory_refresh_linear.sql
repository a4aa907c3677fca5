-- keyshare_inventory_refresh (0009) with the stale-row DELETE as its own statement of primary-key probes
-- instead of an anti-join against the desired rows: inside the statement trigger the planner estimated the
-- desired set at a few hundred rows and chose a nested-loop anti-join, quadratic for bulk statements
-- (34 s for a 50,000-row insert; bench/README.md, "Inventory"). Same semantics, linear cost.

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
  -- Rows of these addresses that should no longer exist: a share row whose record is gone or moved, a
  -- properties-only row whose properties are gone or moved or whose address now has a share record. Primary-key
  -- probes per row: linear in the rows touched (an anti-join against the desired set could go quadratic
  -- under a bad row estimate inside the trigger — 34 s for 50,000 rows seen in the benchmark).
  DELETE FROM inventory_wallets AS i
  WHERE i.account_address = ANY (addrs)
    AND CASE
          WHEN i.share_id IS NOT NULL THEN NOT EXISTS (
            SELECT 1 FROM server_wallet_key_shares AS s WHERE s.id = i.share_id AND s.account_address = i.account_address)
          ELSE NOT EXISTS (
                 SELECT 1 FROM wallet_properties AS w WHERE w.id = i.properties_id AND w.account_address = i.account_address)
               OR EXISTS (SELECT 1 FROM server_wallet_key_shares AS s WHERE s.account_address = i.account_address)
        END;

  INSERT INTO inventory_wallets AS i
  SELECT * FROM keyshare_inventory_desired(addrs)
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
