import { createRoute } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import type { App } from "../../../lib/app.js";
import { ApiError } from "../../../lib/errors.js";
import type { FinishReason, LlmMessage, LlmRequest, ResponseFormat, TokenUsage, ToolCall } from "../../../llm/types.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { completeForCaller, streamForCaller } from "../../../services/llm/call-model.js";
import { sessionOrApiKey } from "../../security.js";
import {
  type ChatCompletionRequest,
  ChatCompletionRequestSchema,
  ChatCompletionSchema,
  openAiErrors,
} from "./schemas.js";

export const chatCompletionsRoute = createRoute({
  method: "post",
  path: "/chat/completions",
  tags: ["openai"],
  summary: "Chat completions (OpenAI-compatible)",
  description: [
    "OpenAI's chat completions API in front of APE's router: point the official `openai` client's `baseURL` at `/api/v1/openai` and use an APE API key (scope `chat`). Calls get APE's fallback across providers, the answer cache (temperature 0), usage accounting and the monthly budget.",
    'With `stream: true` the answer is server-sent `chat.completion.chunk` events ending in `data: [DONE]`; `stream_options.include_usage` adds a last chunk with usage. A failure after the first token arrives as a `data: {"error": …}` event, which the openai client raises.',
    "Tools (`tools`, `tool_choice`, `parallel_tool_calls`, assistant `tool_calls` and `tool` messages), images (`image_url` parts) and `response_format` (`text`, `json_object`, `json_schema` with `strict`) reach every provider in its own form: Bedrock gets `toolConfig`, `toolUse`/`toolResult` and image blocks and its own structured output. Streamed tool calls arrive as `delta.tool_calls` fragments, as OpenAI sends them. The router only tries models that can serve the request; when none can, the answer is 400 `CAPABILITY_UNAVAILABLE` with the field in `param`.",
    "Errors on this path are in OpenAI's shape, `{ error: { message, type, param, code } }`, with APE's stable code in `code`. Headers `x-ape-provider`, `x-ape-model` and `x-ape-cache` say who answered, and `x-ape-overhead-ms` how long APE itself took (the request's time less the time spent waiting on providers; for a stream, up to its first token).",
  ].join("\n\n"),
  security: sessionOrApiKey,
  middleware: [requireAuth("chat"), rateLimit("default")] as const,
  request: { body: { required: true, content: { "application/json": { schema: ChatCompletionRequestSchema } } } },
  responses: {
    200: {
      description: "The completion (JSON), or a stream of chunks (`text/event-stream`) with `stream: true`.",
      content: {
        "application/json": { schema: ChatCompletionSchema },
        "text/event-stream": { schema: { type: "string" } },
      },
    },
    ...openAiErrors(400, 401, 402, 403, 413, 415, 422, 429, 502, 503),
  },
});

const toMessage = (message: ChatCompletionRequest["messages"][number], index: number): LlmMessage => {
  const content = message.content ?? "";
  const text =
    typeof content === "string" ? content : content.map((part) => (part.type === "text" ? part.text : "")).join("\n");
  switch (message.role) {
    case "system":
    case "developer":
      return { role: "system", content: text };
    case "assistant":
      return {
        role: "assistant",
        content: text,
        ...(message.tool_calls?.length
          ? {
              toolCalls: message.tool_calls.map((call) => ({
                id: call.id,
                name: call.function.name,
                arguments: call.function.arguments,
              })),
            }
          : {}),
      };
    case "tool":
      if (!message.tool_call_id) {
        throw new ApiError("VALIDATION_FAILED", `messages[${index}].tool_call_id: is required in a tool message.`, {
          extensions: {
            errors: [{ path: `messages[${index}].tool_call_id`, message: "is required in a tool message" }],
          },
        });
      }
      return { role: "tool", toolCallId: message.tool_call_id, content: text };
    case "user":
      return {
        role: "user",
        content:
          typeof content === "string"
            ? content
            : content.map((part) =>
                part.type === "text"
                  ? { type: "text" as const, text: part.text }
                  : { type: "image" as const, url: part.image_url.url, detail: part.image_url.detail },
              ),
      };
  }
};

const toResponseFormat = (format: ChatCompletionRequest["response_format"]): ResponseFormat | undefined => {
  if (!format) return undefined;
  if (format.type !== "json_schema") return { type: format.type };
  const { name, description, schema, strict } = format.json_schema;
  return {
    type: "json_schema",
    name,
    description,
    schema: schema ?? { type: "object" },
    ...(strict != null ? { strict } : {}),
  };
};

