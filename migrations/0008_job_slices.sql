ALTER TABLE "documents" ADD COLUMN "slices" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "documents" ADD COLUMN "checkpoint" jsonb;--> statement-breakpoint
ALTER TABLE "extraction_jobs" ADD COLUMN "slices" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "extraction_jobs" ADD COLUMN "checkpoint" jsonb;--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "slices" integer DEFAULT 0 NOT NULL;