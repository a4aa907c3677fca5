-- The read table copies these share columns into the wallet's row: key_version, layout, ciphertext_fingerprint,
-- access_count, last_accessed_at (accessed_us) and last_rewrapped_at / created_at (wrapped_us). An UPDATE that
-- changes nothing else of the share rows — the backend's signing bookkeeping (0011), a campaign's re-wrap, a
-- backend rewriting a share — cannot change which rows a wallet has or any wallet-level flag, so those columns
-- are written in place instead of recomputing every wallet the statement touched. A re-wrap batch used to
-- recompute every wallet it wrote (most of the write-back's time, with the buckets' advisory locks
-- held throughout, which the backend's own writes then waited on).
-- Same lock as a recompute (keyshare_inventory_lock), same reasoning as 0011: the values are this statement's
-- own (new_rows), so no other writer's snapshot matters. Anything else (an address, wallet id, environment, key
-- or creation time changing, or a row the read table lacks) recomputes as before.
CREATE OR REPLACE FUNCTION public.keyshare_inventory_shares_upd() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  addrs text[];
BEGIN
  IF NOT EXISTS (SELECT 1 FROM new_rows AS n WHERE NOT EXISTS (SELECT 1 FROM public.inventory_wallets AS i WHERE i.id = n.id))
     AND NOT EXISTS (
    SELECT id, wallet_id, account_address, environment, encryption_key_id, created_at FROM new_rows
    EXCEPT ALL
    SELECT id, wallet_id, account_address, environment, encryption_key_id, created_at FROM old_rows
  ) THEN
    SELECT array_agg(DISTINCT account_address) INTO addrs FROM new_rows;
    IF addrs IS NULL THEN
      RETURN NULL;
    END IF;
    PERFORM public.keyshare_inventory_lock(addrs);
    UPDATE public.inventory_wallets AS i
    SET key_version = n.key_version,
        layout = n.layout,
        ciphertext_fingerprint = n.ciphertext_fingerprint,
        access_count = n.access_count,
        accessed_us = coalesce(public.keyshare_epoch_us(n.last_accessed_at), -1),
        wrapped_us = public.keyshare_epoch_us(coalesce(n.last_rewrapped_at, n.created_at))
    FROM new_rows AS n
    WHERE i.id = n.id
      AND (i.key_version, i.layout, i.ciphertext_fingerprint, i.access_count, i.accessed_us, i.wrapped_us)
          IS DISTINCT FROM (n.key_version, n.layout, n.ciphertext_fingerprint, n.access_count,
                            coalesce(public.keyshare_epoch_us(n.last_accessed_at), -1),
                            public.keyshare_epoch_us(coalesce(n.last_rewrapped_at, n.created_at)));
    RETURN NULL;
  END IF;

  SELECT array_agg(DISTINCT a) INTO addrs FROM (
    SELECT account_address AS a FROM old_rows UNION ALL SELECT account_address FROM new_rows
  ) AS x;
  PERFORM public.keyshare_inventory_refresh(addrs);
  RETURN NULL;
END
$$;
