CREATE TABLE "document_chunks" (
	"id" text PRIMARY KEY NOT NULL,
	"document_id" text NOT NULL,
	"user_id" text NOT NULL,
	"ordinal" integer NOT NULL,
	"page" integer NOT NULL,
	"char_start" integer NOT NULL,
	"char_end" integer NOT NULL,
	"heading" text,
	"content" text NOT NULL,
	"search" "tsvector" GENERATED ALWAYS AS (to_tsvector('english', coalesce(heading, '') || ' ' || content)) STORED NOT NULL
);
--> statement-breakpoint
CREATE TABLE "document_pages" (
	"document_id" text NOT NULL,
	"page" integer NOT NULL,
	"label" text,
	"ocr" integer DEFAULT 0 NOT NULL,
	"text" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "documents" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"filename" varchar(255) NOT NULL,
	"kind" varchar(20) NOT NULL,
	"media_type" varchar(127) NOT NULL,
	"size_bytes" bigint NOT NULL,
	"sha256" varchar(64) NOT NULL,
	"object_key" text NOT NULL,
	"status" varchar(20) DEFAULT 'pending' NOT NULL,
	"error" jsonb,
	"attempt" integer DEFAULT 0 NOT NULL,
	"lease_until" timestamp with time zone,
	"pages" integer,
	"characters" integer,
	"chunk_count" integer,
	"ocr_pages" integer,
	"embedding_model" varchar(200),
	"ready_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "documents_status_check" CHECK ("documents"."status" IN ('pending', 'processing', 'ready', 'failed')),
	CONSTRAINT "documents_kind_check" CHECK ("documents"."kind" IN ('pdf', 'image', 'csv', 'xlsx', 'html', 'markdown', 'text'))
);
--> statement-breakpoint
CREATE TABLE "vector_entries" (
	"namespace" text NOT NULL,
	"id" text NOT NULL,
	"vector" real[] NOT NULL,
	"metadata" jsonb NOT NULL,
	CONSTRAINT "vector_entries_pkey" PRIMARY KEY("namespace","id")
);
--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "all_documents" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "citations" jsonb;--> statement-breakpoint
ALTER TABLE "document_chunks" ADD CONSTRAINT "document_chunks_document_id_documents_id_fk" FOREIGN KEY ("document_id") REFERENCES "public"."documents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "document_pages" ADD CONSTRAINT "document_pages_document_id_documents_id_fk" FOREIGN KEY ("document_id") REFERENCES "public"."documents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "documents" ADD CONSTRAINT "documents_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_document_chunks_search" ON "document_chunks" USING gin ("search");--> statement-breakpoint
CREATE UNIQUE INDEX "idx_document_chunks_ordinal" ON "document_chunks" USING btree ("document_id","ordinal");--> statement-breakpoint
CREATE INDEX "idx_document_chunks_user" ON "document_chunks" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "idx_document_pages_page" ON "document_pages" USING btree ("document_id","page");--> statement-breakpoint
CREATE INDEX "idx_documents_user" ON "documents" USING btree ("user_id","id");