import { index, integer, jsonb, pgTable, text, varchar } from "drizzle-orm/pg-core";
import { createdAt, idColumn, oneOf, timestamptz } from "./columns.js";
import { users } from "./users.js";

/** What an extraction reads: an uploaded document, one web page, or a crawl from a start page. */
export const extractionSourceTypes = ["document", "web_single", "web_crawl"] as const;

/** One of `extractionSourceTypes`. */
export type ExtractionSourceType = (typeof extractionSourceTypes)[number];

/** Where an extraction job is: queued, running, finished, failed, or stopped by its user. */
export const extractionStatuses = ["pending", "processing", "completed", "failed", "cancelled"] as const;

/** One of `extractionStatuses`. */
export type ExtractionStatus = (typeof extractionStatuses)[number];

/** One column the user wants extracted. */
export type ExtractionColumn = {
  name: string;
  type: string;
  required?: boolean;
  description?: string;
};

/** The shape of the rows an extraction job produces. */
export type ExtractionSchema = {
  columns: ExtractionColumn[];
};

/** Extra checks the extracted rows must pass, as the user gave them. */
export type ExtractionValidationRules = Record<string, unknown>;

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
    createdAt: createdAt(),
    completedAt: timestamptz("completed_at"),
  },
  (t) => [
    index("idx_extraction_jobs_user").on(t.userId, t.createdAt),
    oneOf("extraction_jobs_source_type_check", t.sourceType, extractionSourceTypes),
    oneOf("extraction_jobs_status_check", t.status, extractionStatuses),
  ],
);

/** A row of `extraction_jobs` as read. */
export type ExtractionJob = typeof extractionJobs.$inferSelect;

/** A row of `extraction_jobs` as inserted. */
export type NewExtractionJob = typeof extractionJobs.$inferInsert;
