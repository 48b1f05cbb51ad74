import { z } from "@hono/zod-openapi";
import { researchDepths, researchSourceKinds, researchStatuses } from "../../../db/schema/index.js";
import { researchExportFormats } from "../../../services/research/export.js";
import { NextCursorSchema, PageQuerySchema } from "../../pagination.js";

const SESSION_ID = "res_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z";
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

const domains = (what: string) =>
  z
    .array(z.string().trim().toLowerCase().regex(DOMAIN, "must be a bare host name such as example.com"))
    .max(20)
    .default([])
    .openapi({ description: what, example: ["who.int"] });

export const BudgetSchema = z
  .object({
    max_tokens: z
      .number()
      .int()
      .min(1)
      .openapi({ description: "Model tokens (in and out) the session may use.", example: 80000 }),
    max_cost_usd: z.number().min(0).openapi({ description: "Model cost in US dollars it may spend.", example: 0.3 }),
    max_seconds: z.number().int().min(1).openapi({ description: "Seconds it may run.", example: 600 }),
  })
  .openapi("ResearchBudget");

const SourceKindSchema = z.enum(researchSourceKinds).openapi({
  description: "Where a session looks: `web`, `documents` or `both`.",
  example: "both",
});

export const CreateSessionBodySchema = z
  .object({
    query: z.string().trim().min(3).max(2000).openapi({
      description: "The research question.",
      example: "How does altitude change the boiling point of water?",
    }),
    depth: z.enum(researchDepths).default("standard").openapi({
      description: "`quick` (2 sub-questions), `standard` (3) or `deep` (5); also sets the default sources and budget.",
      example: "standard",
    }),
    max_sources: z.number().int().min(1).max(50).optional().openapi({
      description: "Sources to read at most (5, 10 or 20 by depth when omitted).",
      example: 10,
    }),
    include_domains: domains("Only sources on these hosts or under them."),
    exclude_domains: domains("Never sources on these hosts or under them."),
    webhook_url: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .optional()
      .openapi({
        description:
          "Receives the session's `research.completed` or `research.failed` event, signed (Standard Webhooks). A URL new to the account becomes one of its webhook endpoints; its secret is in the answer's `webhook.secret`, once.",
        example: "https://hooks.example.com/ape",
      }),
    budget: BudgetSchema.partial()
      .optional()
      .openapi({
        description: "Lower caps than the depth's (a higher one is cut to the depth's).",
        example: { max_tokens: 40000 },
      }),
    fresh: z.boolean().default(false).openapi({
      description: "Run again even if the same question was answered in the last 24 h.",
      example: false,
    }),
    sources: SourceKindSchema.optional().openapi({
      description:
        "Where to look: `web` (the configured search provider, Firecrawl or SearXNG), `documents` (your own ready documents, searched with their hybrid search; needs no search provider) or `both` (one numbered source list of pages and document pages). Default: `web` when a search provider is configured, else `documents`.",
      example: "documents",
    }),
    document_ids: z
      .array(z.string().min(1).max(64))
      .min(1)
      .max(100)
      .optional()
      .openapi({
        description:
          "With `documents` or `both`: only these documents (each must be yours, else 404 `NOT_FOUND`; with `web`, 400). Omitted: all your ready documents.",
        example: ["doc_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z"],
      }),
  })
  .openapi("CreateResearchSession");

export const EstimateBodySchema = z
  .object({
    query: CreateSessionBodySchema.shape.query,
    depth: CreateSessionBodySchema.shape.depth,
    max_sources: CreateSessionBodySchema.shape.max_sources,
    budget: CreateSessionBodySchema.shape.budget,
    sources: CreateSessionBodySchema.shape.sources,
  })
  .openapi("EstimateResearchSession");

export const EstimateSchema = z
  .object({
    depth: z.enum(researchDepths).openapi({ description: "The depth estimated.", example: "standard" }),
    sources: SourceKindSchema.openapi({ description: "Where the session would look.", example: "web" }),
    sub_questions: z.number().int().openapi({ description: "Sub-questions it plans.", example: 3 }),
    max_sources: z.number().int().openapi({ description: "Sources it reads at most.", example: 10 }),
    model_calls: z.number().int().openapi({ description: "Model calls expected (repairs aside).", example: 5 }),
    tokens_input: z.number().int().openapi({ description: "Prompt tokens expected.", example: 9000 }),
    tokens_output: z.number().int().openapi({ description: "Answer tokens expected.", example: 2300 }),
    tokens: z.number().int().openapi({ description: "Both together.", example: 11300 }),
    cost_usd: z.number().openapi({ description: "Expected cost at the first model `auto` picks.", example: 0.0071 }),
    model: z
      .object({
        provider: z.string().openapi({ description: "The provider.", example: "groq" }),
        id: z.string().openapi({ description: "The model.", example: "llama-3.3-70b-versatile" }),
      })
      .nullable()
      .openapi({ description: "The model priced; null when no provider is configured.", example: null }),
    seconds: z.number().int().openapi({ description: "Expected wall time.", example: 44 }),
    searches: z.number().int().openapi({ description: "Web searches expected (none for `documents`).", example: 3 }),
    scrapes: z.number().int().openapi({ description: "Web pages read at most (none for `documents`).", example: 10 }),
    budget: BudgetSchema,
  })
  .openapi("ResearchEstimate");

