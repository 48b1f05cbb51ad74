import { z } from "@hono/zod-openapi";
import { userPatternProblem } from "../../../lib/user-pattern.js";
import { columnTypes } from "../../../services/extraction/values.js";

export const MAX_COLUMNS = 100;
export const MAX_VALIDATE_ROWS = 10_000;
export const MAX_PATTERN_LENGTH = 200;

/** A user's regular expression, refused (400 naming its field) unless RE2 can run it in linear time. */
const UserPatternSchema = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .superRefine((pattern, ctx) => {
      const problem = userPatternProblem(pattern);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    });

export const ColumnSchema = z
  .object({
    name: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .openapi({ description: "The column's name, as rows and exports key it.", example: "price" }),
    type: z.enum(columnTypes).openapi({
      description:
        "What the column holds. Values are normalised by code: `date` to ISO 8601 (`2024-03-05`), `datetime` to ISO 8601 UTC, `number`/`integer`/`currency` parsed from written forms (`$1,299.00` → 1299), `url` (http/https) and `email` checked, `enum` matched to `values`.",
      example: "currency",
    }),
    required: z
      .boolean()
      .default(false)
      .openapi({ description: "Whether a row without it is invalid.", example: true }),
    description: z.string().max(500).optional().openapi({
      description: "What the column means, for the model that extracts it.",
      example: "The listed price including VAT.",
    }),
    values: z
      .array(z.string().min(1).max(200))
      .min(1)
      .max(200)
      .optional()
      .openapi({
        description: "For `enum`: the values it allows (matched ignoring case).",
        example: ["in stock", "sold out"],
      }),
  })
  .refine((column) => column.type !== "enum" || column.values, {
    message: "an enum column needs `values`",
    path: ["values"],
  })
  .openapi("ExtractionColumn");

export const ExtractionSchemaSchema = z
  .object({
    columns: z
      .array(ColumnSchema)
      .min(1)
      .max(MAX_COLUMNS)
      .refine(
        (columns) => new Set(columns.map((column) => column.name)).size === columns.length,
        "column names must be unique",
      )
      .openapi({
        description: `The columns of each row, 1 to ${MAX_COLUMNS}.`,
        example: [
          { name: "product", type: "string", required: true },
          { name: "price", type: "currency", required: true },
        ],
      }),
  })
  .openapi("ExtractionSchema");

export const ColumnRulesSchema = z
  .object({
    pattern: UserPatternSchema(MAX_PATTERN_LENGTH).optional().openapi({
      description:
        "A regular expression the value must match somewhere (anchor it with `^…$` for the whole value), in RE2 syntax: matching takes linear time, so backreferences and lookarounds are refused with 400.",
      example: "^[A-Z]{3}-\\d+$",
    }),
    min: z
      .union([z.number(), z.string().max(100)])
      .optional()
      .openapi({
        description: "The least value: a number, or an ISO date for date columns.",
        example: 0,
      }),
    max: z
      .union([z.number(), z.string().max(100)])
      .optional()
      .openapi({
        description: "The greatest value: a number, or an ISO date for date columns.",
        example: 10000,
      }),
    min_length: z.number().int().min(0).optional().openapi({ description: "The fewest characters.", example: 1 }),
    max_length: z.number().int().min(1).optional().openapi({ description: "The most characters.", example: 200 }),
    enum: z
      .array(z.union([z.string(), z.number()]))
      .min(1)
      .max(500)
      .optional()
      .openapi({ description: "The only values allowed.", example: ["EUR", "USD"] }),
    unique: z.boolean().optional().openapi({ description: "No two rows may share the value.", example: true }),
  })
  .openapi("ColumnRules");

export const ValidationRulesSchema = z
  .record(z.string(), ColumnRulesSchema)
  .default({})
  .openapi({
    description: "Rules per column name; every name must be a column of the schema.",
    example: { price: { min: 0 }, sku: { pattern: "^[A-Z]{3}-\\d+$", unique: true } },
  });

export const RowErrorSchema = z
  .object({
    row: z.number().int().openapi({ description: "The row's index, from 0.", example: 3 }),
    column: z.string().openapi({ description: "The column.", example: "price" }),
    rule: z
      .enum(["type", "required", "pattern", "min", "max", "min_length", "max_length", "enum", "unique"])
      .openapi({ description: "The rule it broke: its type, `required`, or a validation rule.", example: "min" }),
    message: z.string().openapi({ description: "Why, for people.", example: "price is below 0" }),
  })
  .openapi("RowError");

