ALTER TABLE "research_sessions" ADD COLUMN "source_kind" varchar(10) DEFAULT 'web' NOT NULL;--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "document_ids" jsonb;--> statement-breakpoint
ALTER TABLE "research_sessions" ADD CONSTRAINT "research_sessions_source_kind_check" CHECK ("research_sessions"."source_kind" IN ('web', 'documents', 'both'));