const SourceSchema = z
  .object({
    n: z.number().int().openapi({ description: "Its citation number in the report.", example: 1 }),
    kind: z.enum(["web", "document"]).openapi({
      description: "`web`: a web page. `document`: one page of one of your documents.",
      example: "document",
    }),
    url: z.string().openapi({
      description: "The web page's URL, or for a document's page `document:{document_id}#page={page}`.",
      example: "document:doc_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z#page=2",
    }),
    title: z.string().openapi({
      description: "The page's title, or for a document `{filename}, page {page}`.",
      example: "contract.pdf, page 2",
    }),
    quote: z.string().openapi({
      description:
        "Words of the page that support the claims citing it (checked by code to occur in it: the web page's text as read, or the document page's stored text, `GET /documents/{id}/text`).",
      example: "Either party may end this agreement with 30 days' notice.",
    }),
    accessed_at: z.string().openapi({ description: "When it was read.", example: "2026-11-25T10:30:00.000Z" }),
    document_id: z
      .string()
      .optional()
      .openapi({ description: "A document source's document.", example: "doc_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z" }),
    filename: z.string().optional().openapi({ description: "A document source's file name.", example: "contract.pdf" }),
    page: z.number().int().optional().openapi({ description: "A document source's page (from 1).", example: 2 }),
  })
  .openapi("ResearchSource");

const UsageSchema = z
  .object({
    model_calls: z.number().int().openapi({ description: "Model calls made.", example: 5 }),
    tokens_input: z.number().int().openapi({ description: "Prompt tokens.", example: 9000 }),
    tokens_output: z.number().int().openapi({ description: "Answer tokens.", example: 2300 }),
    cost_usd: z.number().openapi({ description: "Model cost in US dollars.", example: 0.007 }),
    searches: z.number().int().openapi({ description: "Web searches made.", example: 3 }),
    scrapes: z.number().int().openapi({ description: "Pages requested from Firecrawl.", example: 10 }),
  })
  .openapi("ResearchUsage");

export const ProgressSchema = z
  .object({
    stage: z.enum(["queued", "planning", "searching", "reading", "ranking", "writing", "done"]).openapi({
      description: "What it is doing.",
      example: "reading",
    }),
    sub_questions: z.number().int().openapi({ description: "Sub-questions planned.", example: 3 }),
    sources_found: z.number().int().openapi({ description: "Distinct sources found.", example: 9 }),
    sources_read: z.number().int().openapi({ description: "Sources read.", example: 4 }),
    sources_skipped: z.number().int().openapi({ description: "Sources that could not be read.", example: 1 }),
    sections_written: z.number().int().openapi({ description: "Report sections written.", example: 0 }),
    percent: z.number().int().openapi({ description: "About how far, 0 to 100.", example: 40 }),
    slices: z.number().int().openapi({
      description:
        "Queue messages the session has run in so far: it works in slices of at most `JOB_SLICE_SECONDS` each, checkpointing between them (a retry counts as one too).",
      example: 2,
    }),
  })
  .openapi("ResearchProgress");

