import { z } from "@hono/zod-openapi";
import { JobSchema, RowsPageSchema } from "../extraction/schemas.js";
import { SessionSchema } from "../research/schemas.js";

const SESSION_ID = "res_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z";
const JOB_ID = "ext_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z";

/** The URI of a session's report as an MCP resource. */
export const researchUri = (id: string) => `ape://research/${id}`;

/** The URI of a job's rows as an MCP resource. */
export const extractionUri = (id: string) => `ape://extraction/${id}`;

/** How many of a completed job's rows a tool result carries; the rest are in the job's resource. */
export const INLINE_ROWS = 20;

/** A session as `start_research` and `get_research` answer it: the REST session's fields that matter to a reader. */
export const ResearchResultSchema = SessionSchema.pick({
  id: true,
  query: true,
  status: true,
  depth: true,
  progress: true,
  sub_questions: true,
  summary: true,
  report: true,
  sources: true,
  skipped_sources: true,
  citation_check: true,
  usage: true,
  stopped_early: true,
  cached_from: true,
  error: true,
  created_at: true,
  completed_at: true,
}).extend({
  resource_uri: z
    .string()
    .nullable()
    .openapi({
      description: "Once completed, the report as a Markdown resource to read with `resources/read`; null before.",
      example: researchUri(SESSION_ID),
    }),
});

const RowSchema = RowsPageSchema.shape.items.element;

/** A job as `start_extraction` and `get_extraction` answer it: status and progress, then its first rows. */
export const ExtractionResultSchema = JobSchema.pick({
  id: true,
  status: true,
  source_type: true,
  source_url: true,
  document_id: true,
  schema: true,
  progress: true,
  rows_extracted: true,
  rows_valid: true,
  error: true,
  created_at: true,
  completed_at: true,
}).extend({
  rows: z.array(RowSchema).openapi({
    description: `Once completed, the first ${INLINE_ROWS} rows, each with its values, validity, the rules it broke, its provenance (source, page, quote) and confidence per value; empty before.`,
    example: [],
  }),
  more_rows: z.boolean().openapi({
    description: "Whether the job has more rows than `rows` holds: read them all from `resource_uri`.",
    example: false,
  }),
  resource_uri: z
    .string()
    .nullable()
    .openapi({
      description:
        "Once completed, every row as a CSV resource (with `_valid` and `_errors` columns) to read with `resources/read`; null before.",
      example: extractionUri(JOB_ID),
    }),
});
