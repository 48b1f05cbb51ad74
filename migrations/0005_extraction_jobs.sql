ALTER TABLE "extraction_jobs" DROP CONSTRAINT "extraction_jobs_status_check";--> statement-breakpoint
ALTER TABLE "extraction_jobs" ADD COLUMN "source_document_id" text;--> statement-breakpoint
ALTER TABLE "extraction_jobs" ADD COLUMN "crawl_bounds" jsonb;--> statement-breakpoint
ALTER TABLE "extraction_jobs" ADD COLUMN "output_format" varchar(10) DEFAULT 'json' NOT NULL;--> statement-breakpoint
ALTER TABLE "extraction_jobs" ADD COLUMN "webhook_url" text;--> statement-breakpoint
ALTER TABLE "extraction_jobs" ADD COLUMN "idempotency_key" varchar(255);--> statement-breakpoint
ALTER TABLE "extraction_jobs" ADD COLUMN "progress" jsonb;--> statement-breakpoint
ALTER TABLE "extraction_jobs" ADD COLUMN "error" jsonb;--> statement-breakpoint
ALTER TABLE "extraction_jobs" ADD COLUMN "attempt" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "extraction_jobs" ADD COLUMN "lease_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "extraction_jobs" ADD COLUMN "result_key" text;--> statement-breakpoint
ALTER TABLE "extraction_jobs" ADD COLUMN "result_pages" integer;--> statement-breakpoint
ALTER TABLE "extraction_jobs" ADD COLUMN "model_calls" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "extraction_jobs" ADD COLUMN "started_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "extraction_jobs" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "idx_extraction_jobs_idempotency" ON "extraction_jobs" USING btree ("user_id","idempotency_key");--> statement-breakpoint
ALTER TABLE "extraction_jobs" ADD CONSTRAINT "extraction_jobs_status_check" CHECK ("extraction_jobs"."status" IN ('pending', 'running', 'completed', 'failed', 'cancelled'));