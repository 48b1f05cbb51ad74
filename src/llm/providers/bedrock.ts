import {
  BedrockRuntimeClient,
  type ToolChoice as BedrockToolChoice,
  type TokenUsage as BedrockUsage,
  type ContentBlock,
  ConverseCommand,
  type ConverseCommandInput,
  ConverseStreamCommand,
  type ImageFormat,
  type Message,
  type StopReason,
  type SystemContentBlock,
  type ToolConfiguration,
  type ToolUseBlock,
} from "@aws-sdk/client-bedrock-runtime";
import { FetchHttpHandler } from "@smithy/fetch-http-handler";
import { shortTag } from "../../lib/crypto.js";
import { ApiError } from "../../lib/errors.js";
import { kindOfStatus, ProviderFailure } from "../provider-failure.js";
import type {
  FinishReason,
  LlmEvent,
  LlmMessage,
  LlmProvider,
  LlmRequest,
  LlmResult,
  TokenUsage,
  ToolCall,
  ToolChoice,
} from "../types.js";

// Converse has no JSON object mode; this instruction stands in for OpenAI's `json_object`.
const JSON_INSTRUCTION = "Answer with a single JSON object and nothing else: no prose, no code fences.";

const finishReason = (reason: StopReason | string | undefined): FinishReason => {
  if (reason === "max_tokens") return "length";
  if (reason === "content_filtered" || reason === "guardrail_intervened") return "content_filter";
  if (reason === "tool_use") return "tool_calls";
  return "stop";
};

/** A JSON document as the SDK types one (a tool's input or schema). */
type DocumentType = NonNullable<ToolUseBlock["input"]>;

const IMAGE_FORMATS: Record<string, ImageFormat> = {
  "image/png": "png",
  "image/jpeg": "jpeg",
  "image/jpg": "jpeg",
  "image/gif": "gif",
  "image/webp": "webp",
};
const DATA_URL = /^data:([\w/+.-]+);base64,([A-Za-z0-9+/=\s]+)$/;

/**
 * An image part as a Converse image block. Converse takes an image's bytes (or an S3 location), never a web
 * URL, so an `https:` image is refused rather than fetched behind the caller's back.
 */
const imageBlock = (url: string, field: string): ContentBlock => {
  const match = DATA_URL.exec(url);
  const format = match ? IMAGE_FORMATS[(match[1] ?? "").toLowerCase()] : undefined;
  if (!match || !format) {
    throw new ApiError(
      "CAPABILITY_UNAVAILABLE",
      `Bedrock takes images as base64 \`data:\` URLs of PNG, JPEG, GIF or WebP only; \`${field}\` is not one. Send the image's bytes as a data URL, or choose another provider.`,
      { extensions: { errors: [{ path: field, message: "must be a data: URL of a PNG, JPEG, GIF or WebP image" }] } },
    );
  }
  const binary = atob((match[2] ?? "").replace(/\s/g, ""));
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  return { image: { format, source: { bytes } } };
};

/** A tool call's arguments as the JSON document Converse wants; text that is not a JSON object becomes `{}`. */
const toolInput = (text: string): DocumentType => {
  try {
    const value: unknown = JSON.parse(text || "{}");
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as DocumentType) : {};
  } catch {
    return {};
  }
};

const blocksOf = (message: LlmMessage, index: number): ContentBlock[] => {
  switch (message.role) {
    case "system":
      return [];
    case "user":
      return typeof message.content === "string"
        ? [{ text: message.content }]
        : message.content.map((part, partIndex) =>
            part.type === "text"
              ? { text: part.text }
              : imageBlock(part.url, `messages[${index}].content[${partIndex}].image_url`),
          );
    case "assistant":
      return [
        ...(message.content ? [{ text: message.content }] : []),
        ...(message.toolCalls ?? []).map((call) => ({
          toolUse: { toolUseId: call.id, name: call.name, input: toolInput(call.arguments) },
        })),
      ];
    case "tool":
      return [{ toolResult: { toolUseId: message.toolCallId, content: [{ text: message.content }] } }];
  }
};

