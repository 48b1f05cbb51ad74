import { createRoute } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import type { App } from "../../../lib/app.js";
import type { ChatMessage, FinishReason, LlmRequest, TokenUsage } from "../../../llm/types.js";
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
    "Errors on this path are in OpenAI's shape, `{ error: { message, type, param, code } }`, with APE's stable code in `code`. Headers `x-ape-provider`, `x-ape-model` and `x-ape-cache` say who answered.",
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

const toRequest = (body: ChatCompletionRequest): LlmRequest => ({
  messages: body.messages.map(
    (message): ChatMessage => ({
      role: message.role === "developer" ? "system" : message.role,
      content:
        typeof message.content === "string" ? message.content : message.content.map((part) => part.text).join("\n"),
    }),
  ),
  temperature: body.temperature,
  maxTokens: body.max_completion_tokens ?? body.max_tokens,
  stop: typeof body.stop === "string" ? [body.stop] : body.stop,
  json: body.response_format?.type === "json_object" || body.response_format?.type === "json_schema",
});

const openAiFinish = (reason: FinishReason) => (reason === "error" ? "stop" : reason);
const openAiUsage = (usage: TokenUsage) => ({
  prompt_tokens: usage.inputTokens,
  completion_tokens: usage.outputTokens,
  total_tokens: usage.inputTokens + usage.outputTokens,
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
              message: { role: "assistant" as const, content: answer.text, refusal: null },
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
