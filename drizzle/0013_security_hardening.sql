ALTER TABLE "wallet_risk_counters" ADD COLUMN "plaintext_shares_in_cache" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "wallet_properties" ADD COLUMN "plaintext_shares_in_cache" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "inventory_wallets" ADD COLUMN "plaintext_in_cache" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "inv_plaintext_in_cache_idx" ON "inventory_wallets" USING btree ("created_us","id") WHERE "inventory_wallets"."plaintext_in_cache";--> statement-breakpoint

-- Security hardening of the database layer:
--
-- 1. No function of migrations 0000–0012 resolves a name through the caller's search_path any more. Before, a
--    trigger looked unqualified table names up in the search_path of whichever session fired it, and a
--    session's temporary schema comes first for relations unless named: a writer's
--    `CREATE TEMP TABLE audit_chain_head …` made the audit trigger read it. Now every PL/pgSQL function is
--    pinned to `search_path = pg_catalog, public, pg_temp` (pg_temp named last, so never searched before
--    public) and names its tables `public.x`; every SQL function has a body parsed at creation (below). The
--    transition tables (new_rows, old_rows) stay unqualified: they are not schema objects and take precedence.
--    Behaviour is otherwise unchanged.
-- 2. `keyshare.inventory_deferred` (0012) is honoured only for a role with the privileges of the share or
--    WalletProperties table's owner (the role that migrates: the console's seed). Any other writer's inserts
--    reach the inventory read table at once whatever it sets; the owner could disable the trigger anyway.
-- 3. wallet_properties.plaintext_shares_in_cache (the cached document carried the SDK's plaintext
--    externalServerKeyShares) is carried into inventory_wallets.plaintext_in_cache and counted in
--    wallet_risk_counters.plaintext_shares_in_cache.
-- 4. backup_info keeps only passwordEncrypted and the number of backups per location; existing rows are
--    rewritten to that shape (their entries may hold a password-encrypted share).

-- PL/pgSQL helpers whose bodies touch no table: bodies unchanged, search_path pinned.
ALTER FUNCTION public.keyshare_share_meta(bytea) SET search_path = pg_catalog, public, pg_temp;
--> statement-breakpoint
ALTER FUNCTION public.keyshare_refuse_change() SET search_path = pg_catalog, public, pg_temp;
--> statement-breakpoint
ALTER FUNCTION public.keyshare_audit_head_forward() SET search_path = pg_catalog, public, pg_temp;
--> statement-breakpoint
ALTER FUNCTION public.keyshare_inventory_lock(text[]) SET search_path = pg_catalog, public, pg_temp;
--> statement-breakpoint

