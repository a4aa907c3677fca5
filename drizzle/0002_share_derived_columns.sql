-- Derived columns of server_wallet_key_shares (see lib/db/README.md, "Share layouts").
-- They are computed here, in the database, so rows written by an external backend that knows only the
-- original columns are right too. Nothing in this file may make a backend's INSERT fail: unknown formats
-- leave layout/key_version NULL (the console flags them) rather than raising.

-- layout and Transit key version of a stored ciphertext.
--   direct:   bytes start with "vault:vN:"
--   envelope: bytes are a JSON document starting with "{" that carries "wrapped_key":"vault:vN:…"
-- encode(…, 'escape') cannot fail on arbitrary bytes, unlike convert_from(…, 'UTF8').
CREATE OR REPLACE FUNCTION keyshare_share_meta(ct bytea, OUT layout text, OUT key_version integer)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  m text[];
BEGIN
  layout := NULL;
  key_version := NULL;
  IF ct IS NULL THEN
    RETURN;
  END IF;
  IF substring(ct FROM 1 FOR 7) = '\x7661756c743a76'::bytea THEN
    m := regexp_match(encode(substring(ct FROM 1 FOR 24), 'escape'), '^vault:v([0-9]{1,9}):');
    IF m IS NOT NULL THEN
      layout := 'direct';
      key_version := m[1]::integer;
    END IF;
  ELSIF substring(ct FROM 1 FOR 1) = '\x7b'::bytea THEN
    m := regexp_match(encode(ct, 'escape'), '"wrapped_key"\s*:\s*"vault:v([0-9]{1,9}):');
    IF m IS NOT NULL THEN
      layout := 'envelope';
      key_version := m[1]::integer;
    END IF;
  END IF;
END
$$;
--> statement-breakpoint

-- First 8 bytes of SHA-256 of the stored bytes, hex: tells records apart without revealing anything.
CREATE OR REPLACE FUNCTION keyshare_ciphertext_fingerprint(ct bytea) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT encode(substring(sha256(ct) FROM 1 FOR 8), 'hex')
$$;
--> statement-breakpoint

-- Backfill rows that existed before the console (adopted backend table). Runs before the trigger exists,
-- because the trigger keeps derived columns unchanged when the ciphertext is unchanged.
UPDATE server_wallet_key_shares
SET (layout, key_version) = (SELECT m.layout, m.key_version FROM keyshare_share_meta(encrypted_key_shares) AS m),
    ciphertext_fingerprint = keyshare_ciphertext_fingerprint(encrypted_key_shares)
WHERE ciphertext_fingerprint IS NULL;
--> statement-breakpoint

-- Derived columns and the compare-and-swap token. row_version belongs to this trigger: 0 on insert, +1
-- whenever the ciphertext changes, otherwise unchanged whatever the UPDATE says. Updates that leave the
-- ciphertext alone (the backend's last_accessed_at/access_count bookkeeping) cost no hashing.
CREATE OR REPLACE FUNCTION keyshare_shares_derive() RETURNS trigger
LANGUAGE plpgsql AS $$
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
  meta := keyshare_share_meta(NEW.encrypted_key_shares);
  NEW.layout := meta.layout;
  NEW.key_version := meta.key_version;
  NEW.ciphertext_fingerprint := keyshare_ciphertext_fingerprint(NEW.encrypted_key_shares);
  IF TG_OP = 'UPDATE' THEN
    NEW.row_version := OLD.row_version + 1;
  ELSE
    NEW.row_version := 0;
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint

CREATE TRIGGER server_wallet_key_shares_derive
BEFORE INSERT OR UPDATE ON server_wallet_key_shares
FOR EACH ROW EXECUTE FUNCTION keyshare_shares_derive();