const toRequest = (body: ChatCompletionRequest): LlmRequest => ({
  messages: body.messages.map(toMessage),
  temperature: body.temperature,
  maxTokens: body.max_completion_tokens ?? body.max_tokens,
  stop: typeof body.stop === "string" ? [body.stop] : body.stop,
  tools: body.tools?.map((tool) => ({
    name: tool.function.name,
    description: tool.function.description,
    parameters: tool.function.parameters ?? { type: "object", properties: {} },
    strict: tool.function.strict,
  })),
  toolChoice:
    body.tool_choice === undefined || typeof body.tool_choice === "string"
      ? body.tool_choice
      : { name: body.tool_choice.function.name },
  parallelToolCalls: body.parallel_tool_calls,
  responseFormat: toResponseFormat(body.response_format),
});

const wireToolCalls = (calls: ToolCall[]) =>
  calls.map((call) => ({
    id: call.id,
    type: "function" as const,
    function: { name: call.name, arguments: call.arguments },
  }));

const openAiFinish = (reason: FinishReason) => (reason === "error" ? "stop" : reason);
const openAiUsage = (usage: TokenUsage) => ({
  prompt_tokens: usage.inputTokens,
  completion_tokens: usage.outputTokens,
  total_tokens: usage.inputTokens + usage.outputTokens,
  ...(usage.cachedInputTokens !== undefined
    ? { prompt_tokens_details: { cached_tokens: usage.cachedInputTokens } }
    : {}),
});

export const registerChatCompletions = (app: App) =>
  app.openapi(chatCompletionsRoute, async (c) => {
    const body = c.req.valid("json");
    const ctx = c.var.ctx;
    const call = { service: "openai" as const, model: body.model, request: toRequest(body), signal: c.req.raw.signal };
    const id = `chatcmpl-${ctx.requestId}`;
    const created = Math.floor(Date.now() / 1000);
    if (body.stream !== true) {
      const answer = await completeForCaller({ ctx, call });
      c.header("x-ape-provider", answer.provider);
      c.header("x-ape-model", answer.model);
      c.header("x-ape-cache", answer.cached ? "hit" : "miss");
      return c.json(
        {
          id,
          object: "chat.completion" as const,
          created,
          model: answer.model,
          system_fingerprint: null,
          choices: [
            {
              index: 0,
              message: {
                role: "assistant" as const,
                content: answer.toolCalls?.length && !answer.text ? null : answer.text,
                refusal: null,
                ...(answer.toolCalls?.length ? { tool_calls: wireToolCalls(answer.toolCalls) } : {}),
              },
              logprobs: null,
              finish_reason: openAiFinish(answer.finishReason),
            },
          ],
          usage: openAiUsage(answer.usage),
        },
        200,
      );
    }
    // Opened before the response starts, so a total failure is still an error answer, not a broken stream.
    const stream = await streamForCaller({ ctx, call });
    c.header("x-ape-provider", stream.provider);
    c.header("x-ape-model", stream.model);
    c.header("x-ape-cache", stream.cached ? "hit" : "miss");
    const includeUsage = body.stream_options?.include_usage === true;
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        id,
        object: "chat.completion.chunk",
        created,
        model: stream.model,
        system_fingerprint: null,
        choices,
        ...(includeUsage ? { usage: null } : {}),
        ...extra,
      });
    return streamSSE(c, async (sse) => {
      await sse.writeSSE({
        data: chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]),
      });
      let usage: TokenUsage | null = null;
      for await (const event of stream.events) {
        if (sse.aborted) break;
        if (event.type === "text") {
          await sse.writeSSE({ data: chunk([{ index: 0, delta: { content: event.text }, finish_reason: null }]) });
        } else if (event.type === "tool_call") {
          // OpenAI's own form: the call's id, type and name in its first delta, argument fragments after.
          const call = {
            index: event.index,
            ...(event.id ? { id: event.id, type: "function" } : {}),
            function: { ...(event.name ? { name: event.name } : {}), arguments: event.arguments },
          };
          await sse.writeSSE({ data: chunk([{ index: 0, delta: { tool_calls: [call] }, finish_reason: null }]) });
        } else if (event.type === "usage") {
          usage = event.usage;
        } else if (event.type === "finish") {
          await sse.writeSSE({ data: chunk([{ index: 0, delta: {}, finish_reason: openAiFinish(event.reason) }]) });
        } else {
          await sse.writeSSE({
            data: JSON.stringify({
              error: { message: event.message, type: "api_error", param: null, code: event.code },
            }),
          });
          return;
        }
      }
      if (includeUsage && usage) await sse.writeSSE({ data: chunk([], { usage: openAiUsage(usage) }) });
      await sse.writeSSE({ data: "[DONE]" });
    });
  });
