import Groq from "groq-sdk";
import OpenAI from "openai";
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParams,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions";
import { shortTag } from "../../lib/crypto.js";
import { type FailureKind, kindOfStatus, ProviderFailure, parseRetryAfter } from "../provider-failure.js";
import type {
  FinishReason,
  LlmEvent,
  LlmMessage,
  LlmProvider,
  LlmRequest,
  LlmResult,
  ProviderId,
  ResponseFormat,
  TokenUsage,
} from "../types.js";

/** The one call both SDKs share (groq-sdk is generated from the same OpenAI-style spec). */
type ChatClient = {
  chat: {
    completions: {
      create(body: ChatCompletionCreateParams, options: { signal: AbortSignal }): Promise<unknown>;
    };
  };
};

const finishReason = (reason: string | null | undefined): FinishReason =>
  reason === "length" || reason === "content_filter" || reason === "tool_calls" ? reason : "stop";

/** A message in OpenAI's own form: image parts as `image_url`, tool calls and tool results as OpenAI has them. */
const wireMessage = (message: LlmMessage): ChatCompletionMessageParam => {
  switch (message.role) {
    case "system":
      return { role: "system", content: message.content };
    case "user":
      return {
        role: "user",
        content:
          typeof message.content === "string"
            ? message.content
            : message.content.map((part) =>
                part.type === "text"
                  ? { type: "text" as const, text: part.text }
                  : {
                      type: "image_url" as const,
                      image_url: { url: part.url, ...(part.detail ? { detail: part.detail } : {}) },
                    },
              ),
      };
    case "assistant":
      return message.toolCalls?.length
        ? {
            role: "assistant",
            content: message.content || null,
            tool_calls: message.toolCalls.map((call) => ({
              id: call.id,
              type: "function" as const,
              function: { name: call.name, arguments: call.arguments },
            })),
          }
        : { role: "assistant", content: message.content };
    case "tool":
      return { role: "tool", tool_call_id: message.toolCallId, content: message.content };
  }
};

const wireFormat = (format: ResponseFormat) =>
  format.type === "json_schema"
    ? {
        type: "json_schema" as const,
        json_schema: {
          name: format.name,
          schema: format.schema,
          ...(format.description ? { description: format.description } : {}),
          ...(format.strict !== undefined ? { strict: format.strict } : {}),
        },
      }
    : { type: format.type };

const body = (model: string, request: LlmRequest, stream: boolean): ChatCompletionCreateParams => ({
  model,
  messages: request.messages.map(wireMessage),
  ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
  ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
  ...(request.stop?.length ? { stop: request.stop } : {}),
  ...(request.tools?.length
    ? {
        tools: request.tools.map((tool) => ({
          type: "function" as const,
          function: {
            name: tool.name,
            parameters: tool.parameters,
            ...(tool.description ? { description: tool.description } : {}),
            ...(tool.strict !== undefined ? { strict: tool.strict } : {}),
          },
        })),
      }
    : {}),
  ...(request.toolChoice !== undefined
    ? {
        tool_choice:
          typeof request.toolChoice === "string"
            ? request.toolChoice
            : { type: "function" as const, function: { name: request.toolChoice.name } },
      }
    : {}),
  ...(request.parallelToolCalls !== undefined ? { parallel_tool_calls: request.parallelToolCalls } : {}),
  ...(request.responseFormat ? { response_format: wireFormat(request.responseFormat) } : {}),
  ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
});

/** Usage as the chat completions API reports it (Groq puts a stream's under `x_groq`). */
type WireUsage = {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
};

const usageOf = (usage: WireUsage): TokenUsage => ({
  inputTokens: usage.prompt_tokens ?? 0,
  outputTokens: usage.completion_tokens ?? 0,
  ...(usage.prompt_tokens_details?.cached_tokens !== undefined
    ? { cachedInputTokens: usage.prompt_tokens_details.cached_tokens }
    : {}),
});

const headerValue = (headers: unknown, name: string): string | null => {
  if (headers instanceof Headers) return headers.get(name);
  if (headers && typeof headers === "object") {
    const value = (headers as Record<string, unknown>)[name];
    return typeof value === "string" ? value : null;
  }
  return null;
};

const stringOrNull = (value: unknown) => (typeof value === "string" && value ? value : null);