const toolChoiceOf = (choice: ToolChoice | undefined): BedrockToolChoice | undefined => {
  if (choice === "required") return { any: {} };
  if (choice === "auto") return { auto: {} };
  if (choice && typeof choice === "object") return { tool: { name: choice.name } };
  return undefined;
};

/**
 * Converse's `toolConfig`. `tool_choice: "none"` has no Converse form: the tools are left out instead, unless
 * the history holds tool blocks (Converse then insists on a tool configuration), when they go without a choice.
 */
const toolConfigOf = (request: LlmRequest, history: Message[]): ToolConfiguration | undefined => {
  if (!request.tools?.length) return undefined;
  const hasToolBlocks = history.some((message) =>
    (message.content ?? []).some((block) => block.toolUse !== undefined || block.toolResult !== undefined),
  );
  if (request.toolChoice === "none" && !hasToolBlocks) return undefined;
  const toolChoice = request.toolChoice === "none" ? undefined : toolChoiceOf(request.toolChoice);
  return {
    tools: request.tools.map((tool) => ({
      toolSpec: {
        name: tool.name,
        ...(tool.description ? { description: tool.description } : {}),
        inputSchema: { json: tool.parameters as DocumentType },
      },
    })),
    ...(toolChoice ? { toolChoice } : {}),
  };
};

/**
 * Converse keeps system prompts apart and wants turns to alternate, starting with the user; tool results are
 * user turns there. A `json_schema` answer goes as Converse's own structured output (`outputConfig.textFormat`),
 * a `json_object` one as a system instruction (Converse has no JSON mode).
 */
const converseInput = (model: string, request: LlmRequest): ConverseCommandInput => {
  const system: SystemContentBlock[] = request.messages
    .filter((message) => message.role === "system")
    .map((message) => ({ text: message.content }));
  const format = request.responseFormat;
  if (format?.type === "json_object") system.push({ text: JSON_INSTRUCTION });
  const messages: Message[] = [];
  for (const [index, message] of request.messages.entries()) {
    if (message.role === "system") continue;
    const role = message.role === "assistant" ? "assistant" : "user";
    const content = blocksOf(message, index);
    const last = messages.at(-1);
    if (last?.role === role) last.content?.push(...content);
    else messages.push({ role, content });
  }
  // Converse wants the user to speak first; history that opens with an answer gets a placeholder question.
  if (messages[0]?.role === "assistant")
    messages.unshift({ role: "user", content: [{ text: "(earlier conversation)" }] });
  const toolConfig = toolConfigOf(request, messages);
  return {
    modelId: model,
    messages,
    ...(system.length > 0 ? { system } : {}),
    ...(toolConfig ? { toolConfig } : {}),
    ...(format?.type === "json_schema"
      ? {
          outputConfig: {
            textFormat: {
              type: "json_schema",
              structure: {
                jsonSchema: {
                  schema: JSON.stringify(format.schema),
                  name: format.name,
                  ...(format.description ? { description: format.description } : {}),
                },
              },
            },
          },
        }
      : {}),
    inferenceConfig: {
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.maxTokens !== undefined ? { maxTokens: request.maxTokens } : {}),
      ...(request.stop?.length ? { stopSequences: request.stop } : {}),
    },
  };
};

const usageOf = (usage: BedrockUsage | undefined): TokenUsage => ({
  inputTokens: usage?.inputTokens ?? 0,
  outputTokens: usage?.outputTokens ?? 0,
  ...(usage?.cacheReadInputTokens !== undefined ? { cachedInputTokens: usage.cacheReadInputTokens } : {}),
});

const STATUS_OF: Record<string, number> = {
  ThrottlingException: 429,
  ServiceQuotaExceededException: 429,
  ModelNotReadyException: 503,
  ServiceUnavailableException: 503,
  InternalServerException: 500,
  ModelStreamErrorException: 500,
  ModelTimeoutException: 408,
  ModelErrorException: 500,
  AccessDeniedException: 403,
  UnrecognizedClientException: 403,
  ValidationException: 400,
  ResourceNotFoundException: 404,
};

