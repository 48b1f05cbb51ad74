/** The providers APE can route to, in the default priority order. */
export const providerIds = ["groq", "bedrock", "openai", "compat"] as const;
export type ProviderId = (typeof providerIds)[number];

/** One message of a conversation. Untrusted content goes in `user` messages, delimited (see prompts.ts). */
export type ChatMessage = { role: "system" | "user" | "assistant"; content: string };

/** What a caller asks of a model, independent of the provider. */
export type LlmRequest = {
  messages: ChatMessage[];
  temperature?: number | undefined;
  maxTokens?: number | undefined;
  /** Ask for a JSON object as the answer (OpenAI `json_object`; a system instruction elsewhere). */
  json?: boolean | undefined;
  stop?: string[] | undefined;
};

export type TokenUsage = { inputTokens: number; outputTokens: number };

export type FinishReason = "stop" | "length" | "content_filter" | "tool_calls" | "error";

/** A finished, non-streamed answer. */
export type LlmResult = { text: string; finishReason: FinishReason; usage: TokenUsage };

/**
 * One event of a normalised stream, whatever the provider: text deltas, then usage and the finish reason;
 * `error` only ever comes last, after text was sent (before that the router falls back instead).
 */
export type LlmEvent =
  | { type: "text"; text: string }
  | { type: "usage"; usage: TokenUsage }
  | { type: "finish"; reason: FinishReason }
  | { type: "error"; code: string; message: string };

/** A provider's model call, as the router runs it. Failures are thrown as {@link ProviderFailure}. */
export interface LlmProvider {
  readonly id: ProviderId;
  /** Identifies the endpoint (for the circuit breaker's key): two providers at two URLs never share one. */
  readonly endpointKey: string;
  complete(model: string, request: LlmRequest, signal: AbortSignal): Promise<LlmResult>;
  /** Yields text, usage and finish events; throws on failure (never yields `error`). */
  stream(model: string, request: LlmRequest, signal: AbortSignal): AsyncIterable<LlmEvent>;
}
