CREATE TABLE "usage_daily" (
	"user_id" text NOT NULL,
	"day" date NOT NULL,
	"service" varchar(50) NOT NULL,
	"provider" varchar(50) NOT NULL,
	"model" varchar(200) NOT NULL,
	"requests" integer DEFAULT 0 NOT NULL,
	"tokens_input" bigint DEFAULT 0 NOT NULL,
	"tokens_output" bigint DEFAULT 0 NOT NULL,
	"cost_usd" numeric(14, 8) DEFAULT '0' NOT NULL,
	"cache_hits" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "usage_daily_pk" PRIMARY KEY("user_id","day","service","provider","model"),
	CONSTRAINT "usage_daily_service_check" CHECK ("usage_daily"."service" IN ('chat', 'research', 'extraction', 'code', 'openai'))
);
--> statement-breakpoint
ALTER TABLE "usage_records" DROP CONSTRAINT "usage_records_service_check";--> statement-breakpoint
ALTER TABLE "usage_records" ALTER COLUMN "cost_usd" SET DATA TYPE numeric(12, 8);--> statement-breakpoint
ALTER TABLE "usage_records" ALTER COLUMN "cost_usd" SET DEFAULT '0';--> statement-breakpoint
UPDATE "usage_records" SET "cost_usd" = 0 WHERE "cost_usd" IS NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ALTER COLUMN "cost_usd" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "provider" varchar(50) DEFAULT 'unknown' NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "model" varchar(200) DEFAULT 'unknown' NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "latency_ms" integer;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "ttft_ms" integer;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "cached" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_records" ADD COLUMN "request_id" varchar(100);--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "monthly_budget_usd" numeric(12, 2);--> statement-breakpoint
ALTER TABLE "usage_daily" ADD CONSTRAINT "usage_daily_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "usage_records" ADD CONSTRAINT "usage_records_service_check" CHECK ("usage_records"."service" IN ('chat', 'research', 'extraction', 'code', 'openai'));