export const ValidateBodySchema = z
  .object({
    rows: z
      .array(z.record(z.string(), z.unknown()))
      .max(MAX_VALIDATE_ROWS)
      .openapi({
        description: `Rows to check, as objects keyed by column name (at most ${MAX_VALIDATE_ROWS}).`,
        example: [
          { product: "Torque wrench", price: "$84.00" },
          { product: "", price: "-3" },
        ],
      }),
    schema: ExtractionSchemaSchema,
    validation_rules: ValidationRulesSchema,
  })
  .superRefine((body, issues) => {
    const names = new Set(body.schema.columns.map((column) => column.name));
    for (const name of Object.keys(body.validation_rules)) {
      if (!names.has(name)) {
        issues.addIssue({ code: "custom", path: ["validation_rules", name], message: `no column is named ${name}` });
      }
    }
  })
  .openapi("ValidateRequest");

export const ValidateResultSchema = z
  .object({
    rows_total: z.number().int().openapi({ description: "Rows checked.", example: 2 }),
    rows_valid: z.number().int().openapi({ description: "Rows that passed every rule.", example: 1 }),
    rows_invalid: z.number().int().openapi({ description: "Rows that broke at least one.", example: 1 }),
    rows: z
      .array(
        z.object({
          values: z.record(z.string(), z.unknown()).openapi({
            description: "The row's values, normalised (a value that is not of its type is kept as given).",
            example: { product: "Torque wrench", price: 84 },
          }),
          valid: z.boolean().openapi({ description: "Whether it passed every rule.", example: true }),
        }),
      )
      .openapi({
        description: "Each row, in order.",
        example: [{ values: { product: "Torque wrench", price: 84 }, valid: true }],
      }),
    errors: z.array(RowErrorSchema).openapi({
      description: "Every broken rule, by row and column.",
      example: [{ row: 1, column: "product", rule: "required", message: "product is required" }],
    }),
  })
  .openapi("ValidateResult");

const JOB_ID = "ext_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z";

export const CrawlBoundsSchema = z
  .object({
    max_pages: z
      .number()
      .int()
      .min(1)
      .max(500)
      .default(10)
      .openapi({ description: "Pages to read at most.", example: 10 }),
    max_depth: z.number().int().min(0).max(10).default(2).openapi({
      description: "Links to follow from the start page at most (0: the start page alone).",
      example: 2,
    }),
    include_paths: z
      .array(UserPatternSchema(200))
      .max(50)
      .optional()
      .openapi({
        description:
          "Only paths matching one of these (regular expressions on the URL path, RE2 syntax: no backreferences or lookarounds).",
        example: ["^/products/"],
      }),
    exclude_paths: z
      .array(UserPatternSchema(200))
      .max(50)
      .optional()
      .openapi({
        description: "Never paths matching one of these (RE2 syntax, as `include_paths`).",
        example: ["^/products/archive/"],
      }),
    same_site_only: z.boolean().default(true).openapi({ description: "Stay on the start page's site.", example: true }),
  })
  .openapi("CrawlBounds");

export const CreateJobBodySchema = z
  .object({
    source_type: z.enum(["document", "web_single", "web_crawl"]).openapi({
      description: "What to read: an uploaded document, one web page, or a crawl from a start page.",
      example: "web_single",
    }),
    source_url: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional()
      .openapi({
        description: "For web sources: the page (or the crawl's start). Checked now: private addresses are refused.",
        example: "https://example.com/jobs",
      }),
    document_id: z.string().optional().openapi({
      description: "For `document`: one of your documents (upload it with `POST /documents` first).",
      example: "doc_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z",
    }),
    crawl: CrawlBoundsSchema.optional(),
    schema: ExtractionSchemaSchema,
    validation_rules: ValidationRulesSchema,
    output_format: z.enum(["csv", "json", "ndjson", "xlsx"]).default("json").openapi({
      description: "The export's default format.",
      example: "csv",
    }),
    webhook_url: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional()
      .openapi({
        description:
          "Receives the job's `extraction.completed` or `extraction.failed` event, signed (Standard Webhooks). A URL new to the account becomes one of its webhook endpoints; its secret is in the answer's `webhook.secret`, once.",
        example: "https://hooks.example.com/ape",
      }),
  })
  .superRefine((body, issues) => {
    if (body.source_type === "document" && !body.document_id) {
      issues.addIssue({ code: "custom", path: ["document_id"], message: "is required for a document source" });
    }
    if (body.source_type !== "document" && !body.source_url) {
      issues.addIssue({ code: "custom", path: ["source_url"], message: "is required for a web source" });
    }
    const names = new Set(body.schema.columns.map((column) => column.name));
    for (const name of Object.keys(body.validation_rules)) {
      if (!names.has(name)) {
        issues.addIssue({ code: "custom", path: ["validation_rules", name], message: `no column is named ${name}` });
      }
    }
  })
  .openapi("CreateExtractionJob");

