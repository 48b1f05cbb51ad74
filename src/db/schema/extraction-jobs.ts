import { index, integer, jsonb, pgTable, text, uniqueIndex, varchar } from "drizzle-orm/pg-core";
import { checkpointColumn, createdAt, idColumn, leaseColumns, oneOf, timestamptz, updatedAt } from "./columns.js";
import { users } from "./users.js";

/** What an extraction reads: an uploaded document, one web page, or a crawl from a start page. */
export const extractionSourceTypes = ["document", "web_single", "web_crawl"] as const;

/** One of `extractionSourceTypes`. */
export type ExtractionSourceType = (typeof extractionSourceTypes)[number];

/** Where an extraction job is: queued, running, finished, failed, or stopped by its user. */
export const extractionStatuses = ["pending", "running", "completed", "failed", "cancelled"] as const;

/** One of `extractionStatuses`. */
export type ExtractionStatus = (typeof extractionStatuses)[number];

/** The kinds of value a column may hold (the seed's types, plus currency and enum). */
export const columnTypes = [
  "string",
  "number",
  "integer",
  "boolean",
  "date",
  "datetime",
  "url",
  "email",
  "currency",
  "enum",
] as const;

/** One of `columnTypes`. */
export type ColumnType = (typeof columnTypes)[number];

/** One column the user wants extracted. */
export type ExtractionColumn = {
  name: string;
  type: ColumnType;
  required: boolean;
  description?: string;
  values?: string[];
};

/** How far a crawl may go. */
export type CrawlBounds = {
  max_pages: number;
  max_depth: number;
  include_paths?: string[];
  exclude_paths?: string[];
  same_site_only: boolean;
};

/** Where a running job is, for `GET /jobs/{id}`. */
export type ExtractionProgress = {
  stage: "queued" | "fetching" | "extracting" | "validating" | "writing" | "done";
  pages_fetched: number;
  pages_total: number | null;
  rows_so_far: number;
  skipped_pages?: Array<{ url: string; reason: string; status?: number }>;
  truncated?: boolean;
};

/**
 * What one extraction slice hands the next while a crawl is read: the Firecrawl crawl and where its results
 * resume (`next`), how many pages wait in R2 under `pages_prefix` (`{n}.json`, from 0), the pages skipped
 * with their status, whether the crawl is read to its end, and when it was started.
 */
export type ExtractionCheckpoint = {
  crawl_id: string;
  next: string | null;
  pages_prefix: string;
  pages: number;
  skipped: Array<{ url: string; reason: string; status?: number }>;
  done: boolean;
  started_at: string;
};

/** Why a job failed, kept so the owner can read it and retry. */
export type ExtractionFailure = { code: string; message: string; retryable: boolean };

/** The shape of the rows an extraction job produces. */
export type ExtractionSchema = {
  columns: ExtractionColumn[];
};

/** Extra checks the extracted rows must pass, as the user gave them. */
export type ExtractionValidationRules = Record<
  string,
  {
    pattern?: string;
    min?: number | string;
    max?: number | string;
    min_length?: number;
    max_length?: number;
    enum?: Array<string | number>;
    unique?: boolean;
  }
>;

/** The extracted rows, keyed by column name. */
export type ExtractionResultData = Record<string, unknown>[];

/**
 * Structured-data extraction jobs: what to read (`source_type` with `source_url` or `source_file_path`), the
 * rows' shape (`schema_definition`) and rules, and once done the rows (`result_data`) with how many were
 * extracted and how many passed validation, or `error_message` if the job failed.
 */
export const extractionJobs = pgTable(
  "extraction_jobs",
  {
    id: idColumn("ext"),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    sourceType: varchar("source_type", { length: 20, enum: extractionSourceTypes }).notNull(),
    sourceUrl: text("source_url"),
    sourceFilePath: text("source_file_path"),
    schemaDefinition: jsonb("schema_definition").$type<ExtractionSchema>().notNull(),
    validationRules: jsonb("validation_rules").$type<ExtractionValidationRules>(),
    status: varchar("status", { length: 20, enum: extractionStatuses }).notNull().default("pending"),
    resultData: jsonb("result_data").$type<ExtractionResultData>(),
    errorMessage: text("error_message"),
    rowsExtracted: integer("rows_extracted").notNull().default(0),
    rowsValid: integer("rows_valid").notNull().default(0),
    /** A document source's id (`source_file_path` keeps the seed's meaning: its R2 key). */
    sourceDocumentId: text("source_document_id"),
    crawlBounds: jsonb("crawl_bounds").$type<CrawlBounds>(),
    outputFormat: varchar("output_format", { length: 10 }).notNull().default("json"),
    webhookUrl: text("webhook_url"),
    idempotencyKey: varchar("idempotency_key", { length: 255 }),
    progress: jsonb("progress").$type<ExtractionProgress>(),
    error: jsonb("error").$type<ExtractionFailure>(),
    ...leaseColumns(),
    checkpoint: checkpointColumn<ExtractionCheckpoint>(),
    /** The R2 prefix of the committed rows (`…/attempt-{n}/`); rows are never kept in this table. */
    resultKey: text("result_key"),
    resultPages: integer("result_pages"),
    modelCalls: integer("model_calls").notNull().default(0),
    startedAt: timestamptz("started_at"),
    updatedAt: updatedAt(),
    createdAt: createdAt(),
    completedAt: timestamptz("completed_at"),
  },
  (t) => [
    index("idx_extraction_jobs_user").on(t.userId, t.createdAt),
    uniqueIndex("idx_extraction_jobs_idempotency").on(t.userId, t.idempotencyKey),
    oneOf("extraction_jobs_source_type_check", t.sourceType, extractionSourceTypes),
    oneOf("extraction_jobs_status_check", t.status, extractionStatuses),
  ],
);

/** A row of `extraction_jobs` as read. */
export type ExtractionJob = typeof extractionJobs.$inferSelect;

/** A row of `extraction_jobs` as inserted. */
export type NewExtractionJob = typeof extractionJobs.$inferInsert;