const classify = (error: unknown, signal: AbortSignal): ProviderFailure => {
  if (error instanceof ProviderFailure) return error;
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e?.name ?? "Error";
  const message = `${name}: ${e?.message ?? String(error)}`;
  if (signal.aborted || name === "TimeoutError" || name === "AbortError") {
    return new ProviderFailure({ provider: "bedrock", kind: "timeout", message: "no answer in time", cause: error });
  }
  const status = e?.$metadata?.httpStatusCode ?? STATUS_OF[name];
  if (typeof status === "number" && status >= 400) {
    return new ProviderFailure({ provider: "bedrock", kind: kindOfStatus(status), status, message, cause: error });
  }
  return new ProviderFailure({ provider: "bedrock", kind: "network", message, cause: error });
};

/**
 * AWS Bedrock through Converse and ConverseStream. The SDK's own retries are off (the router retries), and its
 * HTTP handler is a FetchHttpHandler made here: inside workerd the default one ignores `requestTimeout` and
 * the abort signal (see test/integration/fake-bedrock.test.ts).
 */
export const createBedrockProvider = (options: {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  endpoint?: string | undefined;
}): LlmProvider => {
  const client = new BedrockRuntimeClient({
    region: options.region,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    maxAttempts: 1,
    requestHandler: new FetchHttpHandler(),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });
  return {
    id: "bedrock",
    endpointKey: shortTag(options.endpoint ?? `bedrock-runtime.${options.region}`),

    async complete(model, request, signal): Promise<LlmResult> {
      try {
        const result = await client.send(new ConverseCommand(converseInput(model, request)), { abortSignal: signal });
        const blocks = result.output?.message?.content ?? [];
        const text = blocks.map((block) => block.text ?? "").join("");
        let toolCalls: ToolCall[] = blocks.flatMap((block) =>
          block.toolUse
            ? [
                {
                  id: block.toolUse.toolUseId ?? "",
                  name: block.toolUse.name ?? "",
                  arguments: JSON.stringify(block.toolUse.input ?? {}),
                },
              ]
            : [],
        );
        // Converse has no switch for parallel calls; `parallel_tool_calls: false` is kept by answering the first.
        if (request.parallelToolCalls === false) toolCalls = toolCalls.slice(0, 1);
        return {
          text,
          ...(toolCalls.length > 0 ? { toolCalls } : {}),
          finishReason: finishReason(result.stopReason),
          usage: usageOf(result.usage),
        };
      } catch (error) {
        if (error instanceof ApiError) throw error;
        throw classify(error, signal);
      }
    },

    async *stream(model, request, signal): AsyncIterable<LlmEvent> {
      let finish: FinishReason | null = null;
      try {
        const result = await client.send(new ConverseStreamCommand(converseInput(model, request)), {
          abortSignal: signal,
        });
        // Content block index → the tool call's index among this answer's calls.
        const calls = new Map<number, number>();
        for await (const event of result.stream ?? []) {
          const started = event.contentBlockStart?.start?.toolUse;
          if (started && event.contentBlockStart) {
            const index = calls.size;
            calls.set(event.contentBlockStart.contentBlockIndex ?? index, index);
            if (request.parallelToolCalls !== false || index === 0) {
              yield { type: "tool_call", index, id: started.toolUseId, name: started.name, arguments: "" };
            }
          }
          const delta = event.contentBlockDelta;
          const text = delta?.delta?.text;
          if (text) yield { type: "text", text };
          const input = delta?.delta?.toolUse?.input;
          if (input !== undefined && delta) {
            const index = calls.get(delta.contentBlockIndex ?? -1);
            if (index !== undefined && (request.parallelToolCalls !== false || index === 0)) {
              yield { type: "tool_call", index, arguments: input };
            }
          }
          if (event.messageStop) finish = finishReason(event.messageStop.stopReason);
          const usage = event.metadata?.usage;
          if (usage) yield { type: "usage", usage: usageOf(usage) };
          const failure =
            event.internalServerException ??
            event.modelStreamErrorException ??
            event.throttlingException ??
            event.validationException ??
            event.serviceUnavailableException;
          if (failure) throw failure;
        }
      } catch (error) {
        if (error instanceof ApiError) throw error;
        throw classify(error, signal);
      }
      if (finish === null) {
        throw new ProviderFailure({
          provider: "bedrock",
          kind: "network",
          message: "the stream ended without finishing",
        });
      }
      yield { type: "finish", reason: finish };
    },
  };
};
