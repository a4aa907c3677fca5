-- Edited before first release: IF NOT EXISTS so the console adopts the share table a backend already runs
-- (Dynamic's storage guide, DESIGN §1) instead of failing. Everything the console adds comes in later
-- migrations as nullable or defaulted columns, indexes and triggers.
CREATE TABLE IF NOT EXISTS "server_wallet_key_shares" (
	"id" uuid PRIMARY KEY NOT NULL,
	"wallet_id" varchar(255) NOT NULL,
	"account_address" varchar(255) NOT NULL,
	"encrypted_key_shares" "bytea" NOT NULL,
	"encryption_key_id" varchar(255) NOT NULL,
	"encryption_algorithm" varchar(50) DEFAULT 'AES-256-GCM',
	"created_at" timestamp DEFAULT now() NOT NULL,
	"last_accessed_at" timestamp,
	"access_count" integer DEFAULT 0
);