/** Turns whatever the SDK threw into a {@link ProviderFailure}; an abort by the caller stays an abort. */
const classify = (provider: ProviderId, error: unknown, signal: AbortSignal): ProviderFailure => {
  if (error instanceof ProviderFailure) return error;
  const e = error as {
    status?: unknown;
    headers?: unknown;
    name?: string;
    message?: string;
    param?: unknown;
    error?: { param?: unknown } | null;
  };
  const name = e?.name ?? "";
  const message = e?.message ?? String(error);
  if (signal.aborted || /Timeout/i.test(name)) {
    return new ProviderFailure({ provider, kind: "timeout", message: "no answer in time", cause: error });
  }
  if (typeof e?.status === "number") {
    return new ProviderFailure({
      provider,
      kind: kindOfStatus(e.status),
      status: e.status,
      retryAfterMs: parseRetryAfter(headerValue(e.headers, "retry-after")),
      // openai's errors carry the field the server named; groq-sdk's keep the error body as it came.
      param: stringOrNull(e.param) ?? stringOrNull(e.error?.param),
      message,
      cause: error,
    });
  }
  const kind: FailureKind = error instanceof SyntaxError || /JSON/i.test(message) ? "malformed" : "network";
  return new ProviderFailure({ provider, kind, message, cause: error });
};

/**
 * A provider speaking the OpenAI chat completions API: OpenAI itself, Groq, or any compatible server
 * (Ollama, vLLM, LM Studio), through the official SDKs with their own retries off (the router retries).
 */
export const createOpenAiCompatibleProvider = (options: {
  id: ProviderId;
  client: ChatClient;
  endpointKey: string;
}): LlmProvider => {
  const { id, client } = options;
  return {
    id,
    endpointKey: options.endpointKey,

    async complete(model, request, signal): Promise<LlmResult> {
      let completion: ChatCompletion;
      try {
        completion = (await client.chat.completions.create(body(model, request, false), { signal })) as ChatCompletion;
      } catch (error) {
        throw classify(id, error, signal);
      }
      const choice = completion.choices?.[0];
      if (!choice) throw new ProviderFailure({ provider: id, kind: "malformed", message: "the answer had no choices" });
      const toolCalls = (choice.message?.tool_calls ?? []).flatMap((call) =>
        call.type === "function" ? [{ id: call.id, name: call.function.name, arguments: call.function.arguments }] : [],
      );
      return {
        text: choice.message?.content ?? "",
        ...(toolCalls.length > 0 ? { toolCalls } : {}),
        finishReason: finishReason(choice.finish_reason),
        usage: usageOf(completion.usage ?? {}),
      };
    },

    async *stream(model, request, signal): AsyncIterable<LlmEvent> {
      let chunks: AsyncIterable<ChatCompletionChunk>;
      try {
        chunks = (await client.chat.completions.create(body(model, request, true), {
          signal,
        })) as AsyncIterable<ChatCompletionChunk>;
      } catch (error) {
        throw classify(id, error, signal);
      }
      let finish: FinishReason | null = null;
      try {
        for await (const chunk of chunks) {
          const choice = chunk.choices?.[0];
          const text = choice?.delta?.content;
          if (text) yield { type: "text", text };
          for (const call of choice?.delta?.tool_calls ?? []) {
            yield {
              type: "tool_call",
              index: call.index,
              ...(call.id ? { id: call.id } : {}),
              ...(call.function?.name ? { name: call.function.name } : {}),
              arguments: call.function?.arguments ?? "",
            };
          }
          if (choice?.finish_reason) finish = finishReason(choice.finish_reason);
          const usage = chunk.usage ?? (chunk as { x_groq?: { usage?: WireUsage } }).x_groq?.usage;
          if (usage) yield { type: "usage", usage: usageOf(usage) };
        }
      } catch (error) {
        throw classify(id, error, signal);
      }
      if (finish === null) {
        throw new ProviderFailure({ provider: id, kind: "network", message: "the stream ended without finishing" });
      }
      yield { type: "finish", reason: finish };
    },
  };
};

export const createOpenAiProvider = (options: { apiKey: string; baseURL?: string | undefined }) => {
  const baseURL = options.baseURL ?? "https://api.openai.com/v1";
  return createOpenAiCompatibleProvider({
    id: "openai",
    client: new OpenAI({ apiKey: options.apiKey, baseURL, maxRetries: 0 }) as unknown as ChatClient,
    endpointKey: shortTag(baseURL),
  });
};

export const createCompatProvider = (options: { baseURL: string; apiKey?: string | undefined }) =>
  createOpenAiCompatibleProvider({
    id: "compat",
    // Local servers (Ollama, vLLM) usually take no key; the SDK insists on one, and ignores nothing.
    client: new OpenAI({
      apiKey: options.apiKey ?? "not-needed",
      baseURL: options.baseURL,
      maxRetries: 0,
    }) as unknown as ChatClient,
    endpointKey: shortTag(options.baseURL),
  });

export const createGroqProvider = (options: { apiKey: string; baseURL?: string | undefined }) => {
  const baseURL = options.baseURL ?? "https://api.groq.com";
  return createOpenAiCompatibleProvider({
    id: "groq",
    client: new Groq({ apiKey: options.apiKey, baseURL, maxRetries: 0 }) as unknown as ChatClient,
    endpointKey: shortTag(baseURL),
  });
};
