CREATE TABLE "inventory_wallets" (
	"id" uuid PRIMARY KEY NOT NULL,
	"share_id" uuid,
	"properties_id" uuid,
	"wallet_id" varchar(255) NOT NULL,
	"account_address" varchar(255) NOT NULL,
	"address_key" text NOT NULL,
	"chain_name" varchar(32),
	"threshold_signature_scheme" varchar(32),
	"environment" text,
	"encryption_key_id" varchar(255),
	"key_version" integer,
	"layout" text,
	"ciphertext_fingerprint" text,
	"access_count" integer,
	"created_us" bigint NOT NULL,
	"accessed_us" bigint NOT NULL,
	"wrapped_us" bigint NOT NULL,
	"backup_status" text NOT NULL,
	"no_share" boolean NOT NULL,
	"no_properties" boolean NOT NULL,
	"cannot_sign" boolean NOT NULL,
	"two_of_two_unbacked" boolean NOT NULL
);
--> statement-breakpoint
CREATE INDEX "inv_all_created_idx" ON "inventory_wallets" USING btree ("created_us","id");--> statement-breakpoint
CREATE INDEX "inv_all_accessed_idx" ON "inventory_wallets" USING btree ("accessed_us","id");--> statement-breakpoint
CREATE INDEX "inv_all_wrapped_idx" ON "inventory_wallets" USING btree ("wrapped_us","id");--> statement-breakpoint
CREATE INDEX "inv_chain_created_idx" ON "inventory_wallets" USING btree ("chain_name","created_us","id");--> statement-breakpoint
CREATE INDEX "inv_chain_accessed_idx" ON "inventory_wallets" USING btree ("chain_name","accessed_us","id");--> statement-breakpoint
CREATE INDEX "inv_chain_wrapped_idx" ON "inventory_wallets" USING btree ("chain_name","wrapped_us","id");--> statement-breakpoint
CREATE INDEX "inv_scheme_created_idx" ON "inventory_wallets" USING btree ("threshold_signature_scheme","created_us","id");--> statement-breakpoint
CREATE INDEX "inv_scheme_accessed_idx" ON "inventory_wallets" USING btree ("threshold_signature_scheme","accessed_us","id");--> statement-breakpoint
CREATE INDEX "inv_scheme_wrapped_idx" ON "inventory_wallets" USING btree ("threshold_signature_scheme","wrapped_us","id");--> statement-breakpoint
CREATE INDEX "inv_key_version_created_idx" ON "inventory_wallets" USING btree ("encryption_key_id","key_version","created_us","id");--> statement-breakpoint
CREATE INDEX "inv_key_version_accessed_idx" ON "inventory_wallets" USING btree ("encryption_key_id","key_version","accessed_us","id");--> statement-breakpoint
CREATE INDEX "inv_key_version_wrapped_idx" ON "inventory_wallets" USING btree ("encryption_key_id","key_version","wrapped_us","id");--> statement-breakpoint
CREATE INDEX "inv_layout_created_idx" ON "inventory_wallets" USING btree ("layout","created_us","id");--> statement-breakpoint
CREATE INDEX "inv_layout_accessed_idx" ON "inventory_wallets" USING btree ("layout","accessed_us","id");--> statement-breakpoint
CREATE INDEX "inv_layout_wrapped_idx" ON "inventory_wallets" USING btree ("layout","wrapped_us","id");--> statement-breakpoint
CREATE INDEX "inv_backup_created_idx" ON "inventory_wallets" USING btree ("backup_status","created_us","id");--> statement-breakpoint
CREATE INDEX "inv_backup_accessed_idx" ON "inventory_wallets" USING btree ("backup_status","accessed_us","id");--> statement-breakpoint
CREATE INDEX "inv_backup_wrapped_idx" ON "inventory_wallets" USING btree ("backup_status","wrapped_us","id");--> statement-breakpoint
CREATE INDEX "inv_no_share_idx" ON "inventory_wallets" USING btree ("created_us","id") WHERE "inventory_wallets"."no_share";--> statement-breakpoint
CREATE INDEX "inv_no_properties_idx" ON "inventory_wallets" USING btree ("created_us","id") WHERE "inventory_wallets"."no_properties";--> statement-breakpoint
CREATE INDEX "inv_cannot_sign_idx" ON "inventory_wallets" USING btree ("created_us","id") WHERE "inventory_wallets"."cannot_sign";--> statement-breakpoint
CREATE INDEX "inv_two_of_two_unbacked_idx" ON "inventory_wallets" USING btree ("created_us","id") WHERE "inventory_wallets"."two_of_two_unbacked";--> statement-breakpoint
CREATE INDEX "inv_address_key_idx" ON "inventory_wallets" USING btree ("address_key" collate "C");--> statement-breakpoint
CREATE INDEX "inv_wallet_id_idx" ON "inventory_wallets" USING btree ("wallet_id");--> statement-breakpoint
CREATE INDEX "inv_account_address_idx" ON "inventory_wallets" USING btree ("account_address");