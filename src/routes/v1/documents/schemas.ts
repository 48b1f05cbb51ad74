import { z } from "@hono/zod-openapi";
import { documentKinds, documentStatuses } from "../../../db/schema/documents.js";
import { NextCursorSchema, PageQuerySchema } from "../../pagination.js";

export const DOCUMENT_ID = "doc_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z";
export const MAX_QUERY_LENGTH = 2_000;
export const MAX_SEARCH_DOCUMENT_IDS = 100;

export const DocumentSchema = z
  .object({
    id: z.string().openapi({ description: "The document's id.", example: DOCUMENT_ID }),
    filename: z
      .string()
      .openapi({ description: "The name it was uploaded with (path removed).", example: "q3-report.pdf" }),
    kind: z.enum(documentKinds).openapi({
      description: "What the file is, decided by its bytes, not its name.",
      example: "pdf",
    }),
    media_type: z.string().openapi({ description: "Its media type, as detected.", example: "application/pdf" }),
    size_bytes: z.number().int().openapi({ description: "Its size in bytes.", example: 482113 }),
    sha256: z.string().openapi({
      description: "SHA-256 of its bytes, hex.",
      example: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    }),
    status: z.enum(documentStatuses).openapi({
      description:
        "`pending` (queued), `processing` (being read), `ready` (searchable), `failed` (see `error`; retry with `POST /documents/{id}/retry`).",
      example: "ready",
    }),
    pages: z.number().int().nullable().openapi({
      description: "Pages read (a spreadsheet's sheets count as pages); null until ready.",
      example: 12,
    }),
    characters: z.number().int().nullable().openapi({ description: "Characters of text extracted.", example: 38211 }),
    chunks: z.number().int().nullable().openapi({ description: "Passages the text was split into.", example: 41 }),
    ocr_pages: z.number().int().nullable().openapi({
      description: "Pages whose text came from OCR (scans and images).",
      example: 2,
    }),
    embedding_model: z.string().nullable().openapi({
      description: "The embedding model its passages were embedded with; null when search is full-text only.",
      example: "openai/text-embedding-3-small",
    }),
    attempts: z.number().int().openapi({ description: "Ingestion runs so far.", example: 1 }),
    error: z
      .object({
        code: z.string().openapi({ description: "A stable code for the failure.", example: "CORRUPT_DOCUMENT" }),
        message: z.string().openapi({
          description: "What went wrong, for people.",
          example: "The PDF could not be parsed: it is damaged or not a PDF.",
        }),
        retryable: z.boolean().openapi({
          description: "Whether a retry may succeed as the file is (a busy service), or the file itself is at fault.",
          example: false,
        }),
      })
      .nullable()
      .openapi({
        description: "Why ingestion failed (or why the last run will be retried); null otherwise.",
        example: null,
      }),
    created_at: z.string().openapi({ description: "When it was uploaded.", example: "2026-11-25T10:30:00.000Z" }),
    updated_at: z.string().openapi({ description: "When it last changed.", example: "2026-11-25T10:30:04.000Z" }),
    ready_at: z
      .string()
      .nullable()
      .openapi({ description: "When it became searchable.", example: "2026-11-25T10:30:04.000Z" }),
  })
  .openapi("Document");

export const DocumentParamsSchema = z.object({
  // No format rule here: a malformed id answers 404 like an unknown one, not 400.
  id: z
    .string()
    .openapi({ param: { name: "id", in: "path" }, description: "The document's id.", example: DOCUMENT_ID }),
});

export const DocumentListQuerySchema = z.object({
  ...PageQuerySchema.shape,
  cursor: z.string().max(64).optional().openapi({
    description: "`next_cursor` of the previous page; omit for the first.",
    example: DOCUMENT_ID,
  }),
  status: z
    .enum(documentStatuses)
    .optional()
    .openapi({ description: "Only documents in this status.", example: "ready" }),
  kind: z.enum(documentKinds).optional().openapi({ description: "Only documents of this kind.", example: "pdf" }),
});

export const DocumentPageSchema = z
  .object({
    items: z.array(DocumentSchema).openapi({ description: "Documents, newest first.", example: [] }),
    next_cursor: NextCursorSchema,
  })
  .openapi("DocumentPage");

export const UploadQuerySchema = z.object({
  filename: z.string().max(255).optional().openapi({
    description: "The file's name, for a raw upload (the body is the file); a multipart upload names its part.",
    example: "q3-report.pdf",
  }),
});

export const UploadFormSchema = z
  .object({
    file: z
      .custom<File>((value) => value instanceof File, "must be a file")
      .openapi({
        type: "string",
        format: "binary",
        description: "The file.",
        example: "(the file's bytes)",
      }),
    filename: z.string().max(255).optional().openapi({
      description: "A name to use instead of the part's own file name.",
      example: "q3-report.pdf",
    }),
  })
  .openapi("DocumentUpload");

