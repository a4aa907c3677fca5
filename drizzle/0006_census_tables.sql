CREATE TABLE "census_daily" (
	"day" date NOT NULL,
	"encryption_key_id" varchar(255) NOT NULL,
	"latest_version" integer,
	"records" bigint NOT NULL,
	"records_behind" bigint,
	"taken_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "census_daily_day_encryption_key_id_pk" PRIMARY KEY("day","encryption_key_id")
);
--> statement-breakpoint
CREATE TABLE "share_census" (
	"encryption_key_id" varchar(255) NOT NULL,
	"key_version" integer NOT NULL,
	"environment" text NOT NULL,
	"layout" text NOT NULL,
	"slot" smallint NOT NULL,
	"records" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "share_census_encryption_key_id_key_version_environment_layout_slot_pk" PRIMARY KEY("encryption_key_id","key_version","environment","layout","slot")
);
--> statement-breakpoint
CREATE TABLE "wallet_risk_counters" (
	"bucket" smallint PRIMARY KEY NOT NULL,
	"wallets" bigint DEFAULT 0 NOT NULL,
	"missing_backup_info" bigint DEFAULT 0 NOT NULL,
	"two_of_two_not_backed_up" bigint DEFAULT 0 NOT NULL,
	"cannot_sign" bigint DEFAULT 0 NOT NULL,
	"shares_without_properties" bigint DEFAULT 0 NOT NULL,
	"touches" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "wallet_risk_counters_bucket_range" CHECK ("wallet_risk_counters"."bucket" between 0 and 63)
);