export const IdempotencyHeaderSchema = z.object({
  "idempotency-key": z
    .string()
    .min(1)
    .max(255)
    .optional()
    .openapi({
      param: { name: "idempotency-key", in: "header" },
      description:
        "A key of your choosing: a repeat with the same key answers the first job instead of starting another.",
      example: "import-2024-06-01",
    }),
});

export const JobSchema = z
  .object({
    id: z.string().openapi({ description: "The job's id.", example: JOB_ID }),
    job_id: z.string().openapi({ description: "The same id, as the seed names it.", example: JOB_ID }),
    status: z.enum(["pending", "running", "completed", "failed", "cancelled"]).openapi({
      description: "`pending` → `running` → `completed`, `failed` (see `error`) or `cancelled`.",
      example: "running",
    }),
    source_type: z
      .enum(["document", "web_single", "web_crawl"])
      .openapi({ description: "What it reads.", example: "web_single" }),
    source_url: z
      .string()
      .nullable()
      .openapi({ description: "A web source's URL.", example: "https://example.com/jobs" }),
    document_id: z.string().nullable().openapi({ description: "A document source's id.", example: null }),
    crawl: CrawlBoundsSchema.nullable().openapi({ description: "A crawl's bounds.", example: null }),
    schema: ExtractionSchemaSchema,
    validation_rules: z.record(z.string(), ColumnRulesSchema).openapi({
      description: "Rules per column.",
      example: { price: { min: 0 } },
    }),
    output_format: z.string().openapi({ description: "The export's default format.", example: "csv" }),
    webhook_url: z.string().nullable().openapi({ description: "Called when it ends.", example: null }),
    progress: z
      .object({
        stage: z.enum(["queued", "fetching", "extracting", "validating", "writing", "done"]).openapi({
          description: "What it is doing.",
          example: "extracting",
        }),
        pages_fetched: z.number().int().openapi({ description: "Pages read so far.", example: 3 }),
        pages_total: z.number().int().nullable().openapi({ description: "Pages expected, when known.", example: 5 }),
        rows_so_far: z.number().int().openapi({ description: "Rows found so far.", example: 120 }),
        slices: z.number().int().openapi({
          description:
            "Queue messages the job has run in so far: it works in slices of at most `JOB_SLICE_SECONDS` each, checkpointing between them (a retry counts as one too).",
          example: 2,
        }),
        skipped_pages: z
          .array(
            z.object({
              url: z.string().openapi({ description: "The page.", example: "https://example.com/private" }),
              reason: z.string().openapi({ description: "Why it was skipped.", example: "HTTP 404" }),
              status: z
                .number()
                .int()
                .optional()
                .openapi({ description: "The HTTP status the page answered, when it answered one.", example: 404 }),
            }),
          )
          .optional()
          .openapi({ description: "Pages that could not be read, and why.", example: [] }),
        truncated: z.boolean().optional().openapi({
          description: "Whether a crawl stopped at `max_pages` with pages left unread.",
          example: false,
        }),
      })
      .openapi({
        description: "How far it is.",
        example: { stage: "extracting", pages_fetched: 3, pages_total: 5, rows_so_far: 120, slices: 2 },
      }),
    rows_extracted: z.number().int().openapi({ description: "Rows found.", example: 500 }),
    rows_valid: z.number().int().openapi({ description: "Rows that passed every rule.", example: 497 }),
    model_calls: z
      .number()
      .int()
      .openapi({ description: "Model calls it made (0 for tables read by code).", example: 0 }),
    attempts: z.number().int().openapi({ description: "Runs so far.", example: 1 }),
    error: z
      .object({
        code: z.string().openapi({ description: "A stable code.", example: "MODEL_OUTPUT_INVALID" }),
        message: z.string().openapi({ description: "What went wrong.", example: "The model's answer was not JSON." }),
        retryable: z.boolean().openapi({ description: "Whether a retry may succeed.", example: true }),
      })
      .nullable()
      .openapi({ description: "Why it failed; null otherwise.", example: null }),
    error_message: z
      .string()
      .nullable()
      .openapi({ description: "The error's message, as the seed names it.", example: null }),
    estimated_completion: z.string().nullable().openapi({
      description: "When a pending or running job should end (a guess).",
      example: "2026-11-25T10:31:00.000Z",
    }),
    created_at: z.string().openapi({ description: "When it was created.", example: "2026-11-25T10:30:00.000Z" }),
    started_at: z.string().nullable().openapi({ description: "When its last run started.", example: null }),
    completed_at: z.string().nullable().openapi({ description: "When it ended.", example: null }),
  })
  .openapi("ExtractionJob");

export const JobParamsSchema = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, description: "The job's id.", example: JOB_ID }),
});

