-- Audit trail integrity in the database itself (DESIGN §6), so it holds whatever code writes to it:
-- 1. audit_events and audit_checkpoints refuse UPDATE, DELETE and TRUNCATE, for every role;
-- 2. every audit_events insert must follow audit_chain_head (seq = last_seq + 1, prev_hash = last_hash)
--    and advances it, under the head's row lock: appends are serialised and the chain cannot fork;
-- 3. the head row cannot be deleted and only moves forward one step at a time.
-- What this cannot stop is a superuser disabling the triggers; signed checkpoints (audit_checkpoints) and
-- verifyAuditChain are there for that.

CREATE OR REPLACE FUNCTION keyshare_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'P0001', HINT = 'audit records are never changed or removed';
END
$$;
--> statement-breakpoint

CREATE TRIGGER audit_events_append_only
BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION keyshare_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_events_no_truncate
BEFORE TRUNCATE ON audit_events
FOR EACH STATEMENT EXECUTE FUNCTION keyshare_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_checkpoints_append_only
BEFORE UPDATE OR DELETE ON audit_checkpoints
FOR EACH ROW EXECUTE FUNCTION keyshare_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_checkpoints_no_truncate
BEFORE TRUNCATE ON audit_checkpoints
FOR EACH STATEMENT EXECUTE FUNCTION keyshare_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_chain_head_no_delete
BEFORE DELETE ON audit_chain_head
FOR EACH ROW EXECUTE FUNCTION keyshare_refuse_change();
--> statement-breakpoint
CREATE TRIGGER audit_chain_head_no_truncate
BEFORE TRUNCATE ON audit_chain_head
FOR EACH STATEMENT EXECUTE FUNCTION keyshare_refuse_change();
--> statement-breakpoint

CREATE OR REPLACE FUNCTION keyshare_audit_head_forward() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id <> OLD.id OR NEW.last_seq <> OLD.last_seq + 1 THEN
    RAISE EXCEPTION 'audit_chain_head only moves forward one event at a time';
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_chain_head_forward_only
BEFORE UPDATE ON audit_chain_head
FOR EACH ROW EXECUTE FUNCTION keyshare_audit_head_forward();
--> statement-breakpoint

CREATE OR REPLACE FUNCTION keyshare_audit_link() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  head record;
BEGIN
  SELECT last_seq, last_hash INTO head FROM audit_chain_head WHERE id = 1 FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'audit_chain_head is missing';
  END IF;
  IF NEW.seq <> head.last_seq + 1 OR NEW.prev_hash <> head.last_hash THEN
    RAISE EXCEPTION 'audit chain fork refused: seq % does not follow head seq %', NEW.seq, head.last_seq;
  END IF;
  UPDATE audit_chain_head SET last_seq = NEW.seq, last_hash = NEW.hash WHERE id = 1;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_events_link
BEFORE INSERT ON audit_events
FOR EACH ROW EXECUTE FUNCTION keyshare_audit_link();
--> statement-breakpoint

INSERT INTO audit_chain_head (id, last_seq, last_hash) VALUES (1, 0, repeat('0', 64)) ON CONFLICT (id) DO NOTHING;
