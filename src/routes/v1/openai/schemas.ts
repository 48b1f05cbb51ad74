import { z } from "@hono/zod-openapi";

const TextPartSchema = z
  .object({
    type: z.literal("text").openapi({ description: "A text part.", example: "text" }),
    text: z
      .string()
      .max(400_000)
      .openapi({ description: "The text of this part.", example: "What is in this picture?" }),
  })
  .openapi("OpenAiTextPart");

const ImagePartSchema = z
  .object({
    type: z.literal("image_url").openapi({ description: "An image part.", example: "image_url" }),
    image_url: z
      .object({
        url: z.string().max(20_000_000).openapi({
          description:
            "An `https:` URL or a base64 `data:` URL of the image. Bedrock takes `data:` URLs (PNG, JPEG, GIF, WebP) only.",
          example: "data:image/png;base64,iVBORw0KGgo=",
        }),
        detail: z
          .enum(["auto", "low", "high"])
          .optional()
          .openapi({ description: "How closely the model looks (OpenAI).", example: "auto" }),
      })
      .openapi({ description: "The image.", example: { url: "data:image/png;base64,iVBORw0KGgo=" } }),
  })
  .openapi("OpenAiImagePart");

const ToolCallSchema = z
  .object({
    id: z
      .string()
      .min(1)
      .max(200)
      .openapi({ description: "The call's id, quoted by its tool result.", example: "call_1" }),
    type: z.literal("function").openapi({ description: "Always `function`.", example: "function" }),
    function: z
      .object({
        name: z.string().min(1).max(64).openapi({ description: "The function called.", example: "get_weather" }),
        arguments: z
          .string()
          .max(400_000)
          .openapi({ description: "Its arguments, as the JSON text the model wrote.", example: '{"city":"Oslo"}' }),
      })
      .openapi({ description: "What was called.", example: { name: "get_weather", arguments: '{"city":"Oslo"}' } }),
  })
  .openapi("OpenAiToolCall");

const MessageSchema = z
  .object({
    role: z.enum(["system", "developer", "user", "assistant", "tool"]).openapi({
      description: "Who speaks. `developer` is treated as `system`; `tool` carries a tool's result.",
      example: "user",
    }),
    content: z
      .union([z.string().max(400_000), z.array(z.union([TextPartSchema, ImagePartSchema])).max(100)])
      .nullable()
      .optional()
      .openapi({
        description:
          "The message: a string, or parts (text, and `image_url` in user messages). May be null in an assistant message with tool calls.",
        example: "Say hello.",
      }),
    tool_calls: z
      .array(ToolCallSchema)
      .max(64)
      .optional()
      .openapi({
        description: "The functions an assistant message called.",
        example: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } }],
      }),
    tool_call_id: z
      .string()
      .max(200)
      .optional()
      .openapi({ description: "In a `tool` message: the id of the call this is the result of.", example: "call_1" }),
    name: z
      .string()
      .max(64)
      .optional()
      .openapi({ description: "Ignored; accepted for compatibility.", example: "ada" }),
  })
  .openapi("OpenAiMessage");