export const JobListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ description: "Items per page.", example: 20 }),
  cursor: z
    .string()
    .max(64)
    .optional()
    .openapi({ description: "`next_cursor` of the previous page.", example: JOB_ID }),
  status: z.enum(["pending", "running", "completed", "failed", "cancelled"]).optional().openapi({
    description: "Only jobs in this status.",
    example: "completed",
  }),
  source_type: z.enum(["document", "web_single", "web_crawl"]).optional().openapi({
    description: "Only jobs of this source type.",
    example: "web_crawl",
  }),
});

export const JobPageSchema = z
  .object({
    items: z.array(JobSchema).openapi({ description: "Jobs, newest first.", example: [] }),
    next_cursor: z.string().nullable().openapi({ description: "For the next page; null on the last.", example: null }),
  })
  .openapi("ExtractionJobPage");

export const RowsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100).openapi({ description: "Rows per page.", example: 100 }),
  cursor: z
    .string()
    .regex(/^\d+$/)
    .optional()
    .openapi({ description: "`next_cursor` of the previous page.", example: "100" }),
  valid: z
    .enum(["true", "false"])
    .optional()
    .openapi({ description: "Only valid (`true`) or invalid (`false`) rows.", example: "false" }),
});

export const RowsPageSchema = z
  .object({
    items: z
      .array(
        z.object({
          row: z.number().int().openapi({ description: "The row's index.", example: 0 }),
          values: z
            .record(z.string(), z.unknown())
            .openapi({ description: "Its values, normalised.", example: { price: 84 } }),
          valid: z.boolean().openapi({ description: "Whether it passed every rule.", example: true }),
          errors: z.array(RowErrorSchema).openapi({ description: "The rules it broke.", example: [] }),
          provenance: z
            .object({
              source: z
                .string()
                .openapi({ description: "The URL or document id it came from.", example: "https://example.com/jobs" }),
              page: z
                .number()
                .int()
                .nullable()
                .openapi({ description: "The document page, for documents.", example: null }),
              quote: z
                .string()
                .nullable()
                .openapi({ description: "The text it was read from.", example: "Torque wrench | 2 | 84.00" }),
              quote_verified: z.boolean().optional().openapi({
                description: "For model rows: whether the quote was found in the source text by code.",
                example: true,
              }),
            })
            .openapi({
              description: "Where it came from.",
              example: { source: "https://example.com/jobs", page: null, quote: "Torque wrench | 2 | 84.00" },
            }),
          confidence: z.record(z.string(), z.number()).openapi({
            description:
              "Per column, 0 to 1: 1 when the value was read by code from a table or occurs as written in the source.",
            example: { price: 1 },
          }),
        }),
      )
      .openapi({ description: "Rows in order.", example: [] }),
    next_cursor: z.string().nullable().openapi({ description: "For the next page; null on the last.", example: "100" }),
    rows_extracted: z.number().int().openapi({ description: "Rows in all.", example: 500 }),
    rows_valid: z.number().int().openapi({ description: "Valid rows in all.", example: 497 }),
  })
  .openapi("ExtractionRowsPage");

export const ExportQuerySchema = z.object({
  format: z.enum(["csv", "json", "ndjson", "xlsx"]).optional().openapi({
    description: "The file's format; the job's `output_format` when omitted.",
    example: "csv",
  }),
  include_validity: z
    .enum(["true", "false"])
    .default("false")
    .transform((value) => value === "true")
    .openapi({ description: "Add `_valid` and `_errors` columns.", example: "false" }),
});

export const DetectBodySchema = z
  .object({
    url: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional()
      .openapi({
        description: "A page to look at (fetched through the same checks as jobs).",
        example: "https://example.com/products",
      }),
    document_id: z
      .string()
      .optional()
      .openapi({ description: "One of your ready documents.", example: "doc_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z" }),
    text: z.string().min(1).max(200_000).optional().openapi({
      description: "Pasted text or CSV.",
      example: "product,price\nWrench,$84.00\nSocket set,$39.90",
    }),
  })
  .refine(
    (body) => [body.url, body.document_id, body.text].filter(Boolean).length === 1,
    "give exactly one of url, document_id or text",
  )
  .openapi("SchemaDetectRequest");

export const DetectResultSchema = z
  .object({
    detected_content_type: z.string().openapi({ description: "What the source looks like.", example: "tabular" }),
    confidence: z.number().openapi({
      description:
        "0 to 1. For tables: the mean share of each column's values that agree with its type; for the model's suggestion: the share of its sample rows that pass its own schema.",
      example: 0.92,
    }),
    suggested_schema: ExtractionSchemaSchema,
    sample_data: z.array(z.record(z.string(), z.unknown())).openapi({
      description: "A few rows read with the suggested schema, normalised.",
      example: [{ product: "Wrench", price: 84 }],
    }),
    method: z
      .enum(["code", "model"])
      .openapi({ description: "Whether code typed a table or the fast model suggested it.", example: "code" }),
  })
  .openapi("SchemaDetectResult");
