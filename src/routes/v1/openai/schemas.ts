import { z } from "@hono/zod-openapi";

const TextPartSchema = z
  .object({
    type: z.literal("text").openapi({ description: "Only text parts are supported.", example: "text" }),
    text: z.string().openapi({ description: "The text of this part.", example: "Summarise this." }),
  })
  .openapi("OpenAiTextPart");

const MessageSchema = z
  .object({
    role: z
      .enum(["system", "developer", "user", "assistant"])
      .openapi({ description: "Who speaks. `developer` is treated as `system`.", example: "user" }),
    content: z
      .union([z.string().max(400_000), z.array(TextPartSchema).max(100)])
      .openapi({ description: "The message: a string, or text parts that are joined.", example: "Say hello." }),
    name: z
      .string()
      .max(64)
      .optional()
      .openapi({ description: "Ignored; accepted for compatibility.", example: "ada" }),
  })
  .openapi("OpenAiMessage");

export const ChatCompletionRequestSchema = z
  .object({
    model: z.string().min(1).max(200).openapi({
      description:
        "`auto` (every configured provider in priority order, with fallback), `fast` or `quality` (a tier), a provider (`groq`, `bedrock`, `openai`, `compat`), `provider/model`, or a model id from GET /openai/models.",
      example: "auto",
    }),
    messages: z
      .array(MessageSchema)
      .min(1)
      .max(500)
      .openapi({
        description: "The conversation so far.",
        example: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Say hello." },
        ],
      }),
    temperature: z.number().min(0).max(2).optional().openapi({
      description: "Sampling temperature. 0 makes the request deterministic, so it may be answered from cache.",
      example: 0.2,
    }),
    max_tokens: z
      .number()
      .int()
      .min(1)
      .max(200_000)
      .optional()
      .openapi({ description: "Most tokens to generate.", example: 512 }),
    max_completion_tokens: z
      .number()
      .int()
      .min(1)
      .max(200_000)
      .optional()
      .openapi({ description: "Same as `max_tokens` (the newer name); wins when both are given.", example: 512 }),
    stop: z
      .union([z.string().max(200), z.array(z.string().max(200)).max(4)])
      .optional()
      .openapi({ description: "Up to 4 sequences where generation stops.", example: ["\n\n"] }),
    stream: z
      .boolean()
      .optional()
      .openapi({ description: "Answer as server-sent events of `chat.completion.chunk`.", example: false }),
    stream_options: z
      .object({
        include_usage: z
          .boolean()
          .optional()
          .openapi({ description: "Send usage in a last chunk with no choices.", example: true }),
      })
      .optional()
      .openapi({ description: "Options for `stream: true`.", example: { include_usage: true } }),
    response_format: z
      .object({
        type: z
          .enum(["text", "json_object", "json_schema"])
          .openapi({ description: "`json_object` or `json_schema` ask for a JSON object.", example: "json_object" }),
      })
      .passthrough()
      .optional()
      .openapi({ description: "The answer's format.", example: { type: "json_object" } }),
    n: z.literal(1).optional().openapi({ description: "Only one choice is supported.", example: 1 }),
    user: z
      .string()
      .max(256)
      .optional()
      .openapi({ description: "Ignored; APE knows the caller from the key.", example: "u-1" }),
  })
  .openapi("ChatCompletionRequest");

export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;

const UsageSchema = z
  .object({
    prompt_tokens: z.number().int().openapi({ description: "Tokens in.", example: 12 }),
    completion_tokens: z.number().int().openapi({ description: "Tokens out.", example: 7 }),
    total_tokens: z.number().int().openapi({ description: "Both.", example: 19 }),
  })
  .openapi("OpenAiUsage");

export const ChatCompletionSchema = z
  .object({
    id: z.string().openapi({ description: "The completion's id (APE's request id).", example: "chatcmpl-req_0a1b2c" }),
    object: z
      .literal("chat.completion")
      .openapi({ description: "Always `chat.completion`.", example: "chat.completion" }),
    created: z.number().int().openapi({ description: "Unix time in seconds.", example: 1764000000 }),
    model: z.string().openapi({ description: "The model that actually answered.", example: "llama-3.3-70b-versatile" }),
    system_fingerprint: z.null().openapi({ description: "Always null.", example: null }),
    choices: z
      .array(
        z.object({
          index: z.number().int().openapi({ description: "Always 0.", example: 0 }),
          message: z
            .object({
              role: z.literal("assistant").openapi({ description: "Always `assistant`.", example: "assistant" }),
              content: z.string().openapi({ description: "The answer.", example: "Hello!" }),
              refusal: z.null().openapi({ description: "Always null.", example: null }),
            })
            .openapi({
              description: "The assistant's message.",
              example: { role: "assistant", content: "Hello!", refusal: null },
            }),
          logprobs: z.null().openapi({ description: "Always null.", example: null }),
          finish_reason: z
            .enum(["stop", "length", "content_filter", "tool_calls"])
            .openapi({ description: "Why generation stopped.", example: "stop" }),
        }),
      )
      .openapi({
        description: "One choice.",
        example: [
          {
            index: 0,
            message: { role: "assistant", content: "Hello!", refusal: null },
            logprobs: null,
            finish_reason: "stop",
          },
        ],
      }),
    usage: UsageSchema,
  })
  .openapi("ChatCompletion");

export const ModelListSchema = z
  .object({
    object: z.literal("list").openapi({ description: "Always `list`.", example: "list" }),
    data: z
      .array(
        z.object({
          id: z.string().openapi({ description: "What to send as `model`.", example: "groq/llama-3.3-70b-versatile" }),
          object: z.literal("model").openapi({ description: "Always `model`.", example: "model" }),
          created: z.number().int().openapi({ description: "Unix time; 0 for APE's aliases.", example: 0 }),
          owned_by: z.string().openapi({ description: "The provider, or `ape` for aliases.", example: "groq" }),
        }),
      )
      .openapi({
        description: "Aliases first (auto, fast, quality, then each provider), then every configured model.",
        example: [
          { id: "auto", object: "model", created: 0, owned_by: "ape" },
          { id: "groq/llama-3.3-70b-versatile", object: "model", created: 0, owned_by: "groq" },
        ],
      }),
  })
  .openapi("OpenAiModelList");

export const OpenAiErrorSchema = z
  .object({
    error: z
      .object({
        message: z.string().openapi({ description: "What went wrong.", example: "More than 600 requests in 60 s." }),
        type: z.string().openapi({ description: "OpenAI's error type.", example: "rate_limit_error" }),
        param: z
          .string()
          .nullable()
          .openapi({ description: "The request field at fault, if any.", example: "messages" }),
        code: z.string().openapi({ description: "APE's stable error code.", example: "RATE_LIMITED" }),
      })
      .openapi({
        description: "What went wrong, as OpenAI's clients expect it.",
        example: {
          message: "More than 600 requests in 60 s.",
          type: "rate_limit_error",
          param: null,
          code: "RATE_LIMITED",
        },
      }),
  })
  .openapi("OpenAiError");

/** Error answers of the front door, in OpenAI's shape. */
export const openAiErrors = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: `An error in OpenAI's shape (status ${status}); \`error.code\` is APE's stable code.`,
        content: { "application/json": { schema: OpenAiErrorSchema } },
      },
    ]),
  );
