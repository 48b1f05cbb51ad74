import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { ApiError } from "../../../lib/errors.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { embedForCaller } from "../../../services/llm/embed-for-caller.js";
import { sessionOrApiKey } from "../../security.js";
import { openAiErrors } from "./schemas.js";

const EmbeddingRequestSchema = z
  .object({
    model: z.string().min(1).max(200).openapi({
      description:
        "`auto` (the configured EMBEDDING_MODEL) or `provider/model`: `openai/<model>`, `bedrock/amazon.titan-embed-text-v2:0` or `compat/<model>`.",
      example: "auto",
    }),
    input: z
      .union([z.string().min(1).max(100_000), z.array(z.string().min(1).max(100_000)).min(1).max(2_048)])
      .openapi({ description: "A text, or a list of texts.", example: ["car maintenance", "chocolate cake"] }),
    encoding_format: z
      .enum(["float", "base64"])
      .optional()
      .openapi({ description: "Floats (default), or little-endian float32 as base64.", example: "float" }),
    dimensions: z
      .number()
      .int()
      .min(1)
      .optional()
      .openapi({ description: "Not supported: the model's own length is used; sending it answers 400.", example: 256 }),
    user: z.string().max(256).optional().openapi({ description: "Ignored.", example: "u-1" }),
  })
  .openapi("EmbeddingRequest");

const EmbeddingListSchema = z
  .object({
    object: z.literal("list").openapi({ description: "Always `list`.", example: "list" }),
    data: z
      .array(
        z.object({
          object: z.literal("embedding").openapi({ description: "Always `embedding`.", example: "embedding" }),
          index: z.number().int().openapi({ description: "The text's position in `input`.", example: 0 }),
          embedding: z
            .union([z.array(z.number()), z.string()])
            .openapi({ description: "The vector (base64 with `encoding_format: base64`).", example: [0.1, -0.2] }),
        }),
      )
      .openapi({
        description: "One embedding per text.",
        example: [{ object: "embedding", index: 0, embedding: [0.1, -0.2] }],
      }),
    model: z.string().openapi({ description: "The model that answered.", example: "openai/text-embedding-3-small" }),
    usage: z
      .object({
        prompt_tokens: z.number().int().openapi({ description: "Tokens in.", example: 4 }),
        total_tokens: z.number().int().openapi({ description: "The same.", example: 4 }),
      })
      .openapi({ description: "What the provider counted.", example: { prompt_tokens: 4, total_tokens: 4 } }),
  })
  .openapi("EmbeddingList");

export const embeddingsRoute = createRoute({
  method: "post",
  path: "/embeddings",
  tags: ["openai"],
  summary: "Embeddings (OpenAI-compatible)",
  description:
    "OpenAI's embeddings API in front of APE's embedding providers, with the monthly budget and a usage row per call. Takes an API key with the `chat` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("chat"), rateLimit("default")] as const,
  request: { body: { required: true, content: { "application/json": { schema: EmbeddingRequestSchema } } } },
  responses: {
    200: { description: "The embeddings.", content: { "application/json": { schema: EmbeddingListSchema } } },
    ...openAiErrors(400, 401, 402, 403, 413, 415, 429, 502, 503),
  },
});

const base64Of = (vector: number[]) => {
  const bytes = new Uint8Array(new Float32Array(vector).buffer);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
};

export const registerEmbeddings = (app: App) =>
  app.openapi(embeddingsRoute, async (c) => {
    const body = c.req.valid("json");
    if (body.dimensions !== undefined) {
      throw new ApiError(
        "CAPABILITY_UNAVAILABLE",
        "`dimensions` is not supported: each model answers at its own length.",
        {
          extensions: { errors: [{ path: "dimensions", message: "is not supported" }] },
        },
      );
    }
    const texts = typeof body.input === "string" ? [body.input] : body.input;
    const answer = await embedForCaller({ ctx: c.var.ctx, model: body.model, texts, signal: c.req.raw.signal });
    return c.json(
      {
        object: "list" as const,
        data: answer.vectors.map((vector, index) => ({
          object: "embedding" as const,
          index,
          embedding: body.encoding_format === "base64" ? base64Of(vector) : vector,
        })),
        model: answer.model,
        usage: { prompt_tokens: answer.tokens, total_tokens: answer.tokens },
      },
      200,
    );
  });
