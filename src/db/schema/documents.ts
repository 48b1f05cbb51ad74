import { sql } from "drizzle-orm";
import {
  bigint,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  uniqueIndex,
  varchar,
} from "drizzle-orm/pg-core";
import { checkpointColumn, createdAt, idColumn, leaseColumns, oneOf, timestamptz, updatedAt } from "./columns.js";
import { users } from "./users.js";

/** Postgres's full-text vector; written by Postgres itself (a generated column), never by code. */
const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

/** Where a document is in its ingestion: queued, being read, searchable, or failed (with its error). */
export const documentStatuses = ["pending", "processing", "ready", "failed"] as const;

/** One of `documentStatuses`. */
export type DocumentStatus = (typeof documentStatuses)[number];

/** What a file turned out to be, by its bytes (not its name). */
export const documentKinds = ["pdf", "image", "csv", "xlsx", "html", "markdown", "text"] as const;

/** One of `documentKinds`. */
export type DocumentKind = (typeof documentKinds)[number];

/** Why ingestion failed, kept on the row so the owner can read it and retry. */
export type DocumentFailure = { code: string; message: string; retryable: boolean };

/**
 * What one ingestion slice hands the next: the pages, once extracted, wait in R2 under `pages_key`, and
 * `embedded` chunks have their vectors stored.
 */
export type DocumentCheckpoint = { pages_key: string; embedded: number; embedding_model: string | null };

/**
 * Uploaded files, one user's each. The bytes live in R2 under `users/{user_id}/documents/{id}`; this row holds
 * what was learnt from them. `attempt` counts ingestion runs: a run writes its result only while the row is
 * still on its attempt, so a duplicate or stale queue delivery can never overwrite a newer run.
 */
export const documents = pgTable(
  "documents",
  {
    id: idColumn("doc"),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    filename: varchar("filename", { length: 255 }).notNull(),
    kind: varchar("kind", { length: 20, enum: documentKinds }).notNull(),
    mediaType: varchar("media_type", { length: 127 }).notNull(),
    sizeBytes: bigint("size_bytes", { mode: "number" }).notNull(),
    sha256: varchar("sha256", { length: 64 }).notNull(),
    objectKey: text("object_key").notNull(),
    status: varchar("status", { length: 20, enum: documentStatuses }).notNull().default("pending"),
    error: jsonb("error").$type<DocumentFailure>(),
    ...leaseColumns(),
    checkpoint: checkpointColumn<DocumentCheckpoint>(),
    pages: integer("pages"),
    characters: integer("characters"),
    chunkCount: integer("chunk_count"),
    /** Pages read by OCR, and the embedding model the chunks' vectors came from (null: full-text only). */
    ocrPages: integer("ocr_pages"),
    embeddingModel: varchar("embedding_model", { length: 200 }),
    readyAt: timestamptz("ready_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("idx_documents_user").on(t.userId, t.id),
    oneOf("documents_status_check", t.status, documentStatuses),
    oneOf("documents_kind_check", t.kind, documentKinds),
  ],
);

/** A row of `documents` as read. */
export type DocumentRow = typeof documents.$inferSelect;

/**
 * A document's text, split along its structure. `char_start`/`char_end` are offsets into the page's text, so
 * a citation can point at the exact passage. `search` is the full-text vector Postgres keeps up to date itself.
 */
export const documentChunks = pgTable(
  "document_chunks",
  {
    id: text("id").primaryKey(),
    documentId: text("document_id")
      .notNull()
      .references(() => documents.id, { onDelete: "cascade" }),
    userId: text("user_id").notNull(),
    ordinal: integer("ordinal").notNull(),
    page: integer("page").notNull(),
    charStart: integer("char_start").notNull(),
    charEnd: integer("char_end").notNull(),
    heading: text("heading"),
    content: text("content").notNull(),
    search: tsvector("search")
      .notNull()
      .generatedAlwaysAs(sql`to_tsvector('english', coalesce(heading, '') || ' ' || content)`),
  },
  (t) => [
    index("idx_document_chunks_search").using("gin", t.search),
    uniqueIndex("idx_document_chunks_ordinal").on(t.documentId, t.ordinal),
    index("idx_document_chunks_user").on(t.userId),
  ],
);

/** A row of `document_chunks` as read. */
export type DocumentChunkRow = typeof documentChunks.$inferSelect;

/** A document's extracted text, one row per page, for `GET /documents/{id}/text`. */
export const documentPages = pgTable(
  "document_pages",
  {
    documentId: text("document_id")
      .notNull()
      .references(() => documents.id, { onDelete: "cascade" }),
    page: integer("page").notNull(),
    label: text("label"),
    ocr: integer("ocr").notNull().default(0),
    text: text("text").notNull(),
  },
  (t) => [uniqueIndex("idx_document_pages_page").on(t.documentId, t.page)],
);

/**
 * The Postgres vector store (local and small deployments; production uses Upstash Vector). Vectors are unit
 * length, so the dot product is the cosine similarity. `namespace` is the seed's collection name
 * (`user_{id}_documents`, `research_{id}`).
 */
export const vectorEntries = pgTable(
  "vector_entries",
  {
    namespace: text("namespace").notNull(),
    id: text("id").notNull(),
    vector: real("vector").array().notNull(),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull(),
  },
  (t) => [primaryKey({ name: "vector_entries_pkey", columns: [t.namespace, t.id] })],
);