export const SessionSchema = z
  .object({
    id: z.string().openapi({ description: "The session's id.", example: SESSION_ID }),
    query: z
      .string()
      .openapi({ description: "The question.", example: "How does altitude change the boiling point of water?" }),
    status: z.enum(researchStatuses).openapi({
      description: "`pending` → `running` → `completed`, `failed` (see `error`) or `cancelled`.",
      example: "running",
    }),
    depth: z.enum(researchDepths).openapi({ description: "How thorough.", example: "standard" }),
    max_sources: z.number().int().openapi({ description: "Sources read at most.", example: 10 }),
    include_domains: z.array(z.string()).openapi({ description: "Hosts sources must be on.", example: [] }),
    exclude_domains: z.array(z.string()).openapi({ description: "Hosts sources must not be on.", example: [] }),
    source_kind: SourceKindSchema.openapi({
      description: "Where it looks (the `sources` it was started with): `web`, `documents` or `both`.",
      example: "web",
    }),
    document_ids: z.array(z.string()).nullable().openapi({
      description: "The documents it may read; null: all your ready documents (or none, for `web`).",
      example: null,
    }),
    webhook_url: z.string().nullable().openapi({ description: "Called when it ends.", example: null }),
    progress: ProgressSchema,
    sub_questions: z.array(z.string()).openapi({
      description: "The plan, once made.",
      example: ["What is the boiling point of water at sea level?"],
    }),
    summary: z.string().nullable().openapi({ description: "The report's summary, once completed.", example: null }),
    report: z.string().nullable().openapi({
      description: "The report in Markdown, citing `sources` as `[n]`, once completed.",
      example: null,
    }),
    sources: z.array(SourceSchema).openapi({ description: "The cited sources, in citation order.", example: [] }),
    skipped_sources: z
      .array(
        z.object({
          url: z.string().openapi({ description: "The source.", example: "https://example.com/gone" }),
          reason: z.string().openapi({ description: "Why it was not read.", example: "HTTP 404" }),
        }),
      )
      .openapi({ description: "Sources found but not read, and why.", example: [] }),
    citation_check: z
      .object({
        citations_kept: z.number().int().openapi({ description: "Citations that passed.", example: 7 }),
        citations_removed: z.number().int().openapi({ description: "Claims flagged or removed.", example: 1 }),
        flagged: z
          .array(
            z.object({
              claim: z.string().openapi({ description: "The sentence.", example: "Water boils at 50 °C." }),
              reason: z.string().openapi({
                description: "Why its citation failed.",
                example: "cites [9], but only passages 1 to 6 were given",
              }),
            }),
          )
          .openapi({ description: "Claims whose citations failed the check (removed from the report).", example: [] }),
      })
      .nullable()
      .openapi({ description: "How the citations fared in the code check, once completed.", example: null }),
    budget: BudgetSchema,
    usage: UsageSchema.nullable().openapi({ description: "What it spent so far.", example: null }),
    stopped_early: z.string().nullable().openapi({
      description: "Why a budget stopped it before it had done everything; null otherwise.",
      example: null,
    }),
    cached_from: z.string().nullable().openapi({
      description: "The earlier session whose report this one reuses (same question within 24 h).",
      example: null,
    }),
    document_id: z.string().nullable().openapi({ description: "The report's document, once attached.", example: null }),
    attempts: z.number().int().openapi({ description: "Runs so far.", example: 1 }),
    error: z
      .object({
        code: z.string().openapi({ description: "A stable code.", example: "ALL_PROVIDERS_FAILED" }),
        message: z.string().openapi({ description: "What went wrong.", example: "Every provider failed." }),
        retryable: z.boolean().openapi({ description: "Whether a retry may succeed.", example: true }),
      })
      .nullable()
      .openapi({ description: "Why it failed (or why its last run did); null otherwise.", example: null }),
    created_at: z.string().openapi({ description: "When it was created.", example: "2026-11-25T10:30:00.000Z" }),
    started_at: z.string().nullable().openapi({ description: "When its run started.", example: null }),
    completed_at: z.string().nullable().openapi({ description: "When it ended.", example: null }),
  })
  .openapi("ResearchSession");

export const SessionParamsSchema = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, description: "The session's id.", example: SESSION_ID }),
});

export const SessionListQuerySchema = PageQuerySchema.extend({
  status: z
    .enum(researchStatuses)
    .optional()
    .openapi({ description: "Only sessions in this status.", example: "completed" }),
});

export const SessionPageSchema = z
  .object({
    items: z.array(SessionSchema).openapi({ description: "Sessions, newest first.", example: [] }),
    next_cursor: NextCursorSchema,
  })
  .openapi("ResearchSessionPage");

export const ExportQuerySchema = z.object({
  format: z.enum(researchExportFormats).default("md").openapi({
    description: "`md` or `docx`: the report; `json`: everything; `csv` or `xlsx`: the sources.",
    example: "docx",
  }),
});

export const EventsHeadersSchema = z.object({
  "last-event-id": z
    .string()
    .regex(/^\d{1,9}$/)
    .optional()
    .openapi({
      param: { name: "last-event-id", in: "header" },
      description: "The `id` of the last event received: the stream resumes after it.",
      example: "12",
    }),
});

export const EVENTS_DESCRIPTION =
  "Server-sent events, each with `id: <n>` (1, 2, …): `queued`, `stage` {stage}, `plan` {sub_questions}, `sources` {found, urls}, `source_read` {url, title}, `source_skipped` {url, reason}, `section` {question, index, citations}, `retrying` {error}, `completed` {sources, stopped_early}, `failed` {error}, `cancelled`; each carries `progress`. A final `done` {status} (without id) ends the stream.";
