-- Maintained counters for the Overview and Keys pages (issue 4; tables in lib/db/schema/census.ts).
--
-- share_census and wallet_risk_counters are kept by AFTER … FOR EACH STATEMENT triggers with transition
-- tables on server_wallet_key_shares and wallet_properties, so rows written by an external backend that knows
-- nothing of them keep the counters right. One statement = one grouped delta, whatever its row count: a bulk
-- insert of 100,000 rows costs one GROUP BY over the transition table instead of 100,000 row-trigger calls
-- (figures in bench/README.md).
--
-- Concurrency:
-- * share_census deltas commute, so they only need to avoid queueing: each counter is striped over 16 rows by
--   writing backend (slot = pg_backend_pid() % 16) and upserted with ON CONFLICT DO UPDATE in primary-key order
--   within the statement. Two sessions inserting under the same key version mostly hit different slots; on a
--   slot collision the second waits for the first to commit (row lock), it never loses an increment.
-- * wallet_risk_counters mixes both tables (a share record "without WalletProperties", a wallet that "cannot
--   sign"), so a trigger must read the other table. It first locks the buckets (hashtext(account_address) & 63)
--   of the addresses it changes, in bucket order, then reads in a new statement. Under READ COMMITTED every
--   statement of a PL/pgSQL function takes a fresh snapshot, so the second of two writers on one wallet sees
--   the first's committed rows; under REPEATABLE READ/SERIALIZABLE it gets a serialisation failure instead
--   (every locking trigger also bumps `touches`), which the client retries. Writers on different wallets
--   mostly lock different buckets; a bulk statement locks all 64 for the rest of its transaction.
-- * Nothing here may make a backend's write fail for its data: counters have no constraints but the bucket
--   range, and NULL dimensions map to sentinels (key_version 0, environment '', layout '').
-- keyshare_rebuild_counters() recounts everything (and is what TRUNCATE triggers run).

CREATE OR REPLACE FUNCTION keyshare_risk_bucket(addr text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (hashtext(addr) & 63)::smallint
$$;
--> statement-breakpoint

INSERT INTO wallet_risk_counters (bucket) SELECT g FROM generate_series(0, 63) AS g ON CONFLICT (bucket) DO NOTHING;
--> statement-breakpoint

-- Share table: census (records per key, version, environment, layout) and the share side of the risk counters.
-- One function per operation so each is plain static SQL (plans cached per session).
CREATE OR REPLACE FUNCTION keyshare_shares_counters_ins() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO share_census AS c (encryption_key_id, key_version, environment, layout, slot, records)
  SELECT k, v, e, l, (pg_backend_pid() % 16)::smallint, n FROM (
    SELECT k, v, e, l, sum(s) AS n FROM (
      SELECT encryption_key_id AS k, coalesce(key_version, 0) AS v, coalesce(environment, '') AS e, coalesce(layout, '') AS l, 1 AS s FROM new_rows
    ) AS x GROUP BY 1, 2, 3, 4
  ) AS d
  WHERE n <> 0
  ORDER BY 1, 2, 3, 4
  ON CONFLICT (encryption_key_id, key_version, environment, layout, slot) DO UPDATE SET records = c.records + excluded.records;

  PERFORM 1 FROM wallet_risk_counters
  WHERE bucket IN (
    SELECT keyshare_risk_bucket(a) FROM (SELECT account_address AS a, 1 AS s FROM new_rows) AS x GROUP BY a HAVING sum(s) <> 0
  )
  ORDER BY bucket FOR UPDATE;

  -- New statement, new snapshot (READ COMMITTED): sees what writers that held these buckets before us committed.
  WITH d AS (
    SELECT a AS addr, sum(s) AS delta FROM (SELECT account_address AS a, 1 AS s FROM new_rows) AS x GROUP BY 1 HAVING sum(s) <> 0
  ),
  j AS (
    SELECT keyshare_risk_bucket(d.addr) AS b, d.addr, d.delta,
           wp.account_address IS NULL AS orphan,
           (wp.account_address IS NOT NULL AND NOT wp.backed_up_anywhere) AS at_risk
    FROM d LEFT JOIN wallet_properties AS wp ON wp.account_address = d.addr
  ),
  now_n AS (
    SELECT s.account_address AS addr, count(*) AS n
    FROM server_wallet_key_shares AS s
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
  UPDATE wallet_risk_counters AS r
  SET shares_without_properties = r.shares_without_properties + agg.d_orphan,
      cannot_sign = r.cannot_sign + agg.d_cannot,
      touches = r.touches + 1
  FROM agg
  WHERE r.bucket = agg.b;
  RETURN NULL;
END
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION keyshare_shares_counters_del() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO share_census AS c (encryption_key_id, key_version, environment, layout, slot, records)
  SELECT k, v, e, l, (pg_backend_pid() % 16)::smallint, n FROM (
    SELECT k, v, e, l, sum(s) AS n FROM (
      SELECT encryption_key_id AS k, coalesce(key_version, 0) AS v, coalesce(environment, '') AS e, coalesce(layout, '') AS l, -1 AS s FROM old_rows
    ) AS x GROUP BY 1, 2, 3, 4
  ) AS d
  WHERE n <> 0
  ORDER BY 1, 2, 3, 4
  ON CONFLICT (encryption_key_id, key_version, environment, layout, slot) DO UPDATE SET records = c.records + excluded.records;

  PERFORM 1 FROM wallet_risk_counters
  WHERE bucket IN (
    SELECT keyshare_risk_bucket(a) FROM (SELECT account_address AS a, -1 AS s FROM old_rows) AS x GROUP BY a HAVING sum(s) <> 0
  )
  ORDER BY bucket FOR UPDATE;

  -- New statement, new snapshot (READ COMMITTED): sees what writers that held these buckets before us committed.
  WITH d AS (
    SELECT a AS addr, sum(s) AS delta FROM (SELECT account_address AS a, -1 AS s FROM old_rows) AS x GROUP BY 1 HAVING sum(s) <> 0
  ),
  j AS (
    SELECT keyshare_risk_bucket(d.addr) AS b, d.addr, d.delta,
           wp.account_address IS NULL AS orphan,
           (wp.account_address IS NOT NULL AND NOT wp.backed_up_anywhere) AS at_risk
    FROM d LEFT JOIN wallet_properties AS wp ON wp.account_address = d.addr
  ),
  now_n AS (
    SELECT s.account_address AS addr, count(*) AS n
    FROM server_wallet_key_shares AS s
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
  UPDATE wallet_risk_counters AS r
  SET shares_without_properties = r.shares_without_properties + agg.d_orphan,
      cannot_sign = r.cannot_sign + agg.d_cannot,
      touches = r.touches + 1
  FROM agg
  WHERE r.bucket = agg.b;
  RETURN NULL;
END
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION keyshare_shares_counters_upd() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  -- The backend's access bookkeeping (last_accessed_at, access_count) is the common update: nothing counted changed.
  IF NOT EXISTS (
    SELECT account_address, encryption_key_id, key_version, environment, layout FROM new_rows
    EXCEPT ALL
    SELECT account_address, encryption_key_id, key_version, environment, layout FROM old_rows
  ) THEN
    RETURN NULL;
  END IF;

  INSERT INTO share_census AS c (encryption_key_id, key_version, environment, layout, slot, records)
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

  PERFORM 1 FROM wallet_risk_counters
  WHERE bucket IN (
    SELECT keyshare_risk_bucket(a) FROM (SELECT account_address AS a, 1 AS s FROM new_rows UNION ALL SELECT account_address AS a, -1 AS s FROM old_rows) AS x GROUP BY a HAVING sum(s) <> 0
  )
  ORDER BY bucket FOR UPDATE;

  -- New statement, new snapshot (READ COMMITTED): sees what writers that held these buckets before us committed.
  WITH d AS (
    SELECT a AS addr, sum(s) AS delta FROM (SELECT account_address AS a, 1 AS s FROM new_rows UNION ALL SELECT account_address AS a, -1 AS s FROM old_rows) AS x GROUP BY 1 HAVING sum(s) <> 0
  ),
  j AS (
    SELECT keyshare_risk_bucket(d.addr) AS b, d.addr, d.delta,
           wp.account_address IS NULL AS orphan,
           (wp.account_address IS NOT NULL AND NOT wp.backed_up_anywhere) AS at_risk
    FROM d LEFT JOIN wallet_properties AS wp ON wp.account_address = d.addr
  ),
  now_n AS (
    SELECT s.account_address AS addr, count(*) AS n
    FROM server_wallet_key_shares AS s
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
  UPDATE wallet_risk_counters AS r
  SET shares_without_properties = r.shares_without_properties + agg.d_orphan,
      cannot_sign = r.cannot_sign + agg.d_cannot,
      touches = r.touches + 1
  FROM agg
  WHERE r.bucket = agg.b;
  RETURN NULL;
END
$$;
--> statement-breakpoint

-- wallet_properties: wallet counts by posture, and the properties side of the cross-table counters.
CREATE OR REPLACE FUNCTION keyshare_wallet_properties_counters_ins() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM wallet_risk_counters
  WHERE bucket IN (
    SELECT keyshare_risk_bucket(a) FROM (
      SELECT account_address AS a, has_backup_info AS h, backed_up_anywhere AS b, threshold_signature_scheme = 'TWO_OF_TWO' AS t, 1 AS s FROM new_rows
    ) AS x GROUP BY a, h, b, t HAVING sum(s) <> 0
  )
  ORDER BY bucket FOR UPDATE;

  WITH d AS (
    SELECT a AS addr, h AS hbi, b AS bua, t AS t22, sum(s) AS n FROM (
      SELECT account_address AS a, has_backup_info AS h, backed_up_anywhere AS b, threshold_signature_scheme = 'TWO_OF_TWO' AS t, 1 AS s FROM new_rows
    ) AS x GROUP BY 1, 2, 3, 4 HAVING sum(s) <> 0
  ),
  sc AS (
    SELECT s.account_address AS addr, count(*) AS n
    FROM server_wallet_key_shares AS s
    WHERE s.account_address IN (SELECT addr FROM d)
    GROUP BY 1
  ),
  agg AS (
    SELECT keyshare_risk_bucket(d.addr) AS b,
           sum(d.n) AS wallets,
           sum(d.n) FILTER (WHERE NOT d.hbi) AS mbi,
           sum(d.n) FILTER (WHERE d.t22 AND NOT d.bua) AS t22,
           sum(d.n) FILTER (WHERE NOT d.bua AND sc.n IS NULL) AS cannot,
           -- WalletProperties appearing adopt the address's share records; disappearing, they orphan them.
           -sum(d.n * coalesce(sc.n, 0)) AS orphan
    FROM d LEFT JOIN sc ON sc.addr = d.addr
    GROUP BY 1
  )
  UPDATE wallet_risk_counters AS r
  SET wallets = r.wallets + agg.wallets,
      missing_backup_info = r.missing_backup_info + coalesce(agg.mbi, 0),
      two_of_two_not_backed_up = r.two_of_two_not_backed_up + coalesce(agg.t22, 0),
      cannot_sign = r.cannot_sign + coalesce(agg.cannot, 0),
      shares_without_properties = r.shares_without_properties + agg.orphan,
      touches = r.touches + 1
  FROM agg
  WHERE r.bucket = agg.b;
  RETURN NULL;
END
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION keyshare_wallet_properties_counters_del() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM wallet_risk_counters
  WHERE bucket IN (
    SELECT keyshare_risk_bucket(a) FROM (
      SELECT account_address AS a, has_backup_info AS h, backed_up_anywhere AS b, threshold_signature_scheme = 'TWO_OF_TWO' AS t, -1 AS s FROM old_rows
    ) AS x GROUP BY a, h, b, t HAVING sum(s) <> 0
  )
  ORDER BY bucket FOR UPDATE;

  WITH d AS (
    SELECT a AS addr, h AS hbi, b AS bua, t AS t22, sum(s) AS n FROM (
      SELECT account_address AS a, has_backup_info AS h, backed_up_anywhere AS b, threshold_signature_scheme = 'TWO_OF_TWO' AS t, -1 AS s FROM old_rows
    ) AS x GROUP BY 1, 2, 3, 4 HAVING sum(s) <> 0
  ),
  sc AS (
    SELECT s.account_address AS addr, count(*) AS n
    FROM server_wallet_key_shares AS s
    WHERE s.account_address IN (SELECT addr FROM d)
    GROUP BY 1
  ),
  agg AS (
    SELECT keyshare_risk_bucket(d.addr) AS b,
           sum(d.n) AS wallets,
           sum(d.n) FILTER (WHERE NOT d.hbi) AS mbi,
           sum(d.n) FILTER (WHERE d.t22 AND NOT d.bua) AS t22,
           sum(d.n) FILTER (WHERE NOT d.bua AND sc.n IS NULL) AS cannot,
           -- WalletProperties appearing adopt the address's share records; disappearing, they orphan them.
           -sum(d.n * coalesce(sc.n, 0)) AS orphan
    FROM d LEFT JOIN sc ON sc.addr = d.addr
    GROUP BY 1
  )
  UPDATE wallet_risk_counters AS r
  SET wallets = r.wallets + agg.wallets,
      missing_backup_info = r.missing_backup_info + coalesce(agg.mbi, 0),
      two_of_two_not_backed_up = r.two_of_two_not_backed_up + coalesce(agg.t22, 0),
      cannot_sign = r.cannot_sign + coalesce(agg.cannot, 0),
      shares_without_properties = r.shares_without_properties + agg.orphan,
      touches = r.touches + 1
  FROM agg
  WHERE r.bucket = agg.b;
  RETURN NULL;
END
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION keyshare_wallet_properties_counters_upd() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM wallet_risk_counters
  WHERE bucket IN (
    SELECT keyshare_risk_bucket(a) FROM (
      SELECT account_address AS a, has_backup_info AS h, backed_up_anywhere AS b, threshold_signature_scheme = 'TWO_OF_TWO' AS t, 1 AS s FROM new_rows
      UNION ALL SELECT account_address AS a, has_backup_info AS h, backed_up_anywhere AS b, threshold_signature_scheme = 'TWO_OF_TWO' AS t, -1 AS s FROM old_rows
    ) AS x GROUP BY a, h, b, t HAVING sum(s) <> 0
  )
  ORDER BY bucket FOR UPDATE;

  WITH d AS (
    SELECT a AS addr, h AS hbi, b AS bua, t AS t22, sum(s) AS n FROM (
      SELECT account_address AS a, has_backup_info AS h, backed_up_anywhere AS b, threshold_signature_scheme = 'TWO_OF_TWO' AS t, 1 AS s FROM new_rows
      UNION ALL SELECT account_address AS a, has_backup_info AS h, backed_up_anywhere AS b, threshold_signature_scheme = 'TWO_OF_TWO' AS t, -1 AS s FROM old_rows
    ) AS x GROUP BY 1, 2, 3, 4 HAVING sum(s) <> 0
  ),
  sc AS (
    SELECT s.account_address AS addr, count(*) AS n
    FROM server_wallet_key_shares AS s
    WHERE s.account_address IN (SELECT addr FROM d)
    GROUP BY 1
  ),
  agg AS (
    SELECT keyshare_risk_bucket(d.addr) AS b,
           sum(d.n) AS wallets,
           sum(d.n) FILTER (WHERE NOT d.hbi) AS mbi,
           sum(d.n) FILTER (WHERE d.t22 AND NOT d.bua) AS t22,
           sum(d.n) FILTER (WHERE NOT d.bua AND sc.n IS NULL) AS cannot,
           -- WalletProperties appearing adopt the address's share records; disappearing, they orphan them.
           -sum(d.n * coalesce(sc.n, 0)) AS orphan
    FROM d LEFT JOIN sc ON sc.addr = d.addr
    GROUP BY 1
  )
  UPDATE wallet_risk_counters AS r
  SET wallets = r.wallets + agg.wallets,
      missing_backup_info = r.missing_backup_info + coalesce(agg.mbi, 0),
      two_of_two_not_backed_up = r.two_of_two_not_backed_up + coalesce(agg.t22, 0),
      cannot_sign = r.cannot_sign + coalesce(agg.cannot, 0),
      shares_without_properties = r.shares_without_properties + agg.orphan,
      touches = r.touches + 1
  FROM agg
  WHERE r.bucket = agg.b;
  RETURN NULL;
END
$$;
--> statement-breakpoint

-- Recounts every maintained counter from the source tables. Blocks writers to both tables (SHARE locks) for
-- the duration, readers are unaffected. `select keyshare_rebuild_counters()`; TRUNCATE of either table runs it.
CREATE OR REPLACE FUNCTION keyshare_rebuild_counters() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  LOCK TABLE server_wallet_key_shares, wallet_properties IN SHARE MODE;
  DELETE FROM share_census WHERE true;
  INSERT INTO share_census (encryption_key_id, key_version, environment, layout, slot, records)
  SELECT encryption_key_id, coalesce(key_version, 0), coalesce(environment, ''), coalesce(layout, ''), 0, count(*)
  FROM server_wallet_key_shares GROUP BY 1, 2, 3, 4;

  INSERT INTO wallet_risk_counters (bucket) SELECT g FROM generate_series(0, 63) AS g ON CONFLICT (bucket) DO NOTHING;
  WITH sc AS (
    SELECT account_address AS addr, count(*) AS n FROM server_wallet_key_shares GROUP BY 1
  ),
  w AS (
    SELECT keyshare_risk_bucket(wp.account_address) AS b,
           count(*) AS wallets,
           count(*) FILTER (WHERE NOT wp.has_backup_info) AS mbi,
           count(*) FILTER (WHERE wp.threshold_signature_scheme = 'TWO_OF_TWO' AND NOT wp.backed_up_anywhere) AS t22,
           count(*) FILTER (WHERE NOT wp.backed_up_anywhere AND sc.addr IS NULL) AS cannot
    FROM wallet_properties AS wp LEFT JOIN sc ON sc.addr = wp.account_address
    GROUP BY 1
  ),
  o AS (
    SELECT keyshare_risk_bucket(sc.addr) AS b, sum(sc.n) AS orphan
    FROM sc WHERE NOT EXISTS (SELECT 1 FROM wallet_properties AS wp WHERE wp.account_address = sc.addr)
    GROUP BY 1
  )
  UPDATE wallet_risk_counters AS r
  SET wallets = coalesce(w.wallets, 0),
      missing_backup_info = coalesce(w.mbi, 0),
      two_of_two_not_backed_up = coalesce(w.t22, 0),
      cannot_sign = coalesce(w.cannot, 0),
      shares_without_properties = coalesce(o.orphan, 0),
      touches = r.touches + 1
  FROM generate_series(0, 63) AS g
  LEFT JOIN w ON w.b = g
  LEFT JOIN o ON o.b = g
  WHERE r.bucket = g;
END
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION keyshare_counters_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM keyshare_rebuild_counters();
  RETURN NULL;
END
$$;
--> statement-breakpoint

CREATE TRIGGER server_wallet_key_shares_counters_ins
AFTER INSERT ON server_wallet_key_shares REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION keyshare_shares_counters_ins();
--> statement-breakpoint
CREATE TRIGGER server_wallet_key_shares_counters_upd
AFTER UPDATE ON server_wallet_key_shares REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION keyshare_shares_counters_upd();
--> statement-breakpoint
CREATE TRIGGER server_wallet_key_shares_counters_del
AFTER DELETE ON server_wallet_key_shares REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION keyshare_shares_counters_del();
--> statement-breakpoint
CREATE TRIGGER server_wallet_key_shares_counters_trunc
AFTER TRUNCATE ON server_wallet_key_shares
FOR EACH STATEMENT EXECUTE FUNCTION keyshare_counters_truncated();
--> statement-breakpoint
CREATE TRIGGER wallet_properties_counters_ins
AFTER INSERT ON wallet_properties REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION keyshare_wallet_properties_counters_ins();
--> statement-breakpoint
CREATE TRIGGER wallet_properties_counters_upd
AFTER UPDATE ON wallet_properties REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION keyshare_wallet_properties_counters_upd();
--> statement-breakpoint
CREATE TRIGGER wallet_properties_counters_del
AFTER DELETE ON wallet_properties REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION keyshare_wallet_properties_counters_del();
--> statement-breakpoint
CREATE TRIGGER wallet_properties_counters_trunc
AFTER TRUNCATE ON wallet_properties
FOR EACH STATEMENT EXECUTE FUNCTION keyshare_counters_truncated();
--> statement-breakpoint

-- Existing rows (an adopted backend table, or data from before this migration).
SELECT keyshare_rebuild_counters();
