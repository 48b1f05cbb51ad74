ALTER TABLE "usage_daily" ADD COLUMN "tokens_input_cached" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "tokens_input_cached" integer DEFAULT 0 NOT NULL;