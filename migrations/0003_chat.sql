ALTER TABLE "conversations" ALTER COLUMN "model" SET DATA TYPE varchar(200);--> statement-breakpoint
ALTER TABLE "conversations" ALTER COLUMN "model" SET DEFAULT 'auto';--> statement-breakpoint
ALTER TABLE "messages" ALTER COLUMN "model_used" SET DATA TYPE varchar(200);--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "system_prompt" text;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "document_ids" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "summary" text;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "summary_through" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "status" varchar(20) DEFAULT 'complete' NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "finish_reason" varchar(30);--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "error" jsonb;--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_status_check" CHECK ("messages"."status" IN ('complete', 'cancelled', 'failed'));