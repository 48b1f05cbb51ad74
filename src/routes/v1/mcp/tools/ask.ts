import { z } from "@hono/zod-openapi";
import { askDocuments } from "../../../../services/mcp/ask-documents.js";
import { MAX_SEARCH_DOCUMENT_IDS } from "../../documents/schemas.js";
import { defineTool } from "../tool.js";

const DOCUMENT_ID = "doc_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z";

const AskInputSchema = z.object({
  question: z.string().trim().min(1).max(4000).openapi({
    description: "The question, in words (at most 4,000 characters).",
    example: "What fee is due for ending the contract early?",
  }),
  document_ids: z
    .array(z.string())
    .min(1)
    .max(MAX_SEARCH_DOCUMENT_IDS)
    .optional()
    .openapi({
      description: "Answer only from these documents (each must be the user's); omit to use all of them.",
      example: [DOCUMENT_ID],
    }),
  model: z.string().min(1).max(200).default("auto").openapi({
    description:
      "Which model answers: `auto` (every configured provider in priority order, with fallback), `fast`, `quality`, a provider (`groq`, `bedrock`, `openai`, `compat`), `provider/model`, or a model id.",
    example: "auto",
  }),
});

const CitationSchema = z.object({
  n: z.number().int().openapi({ description: "The number the answer cites it by, as `[n]`.", example: 1 }),
  document_id: z.string().openapi({ description: "The document the passage is in.", example: DOCUMENT_ID }),
  filename: z.string().openapi({ description: "That document's name.", example: "contract.pdf" }),
  page: z.number().int().openapi({ description: "The page the passage is on.", example: 4 }),
  char_start: z.number().int().openapi({ description: "Where it starts in the page's text.", example: 1180 }),
  char_end: z.number().int().openapi({ description: "Where it ends in the page's text.", example: 2210 }),
  quote: z.string().openapi({
    description: "The passage, shortened to about 400 characters.",
    example: "Either party may terminate early by paying a fee of two monthly instalments.",
  }),
});

const AskOutputSchema = z.object({
  answer: z.string().openapi({
    description: "The answer, citing passages as `[n]`; every `[n]` left in it names one of `citations`.",
    example: "Ending early costs two monthly instalments [1].",
  }),
  citations: z.array(CitationSchema).openapi({
    description: "The passages the answer cites, checked by code: each was retrieved for this question.",
    example: [],
  }),
  passages_considered: z.number().int().openapi({
    description: "How many passages were retrieved and handed to the model (0: nothing matched, no model was asked).",
    example: 6,
  }),
  model: z
    .object({
      provider: z.string().openapi({ description: "The provider that answered.", example: "groq" }),
      model: z.string().openapi({ description: "The model that answered.", example: "llama-3.3-70b-versatile" }),
      cached: z.boolean().openapi({ description: "Whether the answer came from APE's cache.", example: false }),
    })
    .nullable()
    .openapi({ description: "Who answered; null when no passage matched.", example: null }),
  usage: z
    .object({
      tokens_input: z.number().int().openapi({ description: "Tokens sent to the model.", example: 1800 }),
      tokens_output: z.number().int().openapi({ description: "Tokens the model wrote.", example: 60 }),
      cost_usd: z.number().openapi({ description: "What the call cost, as recorded in usage.", example: 0.0011 }),
    })
    .openapi({
      description: "What the answer cost.",
      example: { tokens_input: 1800, tokens_output: 60, cost_usd: 0.0011 },
    }),
});

export const askTool = defineTool({
  name: "ask",
  title: "Ask my documents",
  description:
    "Answers one question from the user's documents: the best passages are retrieved and given to the model, which must cite them as [n]; every citation is checked by code and comes back with its document, page and quote (an uncheckable one is removed). Billed to the user's budget like any model call. Needs the `chat` scope.",
  scope: "chat",
  reads: false,
  annotations: { readOnlyHint: true, openWorldHint: false },
  input: AskInputSchema,
  output: AskOutputSchema,
  run: async (args, { ctx, signal }) => ({ result: await askDocuments({ ctx, input: args, signal }) }),
});