const ToolSchema = z
  .object({
    type: z.literal("function").openapi({ description: "Always `function`.", example: "function" }),
    function: z
      .object({
        name: z
          .string()
          .regex(/^[A-Za-z0-9_-]{1,64}$/)
          .openapi({ description: "The function's name.", example: "get_weather" }),
        description: z
          .string()
          .max(4_000)
          .optional()
          .openapi({ description: "What it does, for the model.", example: "The weather in a city." }),
        parameters: z
          .record(z.string(), z.unknown())
          .optional()
          .openapi({
            description: "A JSON Schema of its arguments.",
            example: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
          }),
        strict: z
          .boolean()
          .optional()
          .openapi({ description: "Ask for arguments that fit the schema exactly (OpenAI).", example: false }),
      })
      .openapi({ description: "The function.", example: { name: "get_weather", parameters: { type: "object" } } }),
  })
  .openapi("OpenAiTool");

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
    tools: z
      .array(ToolSchema)
      .max(128)
      .optional()
      .openapi({
        description:
          "Functions the model may call. A model without tool support is never tried; when none of the models the request may use has it, the answer is 400 `CAPABILITY_UNAVAILABLE`.",
        example: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
      }),
    tool_choice: z
      .union([
        z.enum(["auto", "none", "required"]),
        z.object({
          type: z.literal("function").openapi({ description: "Always `function`.", example: "function" }),
          function: z
            .object({
              name: z
                .string()
                .min(1)
                .max(64)
                .openapi({ description: "The tool the model must call.", example: "get_weather" }),
            })
            .openapi({ description: "The tool.", example: { name: "get_weather" } }),
        }),
      ])
      .optional()
      .openapi({
        description: "`auto`, `none`, `required`, or `{type: function, function: {name}}` for that one tool.",
        example: "auto",
      }),
    parallel_tool_calls: z
      .boolean()
      .optional()
      .openapi({ description: "Whether the model may call several tools in one answer.", example: true }),
    response_format: z
      .discriminatedUnion("type", [
        z.object({ type: z.literal("text").openapi({ description: "Plain text.", example: "text" }) }),
        z.object({
          type: z.literal("json_object").openapi({ description: "Any one JSON object.", example: "json_object" }),
        }),
        z.object({
          type: z
            .literal("json_schema")
            .openapi({ description: "A JSON object that fits `json_schema.schema`.", example: "json_schema" }),
          json_schema: z
            .object({
              name: z
                .string()
                .regex(/^[A-Za-z0-9_-]{1,64}$/)
                .openapi({ description: "The schema's name.", example: "answer" }),
              description: z
                .string()
                .max(4_000)
                .optional()
                .openapi({ description: "What the answer is, for the model.", example: "A yes or no." }),
              schema: z
                .record(z.string(), z.unknown())
                .optional()
                .openapi({
                  description: "The JSON Schema the answer must fit.",
                  example: { type: "object", properties: { ok: { type: "boolean" } } },
                }),
              strict: z.boolean().nullable().optional().openapi({
                description: "Hold the answer to the schema exactly (OpenAI's strict mode).",
                example: true,
              }),
            })
            .openapi({
              description: "The schema and its name.",
              example: { name: "answer", schema: { type: "object" }, strict: true },
            }),
        }),
      ])
      .optional()
      .openapi({
        description:
          "The answer's format: `text`, `json_object`, or `json_schema` with `json_schema: {name, schema, strict}` (passed to the provider in its own form; a model that cannot take a schema is never tried).",
        example: {
          type: "json_schema",
          json_schema: { name: "answer", schema: { type: "object", properties: { ok: { type: "boolean" } } } },
        },
      }),
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
    prompt_tokens_details: z
      .object({
        cached_tokens: z
          .number()
          .int()
          .openapi({ description: "Input tokens the provider served from its prompt cache.", example: 0 }),
      })
      .optional()
      .openapi({ description: "Where the provider reports it.", example: { cached_tokens: 0 } }),
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
              content: z
                .string()
                .nullable()
                .openapi({ description: "The answer (null when only tools were called).", example: "Hello!" }),
              refusal: z.null().openapi({ description: "Always null.", example: null }),
              tool_calls: z
                .array(ToolCallSchema)
                .optional()
                .openapi({
                  description: "The functions the model called; `finish_reason` is then `tool_calls`.",
                  example: [
                    { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
                  ],
                }),
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
          capabilities: z
            .array(z.enum(["tools", "vision", "json_schema"]))
            .optional()
            .openapi({
              description: "What the model takes beyond text (models only, not aliases).",
              example: ["tools", "json_schema"],
            }),
          context_window: z
            .number()
            .int()
            .optional()
            .openapi({ description: "Its context window in tokens (models only).", example: 131072 }),
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