export const DocumentTextQuerySchema = z.object({
  from_page: z.coerce
    .number()
    .int()
    .min(1)
    .default(1)
    .openapi({ description: "The first page to return.", example: 1 }),
  limit: z.coerce.number().int().min(1).max(500).default(50).openapi({ description: "Pages per answer.", example: 50 }),
});

export const DocumentTextSchema = z
  .object({
    document_id: z.string().openapi({ description: "The document's id.", example: DOCUMENT_ID }),
    pages: z
      .array(
        z.object({
          page: z.number().int().openapi({ description: "The page number, from 1.", example: 1 }),
          label: z.string().nullable().openapi({ description: "A spreadsheet page's sheet name.", example: "Q3" }),
          ocr: z.boolean().openapi({ description: "Whether the text came from OCR.", example: false }),
          text: z.string().openapi({
            description: "The page's text (tables as Markdown tables).",
            example: "# Q3 report\n\nRevenue rose 12%.",
          }),
        }),
      )
      .openapi({
        description: "Pages in order.",
        example: [{ page: 1, label: null, ocr: false, text: "# Q3 report\n\nRevenue rose 12%." }],
      }),
    total_pages: z.number().int().openapi({ description: "Pages the document has.", example: 12 }),
    next_page: z.number().int().nullable().openapi({
      description: "Pass as `from_page` for the next pages; null after the last.",
      example: null,
    }),
  })
  .openapi("DocumentText");

export const SearchBodySchema = z
  .object({
    query: z.string().trim().min(1).max(MAX_QUERY_LENGTH).openapi({
      description: "What to look for, in words.",
      example: "termination fee for early cancellation",
    }),
    k: z.number().int().min(1).max(50).default(5).openapi({ description: "How many passages to return.", example: 5 }),
    document_ids: z
      .array(z.string())
      .max(MAX_SEARCH_DOCUMENT_IDS)
      .optional()
      .openapi({
        description: "Search only these documents (each must be yours, else 404); omit for all of them.",
        example: [DOCUMENT_ID],
      }),
    mode: z.enum(["auto", "text"]).default("auto").openapi({
      description:
        "`auto`: hybrid (full-text and vectors) when an embedding model is configured, else full-text; `text`: full-text only, with no model call.",
      example: "auto",
    }),
  })
  .openapi("DocumentSearch");

export const SearchResultSchema = z
  .object({
    results: z
      .array(
        z.object({
          chunk_id: z.string().openapi({ description: "The passage's id.", example: `${DOCUMENT_ID}#3` }),
          document_id: z.string().openapi({ description: "The document it is in.", example: DOCUMENT_ID }),
          filename: z.string().openapi({ description: "That document's name.", example: "contract.pdf" }),
          page: z.number().int().openapi({ description: "The page it is on.", example: 4 }),
          char_start: z.number().int().openapi({ description: "Where it starts in the page's text.", example: 1180 }),
          char_end: z.number().int().openapi({ description: "Where it ends in the page's text.", example: 2210 }),
          heading: z
            .string()
            .nullable()
            .openapi({ description: "The heading it falls under.", example: "## 9. Termination" }),
          quote: z.string().openapi({
            description: "The passage, shortened to about 400 characters.",
            example: "Either party may terminate early by paying a fee of two monthly instalments…",
          }),
          content: z.string().openapi({
            description: "The whole passage.",
            example: "Either party may terminate early by paying a fee of two monthly instalments.",
          }),
          score: z.number().openapi({
            description: "Reciprocal-rank-fusion score; higher is better; comparable within one answer only.",
            example: 0.032522,
          }),
          matched_by: z.array(z.enum(["text", "vector"])).openapi({
            description: "Which retrievers found it: full-text, vector, or both.",
            example: ["text", "vector"],
          }),
        }),
      )
      .openapi({
        description: "Passages, best first.",
        example: [
          {
            chunk_id: `${DOCUMENT_ID}#3`,
            document_id: DOCUMENT_ID,
            filename: "contract.pdf",
            page: 4,
            char_start: 1180,
            char_end: 2210,
            heading: "## 9. Termination",
            quote: "Either party may terminate early by paying a fee of two monthly instalments.",
            content: "Either party may terminate early by paying a fee of two monthly instalments.",
            score: 0.032522,
            matched_by: ["text", "vector"],
          },
        ],
      }),
    mode: z.enum(["text", "hybrid"]).openapi({
      description: "`hybrid` when an embedding model is configured (full-text and vectors fused), else `text`.",
      example: "hybrid",
    }),
  })
  .openapi("DocumentSearchResult");
