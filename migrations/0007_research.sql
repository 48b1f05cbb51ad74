CREATE TABLE "research_chunks" (
	"id" text PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"url" text NOT NULL,
	"ordinal" integer NOT NULL,
	"content" text NOT NULL,
	"search" "tsvector" GENERATED ALWAYS AS (to_tsvector('english', content)) STORED NOT NULL
);
--> statement-breakpoint
CREATE TABLE "research_events" (
	"session_id" text NOT NULL,
	"seq" integer NOT NULL,
	"type" varchar(40) NOT NULL,
	"data" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "research_events_session_id_seq_pk" PRIMARY KEY("session_id","seq")
);
--> statement-breakpoint
ALTER TABLE "research_sessions" DROP CONSTRAINT "research_sessions_status_check";--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "depth" varchar(10) DEFAULT 'standard' NOT NULL;--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "max_sources" integer DEFAULT 10 NOT NULL;--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "include_domains" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "exclude_domains" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "webhook_url" text;--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "query_hash" varchar(64);--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "report" text;--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "progress" jsonb;--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "state" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "skipped_sources" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "citation_check" jsonb;--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "budget" jsonb;--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "usage" jsonb;--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "stopped_early" text;--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "error" jsonb;--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "attempt" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "lease_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "cached_from" text;--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "document_id" text;--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "started_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "research_sessions" ADD COLUMN "updated_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "research_chunks" ADD CONSTRAINT "research_chunks_session_id_research_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."research_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "research_events" ADD CONSTRAINT "research_events_session_id_research_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."research_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_research_chunks_session" ON "research_chunks" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "idx_research_chunks_search" ON "research_chunks" USING gin ("search");--> statement-breakpoint
CREATE INDEX "idx_research_sessions_hash" ON "research_sessions" USING btree ("user_id","query_hash");--> statement-breakpoint
ALTER TABLE "research_sessions" ADD CONSTRAINT "research_sessions_depth_check" CHECK ("research_sessions"."depth" IN ('quick', 'standard', 'deep'));--> statement-breakpoint
ALTER TABLE "research_sessions" ADD CONSTRAINT "research_sessions_status_check" CHECK ("research_sessions"."status" IN ('pending', 'running', 'completed', 'failed', 'cancelled'));