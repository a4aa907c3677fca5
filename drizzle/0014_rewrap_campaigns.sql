CREATE TABLE "rewrap_campaigns" (
	"id" uuid PRIMARY KEY NOT NULL,
	"key_name" varchar(255) NOT NULL,
	"target_version" integer NOT NULL,
	"scope_versions" integer[],
	"scope_environment" text,
	"derived" boolean DEFAULT false NOT NULL,
	"state" varchar(16) NOT NULL,
	"state_reason" text,
	"batch_size" integer NOT NULL,
	"failure_budget" integer NOT NULL,
	"max_item_attempts" integer NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"records_at_start" bigint NOT NULL,
	"rewrapped" bigint DEFAULT 0 NOT NULL,
	"skipped_conflict" bigint DEFAULT 0 NOT NULL,
	"item_failures" bigint DEFAULT 0 NOT NULL,
	"batches" bigint DEFAULT 0 NOT NULL,
	"failed_calls" bigint DEFAULT 0 NOT NULL,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"not_before" timestamp with time zone,
	"last_batch_at" timestamp with time zone,
	"last_error" text,
	"cursor_version" integer,
	"cursor_id" uuid,
	"pass" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "rewrap_campaigns_state_check" CHECK ("rewrap_campaigns"."state" in ('pending', 'running', 'paused', 'completed', 'cancelled', 'failed')),
	CONSTRAINT "rewrap_campaigns_target_check" CHECK ("rewrap_campaigns"."target_version" >= 1),
	CONSTRAINT "rewrap_campaigns_batch_check" CHECK ("rewrap_campaigns"."batch_size" between 1 and 1000)
);
--> statement-breakpoint
CREATE TABLE "rewrap_item_failures" (
	"campaign_id" uuid NOT NULL,
	"record_id" uuid NOT NULL,
	"attempts" integer NOT NULL,
	"reason_code" varchar(32) NOT NULL,
	"error" text NOT NULL,
	"quarantined" boolean DEFAULT false NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"acknowledged_by" text,
	"first_failed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_failed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rewrap_item_failures_campaign_id_record_id_pk" PRIMARY KEY("campaign_id","record_id")
);
--> statement-breakpoint
CREATE TABLE "rewrap_leases" (
	"id" uuid PRIMARY KEY NOT NULL,
	"campaign_id" uuid NOT NULL,
	"lo_version" integer NOT NULL,
	"lo_id" uuid NOT NULL,
	"hi_version" integer NOT NULL,
	"hi_id" uuid NOT NULL,
	"token" bigint NOT NULL,
	"owner" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "rewrap_item_failures" ADD CONSTRAINT "rewrap_item_failures_campaign_id_rewrap_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."rewrap_campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rewrap_leases" ADD CONSTRAINT "rewrap_leases_campaign_id_rewrap_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."rewrap_campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "rewrap_campaigns_one_active_per_key" ON "rewrap_campaigns" USING btree ("key_name") WHERE "rewrap_campaigns"."state" in ('pending', 'running', 'paused');--> statement-breakpoint
CREATE INDEX "rewrap_campaigns_created_idx" ON "rewrap_campaigns" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "rewrap_campaigns_state_idx" ON "rewrap_campaigns" USING btree ("state");--> statement-breakpoint
CREATE INDEX "rewrap_item_failures_quarantined_idx" ON "rewrap_item_failures" USING btree ("campaign_id","quarantined");--> statement-breakpoint
CREATE INDEX "rewrap_leases_campaign_expires_idx" ON "rewrap_leases" USING btree ("campaign_id","expires_at");