-- The LANGUAGE sql functions get SQL-standard bodies (RETURN / BEGIN ATOMIC) instead of a SET clause: such a
-- body is parsed when the function is created, every name in it is bound then (and recorded as a dependency),
-- so the caller's search_path never takes part. A SET clause would do the same at run time but stops the
-- planner from inlining the function: every call of these per-row helpers would become a real function call
-- that saves and restores the setting, and keyshare_inventory_desired would run as an opaque function scan
-- inside every refresh instead of being planned as part of the trigger's statement. Same expressions as before.
CREATE OR REPLACE FUNCTION public.keyshare_ciphertext_fingerprint(ct bytea) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN encode(substring(sha256(ct) FROM 1 FOR 8), 'hex');
--> statement-breakpoint
CREATE OR REPLACE FUNCTION public.keyshare_risk_bucket(addr text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (hashtext(addr) & 63)::smallint;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION public.keyshare_epoch_us(ts timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (extract(epoch FROM ts) * 1000000)::bigint;
--> statement-breakpoint
-- Share timestamps are `timestamp without time zone` meaning UTC.
CREATE OR REPLACE FUNCTION public.keyshare_epoch_us(ts timestamp) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (extract(epoch FROM ts) * 1000000)::bigint;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION public.keyshare_address_key(addr text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN addr ~ '^0[xX][0-9a-fA-F]*$' THEN lower(addr) ELSE addr END;
--> statement-breakpoint

-- Share table derived columns (0002).
CREATE OR REPLACE FUNCTION public.keyshare_shares_derive() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  meta record;
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.encrypted_key_shares IS NOT DISTINCT FROM OLD.encrypted_key_shares THEN
    NEW.layout := OLD.layout;
    NEW.key_version := OLD.key_version;
    NEW.ciphertext_fingerprint := OLD.ciphertext_fingerprint;
    NEW.row_version := OLD.row_version;
    RETURN NEW;
  END IF;
  meta := public.keyshare_share_meta(NEW.encrypted_key_shares);
  NEW.layout := meta.layout;
  NEW.key_version := meta.key_version;
  NEW.ciphertext_fingerprint := public.keyshare_ciphertext_fingerprint(NEW.encrypted_key_shares);
  IF TG_OP = 'UPDATE' THEN
    NEW.row_version := OLD.row_version + 1;
  ELSE
    NEW.row_version := 0;
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint

-- Audit chain (0003).
CREATE OR REPLACE FUNCTION public.keyshare_audit_link() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  head record;
BEGIN
  SELECT last_seq, last_hash INTO head FROM public.audit_chain_head WHERE id = 1 FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'audit_chain_head is missing';
  END IF;
  IF NEW.seq <> head.last_seq + 1 OR NEW.prev_hash <> head.last_hash THEN
    RAISE EXCEPTION 'audit chain fork refused: seq % does not follow head seq %', NEW.seq, head.last_seq;
  END IF;
  UPDATE public.audit_chain_head SET last_seq = NEW.seq, last_hash = NEW.hash WHERE id = 1;
  RETURN NEW;
END
$$;
--> statement-breakpoint

-- Census and risk counters (0007); the WalletProperties side also counts plaintext_shares_in_cache.
CREATE OR REPLACE FUNCTION public.keyshare_shares_counters_ins() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  INSERT INTO public.share_census AS c (encryption_key_id, key_version, environment, layout, slot, records)
  SELECT k, v, e, l, (pg_backend_pid() % 16)::smallint, n FROM (
    SELECT k, v, e, l, sum(s) AS n FROM (
      SELECT encryption_key_id AS k, coalesce(key_version, 0) AS v, coalesce(environment, '') AS e, coalesce(layout, '') AS l, 1 AS s FROM new_rows
    ) AS x GROUP BY 1, 2, 3, 4
  ) AS d
  WHERE n <> 0
  ORDER BY 1, 2, 3, 4
  ON CONFLICT (encryption_key_id, key_version, environment, layout, slot) DO UPDATE SET records = c.records + excluded.records;

  PERFORM 1 FROM public.wallet_risk_counters
  WHERE bucket IN (
    SELECT public.keyshare_risk_bucket(a) FROM (SELECT account_address AS a, 1 AS s FROM new_rows) AS x GROUP BY a HAVING sum(s) <> 0
  )
  ORDER BY bucket FOR UPDATE;

  -- New statement, new snapshot (READ COMMITTED): sees what writers that held these buckets before us committed.
  WITH d AS (
    SELECT a AS addr, sum(s) AS delta FROM (SELECT account_address AS a, 1 AS s FROM new_rows) AS x GROUP BY 1 HAVING sum(s) <> 0
  ),
  j AS (
    SELECT public.keyshare_risk_bucket(d.addr) AS b, d.addr, d.delta,
           wp.account_address IS NULL AS orphan,
           (wp.account_address IS NOT NULL AND NOT wp.backed_up_anywhere) AS at_risk
    FROM d LEFT JOIN public.wallet_properties AS wp ON wp.account_address = d.addr
  ),
  now_n AS (
    SELECT s.account_address AS addr, count(*) AS n
    FROM public.server_wallet_key_shares AS s
    WHERE s.account_address IN (SELECT addr FROM j WHERE at_risk)
    GROUP BY 1
  ),
  agg AS (
    SELECT j.b,
           sum(CASE WHEN j.orphan THEN j.delta ELSE 0 END) AS d_orphan,
           sum(CASE
                 WHEN NOT j.at_risk THEN 0
                 WHEN coalesce(n.n, 0) = 0 AND j.delta < 0 THEN 1        -- lost its last share record
                 WHEN coalesce(n.n, 0) = j.delta AND j.delta > 0 THEN -1 -- got its first share record
                 ELSE 0
               END) AS d_cannot
    FROM j LEFT JOIN now_n AS n ON n.addr = j.addr
    GROUP BY j.b
  )
  UPDATE public.wallet_risk_counters AS r
  SET shares_without_properties = r.shares_without_properties + agg.d_orphan,
      cannot_sign = r.cannot_sign + agg.d_cannot,
      touches = r.touches + 1
  FROM agg
  WHERE r.bucket = agg.b;
  RETURN NULL;
END
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION public.keyshare_shares_counters_del() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  INSERT INTO public.share_census AS c (encryption_key_id, key_version, environment, layout, slot, records)
  SELECT k, v, e, l, (pg_backend_pid() % 16)::smallint, n FROM (
    SELECT k, v, e, l, sum(s) AS n FROM (
      SELECT encryption_key_id AS k, coalesce(key_version, 0) AS v, coalesce(environment, '') AS e, coalesce(layout, '') AS l, -1 AS s FROM old_rows
    ) AS x GROUP BY 1, 2, 3, 4
  ) AS d
  WHERE n <> 0
  ORDER BY 1, 2, 3, 4
  ON CONFLICT (encryption_key_id, key_version, environment, layout, slot) DO UPDATE SET records = c.records + excluded.records;

  PERFORM 1 FROM public.wallet_risk_counters
  WHERE bucket IN (
    SELECT public.keyshare_risk_bucket(a) FROM (SELECT account_address AS a, -1 AS s FROM old_rows) AS x GROUP BY a HAVING sum(s) <> 0
  )
  ORDER BY bucket FOR UPDATE;

  -- New statement, new snapshot (READ COMMITTED): sees what writers that held these buckets before us committed.
  WITH d AS (
    SELECT a AS addr, sum(s) AS delta FROM (SELECT account_address AS a, -1 AS s FROM old_rows) AS x GROUP BY 1 HAVING sum(s) <> 0
  ),
  j AS (
    SELECT public.keyshare_risk_bucket(d.addr) AS b, d.addr, d.delta,
           wp.account_address IS NULL AS orphan,
           (wp.account_address IS NOT NULL AND NOT wp.backed_up_anywhere) AS at_risk
    FROM d LEFT JOIN public.wallet_properties AS wp ON wp.account_address = d.addr
  ),
  now_n AS (
    SELECT s.account_address AS addr, count(*) AS n
    FROM public.server_wallet_key_shares AS s
    WHERE s.account_address IN (SELECT addr FROM j WHERE at_risk)
    GROUP BY 1
  ),
  agg AS (
    SELECT j.b,
           sum(CASE WHEN j.orphan THEN j.delta ELSE 0 END) AS d_orphan,
           sum(CASE
                 WHEN NOT j.at_risk THEN 0
                 WHEN coalesce(n.n, 0) = 0 AND j.delta < 0 THEN 1        -- lost its last share record
                 WHEN coalesce(n.n, 0) = j.delta AND j.delta > 0 THEN -1 -- got its first share record
                 ELSE 0
               END) AS d_cannot
    FROM j LEFT JOIN now_n AS n ON n.addr = j.addr
    GROUP BY j.b
  )
  UPDATE public.wallet_risk_counters AS r
  SET shares_without_properties = r.shares_without_properties + agg.d_orphan,
      cannot_sign = r.cannot_sign + agg.d_cannot,
      touches = r.touches + 1
  FROM agg
  WHERE r.bucket = agg.b;
  RETURN NULL;
END
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION public.keyshare_shares_counters_upd() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  -- The backend's access bookkeeping (last_accessed_at, access_count) is the common update: nothing counted changed.
  IF NOT EXISTS (
    SELECT account_address, encryption_key_id, key_version, environment, layout FROM new_rows
    EXCEPT ALL
    SELECT account_address, encryption_key_id, key_version, environment, layout FROM old_rows
  ) THEN
    RETURN NULL;
  END IF;

  INSERT INTO public.share_census AS c (encryption_key_id, key_version, environment, layout, slot, records)
  SELECT k, v, e, l, (pg_backend_pid() % 16)::smallint, n FROM (
    SELECT k, v, e, l, sum(s) AS n FROM (
      SELECT encryption_key_id AS k, coalesce(key_version, 0) AS v, coalesce(environment, '') AS e, coalesce(layout, '') AS l, 1 AS s FROM new_rows
      UNION ALL SELECT encryption_key_id AS k, coalesce(key_version, 0) AS v, coalesce(environment, '') AS e, coalesce(layout, '') AS l, -1 AS s FROM old_rows
    ) AS x GROUP BY 1, 2, 3, 4
  ) AS d
  WHERE n <> 0
  ORDER BY 1, 2, 3, 4
  ON CONFLICT (encryption_key_id, key_version, environment, layout, slot) DO UPDATE SET records = c.records + excluded.records;

  -- A re-wrap changes key_version only: leave the risk buckets alone (no lock, no contention with backends).
  IF NOT EXISTS (SELECT account_address FROM new_rows EXCEPT ALL SELECT account_address FROM old_rows) THEN
    RETURN NULL;
  END IF;

  PERFORM 1 FROM public.wallet_risk_counters
  WHERE bucket IN (
    SELECT public.keyshare_risk_bucket(a) FROM (SELECT account_address AS a, 1 AS s FROM new_rows UNION ALL SELECT account_address AS a, -1 AS s FROM old_rows) AS x GROUP BY a HAVING sum(s) <> 0
  )
  ORDER BY bucket FOR UPDATE;

  -- New statement, new snapshot (READ COMMITTED): sees what writers that held these buckets before us committed.
  WITH d AS (
    SELECT a AS addr, sum(s) AS delta FROM (SELECT account_address AS a, 1 AS s FROM new_rows UNION ALL SELECT account_address AS a, -1 AS s FROM old_rows) AS x GROUP BY 1 HAVING sum(s) <> 0
  ),
  j AS (
    SELECT public.keyshare_risk_bucket(d.addr) AS b, d.addr, d.delta,
           wp.account_address IS NULL AS orphan,
           (wp.account_address IS NOT NULL AND NOT wp.backed_up_anywhere) AS at_risk
    FROM d LEFT JOIN public.wallet_properties AS wp ON wp.account_address = d.addr
  ),
  now_n AS (
    SELECT s.account_address AS addr, count(*) AS n
    FROM public.server_wallet_key_shares AS s
    WHERE s.account_address IN (SELECT addr FROM j WHERE at_risk)
    GROUP BY 1
  ),
  agg AS (
    SELECT j.b,
           sum(CASE WHEN j.orphan THEN j.delta ELSE 0 END) AS d_orphan,
           sum(CASE
                 WHEN NOT j.at_risk THEN 0
                 WHEN coalesce(n.n, 0) = 0 AND j.delta < 0 THEN 1        -- lost its last share record
                 WHEN coalesce(n.n, 0) = j.delta AND j.delta > 0 THEN -1 -- got its first share record
                 ELSE 0
               END) AS d_cannot
    FROM j LEFT JOIN now_n AS n ON n.addr = j.addr
    GROUP BY j.b
  )
  UPDATE public.wallet_risk_counters AS r
  SET shares_without_properties = r.shares_without_properties + agg.d_orphan,
      cannot_sign = r.cannot_sign + agg.d_cannot,
      touches = r.touches + 1
  FROM agg
  WHERE r.bucket = agg.b;
  RETURN NULL;
END
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION public.keyshare_wallet_properties_counters_ins() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  PERFORM 1 FROM public.wallet_risk_counters
  WHERE bucket IN (
    SELECT public.keyshare_risk_bucket(a) FROM (
      SELECT account_address AS a, has_backup_info AS h, backed_up_anywhere AS b, threshold_signature_scheme = 'TWO_OF_TWO' AS t,
             plaintext_shares_in_cache AS p, 1 AS s FROM new_rows
    ) AS x GROUP BY a, h, b, t, p HAVING sum(s) <> 0
  )
  ORDER BY bucket FOR UPDATE;

  WITH d AS (
    SELECT a AS addr, h AS hbi, b AS bua, t AS t22, p AS ptx, sum(s) AS n FROM (
      SELECT account_address AS a, has_backup_info AS h, backed_up_anywhere AS b, threshold_signature_scheme = 'TWO_OF_TWO' AS t,
             plaintext_shares_in_cache AS p, 1 AS s FROM new_rows
    ) AS x GROUP BY 1, 2, 3, 4, 5 HAVING sum(s) <> 0
  ),
  sc AS (
    SELECT s.account_address AS addr, count(*) AS n
    FROM public.server_wallet_key_shares AS s
    WHERE s.account_address IN (SELECT addr FROM d)
    GROUP BY 1
  ),
  agg AS (
    SELECT public.keyshare_risk_bucket(d.addr) AS b,
           sum(d.n) AS wallets,
           sum(d.n) FILTER (WHERE NOT d.hbi) AS mbi,
           sum(d.n) FILTER (WHERE d.t22 AND NOT d.bua) AS t22,
           sum(d.n) FILTER (WHERE NOT d.bua AND sc.n IS NULL) AS cannot,
           sum(d.n) FILTER (WHERE d.ptx) AS ptx,
           -- WalletProperties appearing adopt the address's share records; disappearing, they orphan them.
           -sum(d.n * coalesce(sc.n, 0)) AS orphan
    FROM d LEFT JOIN sc ON sc.addr = d.addr
    GROUP BY 1
  )
  UPDATE public.wallet_risk_counters AS r
  SET wallets = r.wallets + agg.wallets,
      missing_backup_info = r.missing_backup_info + coalesce(agg.mbi, 0),
      two_of_two_not_backed_up = r.two_of_two_not_backed_up + coalesce(agg.t22, 0),
      cannot_sign = r.cannot_sign + coalesce(agg.cannot, 0),
      plaintext_shares_in_cache = r.plaintext_shares_in_cache + coalesce(agg.ptx, 0),
      shares_without_properties = r.shares_without_properties + agg.orphan,
      touches = r.touches + 1
  FROM agg
  WHERE r.bucket = agg.b;
  RETURN NULL;
END
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION public.keyshare_wallet_properties_counters_del() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  PERFORM 1 FROM public.wallet_risk_counters
  WHERE bucket IN (
    SELECT public.keyshare_risk_bucket(a) FROM (
      SELECT account_address AS a, has_backup_info AS h, backed_up_anywhere AS b, threshold_signature_scheme = 'TWO_OF_TWO' AS t,
             plaintext_shares_in_cache AS p, -1 AS s FROM old_rows
    ) AS x GROUP BY a, h, b, t, p HAVING sum(s) <> 0
  )
  ORDER BY bucket FOR UPDATE;

  WITH d AS (
    SELECT a AS addr, h AS hbi, b AS bua, t AS t22, p AS ptx, sum(s) AS n FROM (
      SELECT account_address AS a, has_backup_info AS h, backed_up_anywhere AS b, threshold_signature_scheme = 'TWO_OF_TWO' AS t,
             plaintext_shares_in_cache AS p, -1 AS s FROM old_rows
    ) AS x GROUP BY 1, 2, 3, 4, 5 HAVING sum(s) <> 0
  ),
  sc AS (
    SELECT s.account_address AS addr, count(*) AS n
    FROM public.server_wallet_key_shares AS s
    WHERE s.account_address IN (SELECT addr FROM d)
    GROUP BY 1
  ),
  agg AS (
    SELECT public.keyshare_risk_bucket(d.addr) AS b,
           sum(d.n) AS wallets,
           sum(d.n) FILTER (WHERE NOT d.hbi) AS mbi,
           sum(d.n) FILTER (WHERE d.t22 AND NOT d.bua) AS t22,
           sum(d.n) FILTER (WHERE NOT d.bua AND sc.n IS NULL) AS cannot,
           sum(d.n) FILTER (WHERE d.ptx) AS ptx,
           -- WalletProperties appearing adopt the address's share records; disappearing, they orphan them.
           -sum(d.n * coalesce(sc.n, 0)) AS orphan
    FROM d LEFT JOIN sc ON sc.addr = d.addr
    GROUP BY 1
  )
  UPDATE public.wallet_risk_counters AS r
  SET wallets = r.wallets + agg.wallets,
      missing_backup_info = r.missing_backup_info + coalesce(agg.mbi, 0),
      two_of_two_not_backed_up = r.two_of_two_not_backed_up + coalesce(agg.t22, 0),
      cannot_sign = r.cannot_sign + coalesce(agg.cannot, 0),
      plaintext_shares_in_cache = r.plaintext_shares_in_cache + coalesce(agg.ptx, 0),
      shares_without_properties = r.shares_without_properties + agg.orphan,
      touches = r.touches + 1
  FROM agg
  WHERE r.bucket = agg.b;
  RETURN NULL;
END
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION public.keyshare_wallet_properties_counters_upd() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  PERFORM 1 FROM public.wallet_risk_counters
  WHERE bucket IN (
    SELECT public.keyshare_risk_bucket(a) FROM (
      SELECT account_address AS a, has_backup_info AS h, backed_up_anywhere AS b, threshold_signature_scheme = 'TWO_OF_TWO' AS t,
             plaintext_shares_in_cache AS p, 1 AS s FROM new_rows
      UNION ALL SELECT account_address AS a, has_backup_info AS h, backed_up_anywhere AS b, threshold_signature_scheme = 'TWO_OF_TWO' AS t,
             plaintext_shares_in_cache AS p, -1 AS s FROM old_rows
    ) AS x GROUP BY a, h, b, t, p HAVING sum(s) <> 0
  )
  ORDER BY bucket FOR UPDATE;

  WITH d AS (
    SELECT a AS addr, h AS hbi, b AS bua, t AS t22, p AS ptx, sum(s) AS n FROM (
      SELECT account_address AS a, has_backup_info AS h, backed_up_anywhere AS b, threshold_signature_scheme = 'TWO_OF_TWO' AS t,
             plaintext_shares_in_cache AS p, 1 AS s FROM new_rows
      UNION ALL SELECT account_address AS a, has_backup_info AS h, backed_up_anywhere AS b, threshold_signature_scheme = 'TWO_OF_TWO' AS t,
             plaintext_shares_in_cache AS p, -1 AS s FROM old_rows
    ) AS x GROUP BY 1, 2, 3, 4, 5 HAVING sum(s) <> 0
  ),
  sc AS (
    SELECT s.account_address AS addr, count(*) AS n
    FROM public.server_wallet_key_shares AS s
    WHERE s.account_address IN (SELECT addr FROM d)
    GROUP BY 1
  ),
  agg AS (
    SELECT public.keyshare_risk_bucket(d.addr) AS b,
           sum(d.n) AS wallets,
           sum(d.n) FILTER (WHERE NOT d.hbi) AS mbi,
           sum(d.n) FILTER (WHERE d.t22 AND NOT d.bua) AS t22,
           sum(d.n) FILTER (WHERE NOT d.bua AND sc.n IS NULL) AS cannot,
           sum(d.n) FILTER (WHERE d.ptx) AS ptx,
           -- WalletProperties appearing adopt the address's share records; disappearing, they orphan them.
           -sum(d.n * coalesce(sc.n, 0)) AS orphan
    FROM d LEFT JOIN sc ON sc.addr = d.addr
    GROUP BY 1
  )
  UPDATE public.wallet_risk_counters AS r
  SET wallets = r.wallets + agg.wallets,
      missing_backup_info = r.missing_backup_info + coalesce(agg.mbi, 0),
      two_of_two_not_backed_up = r.two_of_two_not_backed_up + coalesce(agg.t22, 0),
      cannot_sign = r.cannot_sign + coalesce(agg.cannot, 0),
      plaintext_shares_in_cache = r.plaintext_shares_in_cache + coalesce(agg.ptx, 0),
      shares_without_properties = r.shares_without_properties + agg.orphan,
      touches = r.touches + 1
  FROM agg
  WHERE r.bucket = agg.b;
  RETURN NULL;
END
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION public.keyshare_rebuild_counters() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  LOCK TABLE public.server_wallet_key_shares, public.wallet_properties IN SHARE MODE;
  DELETE FROM public.share_census WHERE true;
  INSERT INTO public.share_census (encryption_key_id, key_version, environment, layout, slot, records)
  SELECT encryption_key_id, coalesce(key_version, 0), coalesce(environment, ''), coalesce(layout, ''), 0, count(*)
  FROM public.server_wallet_key_shares GROUP BY 1, 2, 3, 4;

  INSERT INTO public.wallet_risk_counters (bucket) SELECT g FROM generate_series(0, 63) AS g ON CONFLICT (bucket) DO NOTHING;
  WITH sc AS (
    SELECT account_address AS addr, count(*) AS n FROM public.server_wallet_key_shares GROUP BY 1
  ),
  w AS (
    SELECT public.keyshare_risk_bucket(wp.account_address) AS b,
           count(*) AS wallets,
           count(*) FILTER (WHERE NOT wp.has_backup_info) AS mbi,
           count(*) FILTER (WHERE wp.threshold_signature_scheme = 'TWO_OF_TWO' AND NOT wp.backed_up_anywhere) AS t22,
           count(*) FILTER (WHERE NOT wp.backed_up_anywhere AND sc.addr IS NULL) AS cannot,
           count(*) FILTER (WHERE wp.plaintext_shares_in_cache) AS ptx
    FROM public.wallet_properties AS wp LEFT JOIN sc ON sc.addr = wp.account_address
    GROUP BY 1
  ),
  o AS (
    SELECT public.keyshare_risk_bucket(sc.addr) AS b, sum(sc.n) AS orphan
    FROM sc WHERE NOT EXISTS (SELECT 1 FROM public.wallet_properties AS wp WHERE wp.account_address = sc.addr)
    GROUP BY 1
  )
  UPDATE public.wallet_risk_counters AS r
  SET wallets = coalesce(w.wallets, 0),
      missing_backup_info = coalesce(w.mbi, 0),
      two_of_two_not_backed_up = coalesce(w.t22, 0),
      cannot_sign = coalesce(w.cannot, 0),
      plaintext_shares_in_cache = coalesce(w.ptx, 0),
      shares_without_properties = coalesce(o.orphan, 0),
      touches = r.touches + 1
  FROM generate_series(0, 63) AS g
  LEFT JOIN w ON w.b = g
  LEFT JOIN o ON o.b = g
  WHERE r.bucket = g;
END
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION public.keyshare_counters_truncated() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  PERFORM public.keyshare_rebuild_counters();
  RETURN NULL;
END
$$;
--> statement-breakpoint

-- Inventory read table (0009–0012), with plaintext_in_cache (the new last column of inventory_wallets).
CREATE OR REPLACE FUNCTION public.keyshare_inventory_desired(addrs text[]) RETURNS SETOF public.inventory_wallets
LANGUAGE sql STABLE
BEGIN ATOMIC
  WITH a AS (SELECT DISTINCT x AS addr FROM unnest(addrs) AS x WHERE x IS NOT NULL),
  wp AS (
    SELECT w.*,
           CASE
             WHEN NOT w.has_backup_info THEN 'missing_info'
             WHEN NOT w.backed_up_anywhere THEN 'none'
             WHEN coalesce(w.password_encrypted, false) THEN 'password_encrypted'
             ELSE 'backed_up'
           END AS status
    FROM a JOIN public.wallet_properties AS w ON w.account_address = a.addr
  )
  SELECT s.id, s.id, wp.id,
         coalesce(wp.wallet_id, s.wallet_id), s.account_address, public.keyshare_address_key(s.account_address),
         wp.chain_name, wp.threshold_signature_scheme,
         s.environment, s.encryption_key_id, s.key_version, s.layout, s.ciphertext_fingerprint, s.access_count,
         public.keyshare_epoch_us(s.created_at),
         coalesce(public.keyshare_epoch_us(s.last_accessed_at), -1),
         public.keyshare_epoch_us(coalesce(s.last_rewrapped_at, s.created_at)),
         coalesce(wp.status, 'unknown'),
         false,
         wp.id IS NULL,
         false,
         coalesce(wp.threshold_signature_scheme = 'TWO_OF_TWO' AND NOT wp.backed_up_anywhere, false),
         coalesce(wp.plaintext_shares_in_cache, false)
  FROM a
  JOIN public.server_wallet_key_shares AS s ON s.account_address = a.addr
  LEFT JOIN wp ON wp.account_address = a.addr
  UNION ALL
  SELECT wp.id, NULL, wp.id,
         wp.wallet_id, wp.account_address, public.keyshare_address_key(wp.account_address),
         wp.chain_name, wp.threshold_signature_scheme,
         NULL, NULL, NULL, NULL, NULL, NULL,
         public.keyshare_epoch_us(wp.created_at), -1, public.keyshare_epoch_us(wp.created_at),
         wp.status,
         true,
         false,
         NOT wp.backed_up_anywhere,
         (wp.threshold_signature_scheme = 'TWO_OF_TWO' AND NOT wp.backed_up_anywhere),
         wp.plaintext_shares_in_cache
  FROM wp
  WHERE NOT EXISTS (SELECT 1 FROM public.server_wallet_key_shares AS s WHERE s.account_address = wp.account_address);
END;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION public.keyshare_inventory_refresh(addrs text[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
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
  -- Rows of these addresses that should no longer exist, by primary-key probes (linear; see 0010).
  DELETE FROM public.inventory_wallets AS i
  WHERE i.account_address = ANY (addrs)
    AND CASE
          WHEN i.share_id IS NOT NULL THEN NOT EXISTS (
            SELECT 1 FROM public.server_wallet_key_shares AS s WHERE s.id = i.share_id AND s.account_address = i.account_address)
          ELSE NOT EXISTS (
                 SELECT 1 FROM public.wallet_properties AS w WHERE w.id = i.properties_id AND w.account_address = i.account_address)
               OR EXISTS (SELECT 1 FROM public.server_wallet_key_shares AS s WHERE s.account_address = i.account_address)
        END;

  INSERT INTO public.inventory_wallets AS i
  SELECT * FROM public.keyshare_inventory_desired(addrs)
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
    two_of_two_unbacked = excluded.two_of_two_unbacked,
    plaintext_in_cache = excluded.plaintext_in_cache
  WHERE (i.*) IS DISTINCT FROM (excluded.*);
END
$$;
--> statement-breakpoint

-- The deferral of 0012 holds only for a role with the privileges of the written table's owner (pg_has_role …
-- 'USAGE'; superusers included): such a role could disable the trigger anyway, so honouring the setting gives
-- it nothing new. For any other writer (a backend with INSERT rights) the setting is ignored and its rows reach
-- the read table at once.
CREATE OR REPLACE FUNCTION public.keyshare_inventory_on_write() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  addrs text[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF current_setting('keyshare.inventory_deferred', true) = 'on'
       AND pg_has_role(current_user, (SELECT c.relowner FROM pg_catalog.pg_class AS c WHERE c.oid = TG_RELID), 'USAGE') THEN
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
  PERFORM public.keyshare_inventory_refresh(addrs);
  RETURN NULL;
END
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION public.keyshare_inventory_rebuild() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  b integer;
BEGIN
  FOR b IN SELECT g FROM generate_series(0, 63) AS g LOOP
    PERFORM pg_advisory_xact_lock(1263749454, b);
  END LOOP;
  DELETE FROM public.inventory_wallets WHERE true;
  INSERT INTO public.inventory_wallets
  SELECT * FROM public.keyshare_inventory_desired(ARRAY(
    SELECT account_address FROM public.server_wallet_key_shares
    UNION
    SELECT account_address FROM public.wallet_properties
  ));
END
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION public.keyshare_inventory_truncated() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  PERFORM public.keyshare_inventory_rebuild();
  RETURN NULL;
END
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION public.keyshare_inventory_shares_upd() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  addrs text[];
BEGIN
  -- Every share column keyshare_inventory_desired reads, except the two access columns (see 0011).
  IF NOT EXISTS (SELECT 1 FROM new_rows AS n WHERE NOT EXISTS (SELECT 1 FROM public.inventory_wallets AS i WHERE i.id = n.id))
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
    PERFORM public.keyshare_inventory_lock(addrs);
    -- The values are this statement's own (new_rows), so no other writer's snapshot matters here.
    UPDATE public.inventory_wallets AS i
    SET accessed_us = coalesce(public.keyshare_epoch_us(n.last_accessed_at), -1),
        access_count = n.access_count
    FROM new_rows AS n
    WHERE i.id = n.id
      AND (i.accessed_us, i.access_count) IS DISTINCT FROM (coalesce(public.keyshare_epoch_us(n.last_accessed_at), -1), n.access_count);
    RETURN NULL;
  END IF;

  SELECT array_agg(DISTINCT a) INTO addrs FROM (
    SELECT account_address AS a FROM old_rows UNION ALL SELECT account_address FROM new_rows
  ) AS x;
  PERFORM public.keyshare_inventory_refresh(addrs);
  RETURN NULL;
END
$$;
--> statement-breakpoint

-- backup_info of existing rows down to what the console keeps (see 4. above). Neither the counters nor the
-- inventory derive anything from backup_info, so their UPDATE triggers are left out of this one statement
-- (an inventory refresh of every wallet otherwise); ALTER TABLE holds a lock that keeps other writers out
-- until this migration commits, so no one else's write goes uncounted meanwhile.
ALTER TABLE public.wallet_properties DISABLE TRIGGER wallet_properties_counters_upd, DISABLE TRIGGER wallet_properties_inventory_upd;
--> statement-breakpoint
UPDATE public.wallet_properties AS w
SET backup_info = jsonb_build_object(
      'passwordEncrypted', CASE WHEN jsonb_typeof(w.backup_info -> 'passwordEncrypted') = 'boolean' THEN (w.backup_info -> 'passwordEncrypted')::boolean ELSE false END,
      'backups', coalesce((
        SELECT jsonb_object_agg(e.key, jsonb_array_length(e.value))
        FROM jsonb_each(CASE WHEN jsonb_typeof(w.backup_info -> 'backups') = 'object' THEN w.backup_info -> 'backups' ELSE '{}'::jsonb END) AS e
        WHERE jsonb_typeof(e.value) = 'array'
      ), '{}'::jsonb))
WHERE w.backup_info IS NOT NULL AND jsonb_typeof(w.backup_info) <> 'null';
--> statement-breakpoint
ALTER TABLE public.wallet_properties ENABLE TRIGGER wallet_properties_counters_upd, ENABLE TRIGGER wallet_properties_inventory_upd;
