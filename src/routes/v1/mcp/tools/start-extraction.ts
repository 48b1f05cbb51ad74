import { z } from "@hono/zod-openapi";
import { createJob } from "../../../../services/extraction/jobs.js";
import { CreateJobBodySchema } from "../../extraction/schemas.js";
import { ExtractionResultSchema } from "../schemas.js";
import { defineTool, parseArguments } from "../tool.js";
import { extractionResult } from "./extraction-result.js";

const body = CreateJobBodySchema.shape;

const StartExtractionInputSchema = z
  .object({
    source_url: body.source_url.openapi({
      description:
        "A web page to extract from (or, with `crawl`, the start of a crawl). Give this or `document_id`. Private addresses are refused.",
      example: "https://example.com/products",
    }),
    document_id: body.document_id.openapi({
      description: "One of the user's uploaded documents to extract from. Give this or `source_url`.",
      example: "doc_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z",
    }),
    crawl: body.crawl.openapi({
      description: "Crawl from `source_url` within these bounds instead of reading the one page.",
      example: { max_pages: 10, max_depth: 2, same_site_only: true },
    }),
    schema: body.schema,
    validation_rules: body.validation_rules,
  })
  .superRefine((input, issues) => {
    if (Boolean(input.source_url) === Boolean(input.document_id)) {
      issues.addIssue({ code: "custom", path: ["source_url"], message: "give either source_url or document_id" });
    }
    if (input.crawl && !input.source_url) {
      issues.addIssue({ code: "custom", path: ["crawl"], message: "a crawl starts from source_url" });
    }
  });

export const startExtractionTool = defineTool({
  name: "start_extraction",
  title: "Start an extraction",
  description:
    "Starts turning a web page, a crawl or one of the user's documents into rows of a schema (typed columns, optional validation rules). Tables whose headers match are read by code, other text by a model; every row is normalised and validated by code and keeps its provenance (source, page, quote) and a confidence per value. The work runs in APE's queue. Without a progress token this answers at once with the job (`status: pending`); with one it waits a while, sending progress notifications. Once `completed`, the first rows come inline and all of them as CSV from `resource_uri`. Follow it with `get_extraction`. Needs the `extraction` scope.",
  scope: "extraction",
  reads: false,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  input: StartExtractionInputSchema,
  output: ExtractionResultSchema,
  run: async (args, call) => {
    const source_type = args.document_id ? "document" : args.crawl ? "web_crawl" : "web_single";
    const input = parseArguments(CreateJobBodySchema, { ...args, source_type, output_format: "csv" });
    const { job } = await createJob({ ctx: call.ctx, input });
    return extractionResult(job, call);
  },
});
