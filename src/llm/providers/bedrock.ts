import {
  BedrockRuntimeClient,
  ConverseCommand,
  type ConverseCommandInput,
  ConverseStreamCommand,
  type Message,
  type StopReason,
  type SystemContentBlock,
} from "@aws-sdk/client-bedrock-runtime";
import { FetchHttpHandler } from "@smithy/fetch-http-handler";
import { shortTag } from "../../lib/crypto.js";
import { kindOfStatus, ProviderFailure } from "../provider-failure.js";
import type { FinishReason, LlmEvent, LlmProvider, LlmRequest, LlmResult } from "../types.js";

// Converse has no JSON mode; this instruction stands in for OpenAI's `response_format`.
const JSON_INSTRUCTION = "Answer with a single JSON object and nothing else: no prose, no code fences.";

const finishReason = (reason: StopReason | string | undefined): FinishReason => {
  if (reason === "max_tokens") return "length";
  if (reason === "content_filtered" || reason === "guardrail_intervened") return "content_filter";
  if (reason === "tool_use") return "tool_calls";
  return "stop";
};

/** Converse keeps system prompts apart and wants turns to alternate, starting with the user. */
const converseInput = (model: string, request: LlmRequest): ConverseCommandInput => {
  const system: SystemContentBlock[] = request.messages
    .filter((message) => message.role === "system")
    .map((message) => ({ text: message.content }));
  if (request.json) system.push({ text: JSON_INSTRUCTION });
  const messages: Message[] = [];
  for (const message of request.messages) {
    if (message.role === "system") continue;
    const last = messages.at(-1);
    if (last?.role === message.role) last.content?.push({ text: message.content });
    else messages.push({ role: message.role, content: [{ text: message.content }] });
  }
  // Converse wants the user to speak first; history that opens with an answer gets a placeholder question.
  if (messages[0]?.role === "assistant")
    messages.unshift({ role: "user", content: [{ text: "(earlier conversation)" }] });
  return {
    modelId: model,
    messages,
    ...(system.length > 0 ? { system } : {}),
    inferenceConfig: {
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.maxTokens !== undefined ? { maxTokens: request.maxTokens } : {}),
      ...(request.stop?.length ? { stopSequences: request.stop } : {}),
    },
  };
};

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
        const text = (result.output?.message?.content ?? []).map((block) => block.text ?? "").join("");
        return {
          text,
          finishReason: finishReason(result.stopReason),
          usage: { inputTokens: result.usage?.inputTokens ?? 0, outputTokens: result.usage?.outputTokens ?? 0 },
        };
      } catch (error) {
        throw classify(error, signal);
      }
    },

    async *stream(model, request, signal): AsyncIterable<LlmEvent> {
      let finish: FinishReason | null = null;
      try {
        const result = await client.send(new ConverseStreamCommand(converseInput(model, request)), {
          abortSignal: signal,
        });
        for await (const event of result.stream ?? []) {
          const text = event.contentBlockDelta?.delta?.text;
          if (text) yield { type: "text", text };
          if (event.messageStop) finish = finishReason(event.messageStop.stopReason);
          const usage = event.metadata?.usage;
          if (usage) {
            yield {
              type: "usage",
              usage: { inputTokens: usage.inputTokens ?? 0, outputTokens: usage.outputTokens ?? 0 },
            };
          }
          const failure =
            event.internalServerException ??
            event.modelStreamErrorException ??
            event.throttlingException ??
            event.validationException ??
            event.serviceUnavailableException;
          if (failure) throw failure;
        }
      } catch (error) {
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
