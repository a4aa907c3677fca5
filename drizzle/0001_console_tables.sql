CREATE TABLE "audit_chain_head" (
	"id" smallint PRIMARY KEY NOT NULL,
	"last_seq" bigint NOT NULL,
	"last_hash" varchar(64) NOT NULL,
	CONSTRAINT "audit_chain_head_singleton" CHECK ("audit_chain_head"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "audit_checkpoints" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_checkpoints_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"seq" bigint NOT NULL,
	"hash" varchar(64) NOT NULL,
	"signature" text NOT NULL,
	"key_name" text NOT NULL,
	"key_version" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "audit_checkpoints_seq_key" UNIQUE("seq")
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"seq" bigint NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"actor_type" varchar(16) NOT NULL,
	"actor_user_id" text,
	"actor_email" text,
	"actor_role" text,
	"actor_ip" text,
	"actor_user_agent" text,
	"action" varchar(100) NOT NULL,
	"target_type" varchar(50),
	"target_id" text,
	"outcome" varchar(16) NOT NULL,
	"reason" text,
	"request_id" text,
	"vault_request_id" text,
	"details" jsonb NOT NULL,
	"prev_hash" varchar(64) NOT NULL,
	"hash" varchar(64) NOT NULL,
	CONSTRAINT "audit_events_actor_type_check" CHECK ("audit_events"."actor_type" in ('user', 'service', 'anonymous')),
	CONSTRAINT "audit_events_outcome_check" CHECK ("audit_events"."outcome" in ('success', 'failure', 'denied')),
	CONSTRAINT "audit_events_seq_check" CHECK ("audit_events"."seq" > 0)
);
--> statement-breakpoint
CREATE TABLE "wallet_properties" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"wallet_id" varchar(255) NOT NULL,
	"account_address" varchar(255) NOT NULL,
	"chain_name" varchar(32) NOT NULL,
	"threshold_signature_scheme" varchar(32) NOT NULL,
	"derivation_path" text,
	"backup_info" jsonb,
	"has_backup_info" boolean DEFAULT false NOT NULL,
	"password_encrypted" boolean,
	"backup_locations" text[] DEFAULT '{}'::text[] NOT NULL,
	"backed_up_anywhere" boolean DEFAULT false NOT NULL,
	"source" varchar(16) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "server_wallet_key_shares" ADD COLUMN "key_version" integer;--> statement-breakpoint
ALTER TABLE "server_wallet_key_shares" ADD COLUMN "layout" text;--> statement-breakpoint
ALTER TABLE "server_wallet_key_shares" ADD COLUMN "environment" text;--> statement-breakpoint
ALTER TABLE "server_wallet_key_shares" ADD COLUMN "ciphertext_fingerprint" text;--> statement-breakpoint
ALTER TABLE "server_wallet_key_shares" ADD COLUMN "last_rewrapped_at" timestamp;--> statement-breakpoint
ALTER TABLE "server_wallet_key_shares" ADD COLUMN "rewrap_campaign_id" uuid;--> statement-breakpoint
ALTER TABLE "server_wallet_key_shares" ADD COLUMN "row_version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "audit_events_seq_key" ON "audit_events" USING btree ("seq");--> statement-breakpoint
CREATE INDEX "audit_events_occurred_at_id_idx" ON "audit_events" USING btree ("occurred_at","id");--> statement-breakpoint
CREATE INDEX "audit_events_actor_user_idx" ON "audit_events" USING btree ("actor_user_id","occurred_at","id");--> statement-breakpoint
CREATE INDEX "audit_events_actor_email_idx" ON "audit_events" USING btree ("actor_email","occurred_at","id");--> statement-breakpoint
CREATE INDEX "audit_events_action_idx" ON "audit_events" USING btree ("action","occurred_at","id");--> statement-breakpoint
CREATE INDEX "audit_events_target_idx" ON "audit_events" USING btree ("target_type","target_id","occurred_at","id");--> statement-breakpoint
CREATE INDEX "audit_events_outcome_idx" ON "audit_events" USING btree ("outcome","occurred_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "wp_account_address_key" ON "wallet_properties" USING btree ("account_address");--> statement-breakpoint
CREATE INDEX "wp_account_address_lower_prefix_idx" ON "wallet_properties" USING btree (lower("account_address") text_pattern_ops);--> statement-breakpoint
CREATE INDEX "wp_wallet_id_idx" ON "wallet_properties" USING btree ("wallet_id");--> statement-breakpoint
CREATE INDEX "wp_chain_created_at_id_idx" ON "wallet_properties" USING btree ("chain_name","created_at","id");--> statement-breakpoint
CREATE INDEX "wp_created_at_id_idx" ON "wallet_properties" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "wp_missing_backup_info_idx" ON "wallet_properties" USING btree ("created_at","id") WHERE "wallet_properties"."has_backup_info" = false;--> statement-breakpoint
CREATE INDEX "wp_not_backed_up_idx" ON "wallet_properties" USING btree ("created_at","id") WHERE "wallet_properties"."backed_up_anywhere" = false;--> statement-breakpoint
CREATE INDEX "swks_key_version_id_idx" ON "server_wallet_key_shares" USING btree ("encryption_key_id","key_version","id");--> statement-breakpoint
CREATE INDEX "swks_wallet_id_idx" ON "server_wallet_key_shares" USING btree ("wallet_id");--> statement-breakpoint
CREATE INDEX "swks_account_address_idx" ON "server_wallet_key_shares" USING btree ("account_address");--> statement-breakpoint
CREATE INDEX "swks_account_address_lower_prefix_idx" ON "server_wallet_key_shares" USING btree (lower("account_address") text_pattern_ops);--> statement-breakpoint
CREATE INDEX "swks_created_at_id_idx" ON "server_wallet_key_shares" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "swks_last_accessed_at_id_idx" ON "server_wallet_key_shares" USING btree ("last_accessed_at","id");