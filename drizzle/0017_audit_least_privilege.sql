-- Least privilege for the audit trail (DESIGN §6): the console's runtime role gets only SELECT and INSERT on the
-- audit tables (lib/db/roles.ts grants it after migrating), so nothing it runs may touch audit_chain_head
-- directly. Both steps of an append that need more than that run as the tables' owner:
-- 1. keyshare_audit_lock_head() takes the head's row lock (FOR UPDATE needs UPDATE privilege) and returns the
--    position to extend, serialising appends as before;
-- 2. keyshare_audit_link() (the insert trigger) checks the link and advances the head as the owner.
-- Both are SECURITY DEFINER with a pinned search_path and schema-qualified names, so a caller's temporary
-- objects cannot stand in for the tables.

CREATE OR REPLACE FUNCTION public.keyshare_audit_link() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
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
  IF NEW.hash !~ '^[0-9a-f]{64}$' THEN
    RAISE EXCEPTION 'audit event hash must be 64 lower-case hex digits';
  END IF;
  UPDATE public.audit_chain_head SET last_seq = NEW.seq, last_hash = NEW.hash WHERE id = 1;
  RETURN NEW;
END
$$;
--> statement-breakpoint

CREATE OR REPLACE FUNCTION public.keyshare_audit_lock_head(OUT last_seq bigint, OUT last_hash varchar, OUT now_utc text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  SELECT h.last_seq, h.last_hash INTO last_seq, last_hash FROM public.audit_chain_head AS h WHERE h.id = 1 FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'audit_chain_head is missing';
  END IF;
  -- Read under the lock: event time follows seq across instances.
  now_utc := to_char(date_trunc('milliseconds', clock_timestamp()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
END
$$;
--> statement-breakpoint
-- Holding the head's lock stalls every append: only the roles that append may take it (the owner, and the
-- runtime role once `npm run db:migrate` granted it).
REVOKE EXECUTE ON FUNCTION public.keyshare_audit_lock_head() FROM PUBLIC;
