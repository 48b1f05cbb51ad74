/** The providers APE can route to, in the default priority order. */
export const providerIds = ["groq", "bedrock", "openai", "compat"] as const;
export type ProviderId = (typeof providerIds)[number];

/**
 * One plain text message of a conversation: what most of APE's own calls send. Untrusted content goes in
 * `user` messages, delimited (see prompts.ts). Every ChatMessage is an {@link LlmMessage}.
 */
export type ChatMessage = { role: "system" | "user" | "assistant"; content: string };

/** A part of a user message: text, or an image by `https:` URL or `data:` URL (base64). */
export type ContentPart =
  | { type: "text"; text: string }
  | { type: "image"; url: string; detail?: "auto" | "low" | "high" | undefined };

/** A function call the assistant made: `arguments` is the JSON text the model wrote, as it wrote it. */
export type ToolCall = { id: string; name: string; arguments: string };

/** A function the model may call; `parameters` is a JSON Schema of its arguments. */
export type ToolDefinition = {
  name: string;
  description?: string | undefined;
  parameters: Record<string, unknown>;
  strict?: boolean | undefined;
};

/** `auto` (the model decides), `none`, `required` (some tool), or that one tool. */
export type ToolChoice = "auto" | "none" | "required" | { name: string };

/**
 * What shape the answer takes. `json_schema` asks for an answer that fits `schema`; with `fallback:
 * "json_object"` a model that cannot take a schema is asked for a JSON object with the schema in its system
 * prompt instead (APE's own calls, which validate the answer anyway), otherwise such a model is not a candidate.
 */
export type ResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | {
      type: "json_schema";
      name: string;
      description?: string | undefined;
      schema: Record<string, unknown>;
      strict?: boolean | undefined;
      fallback?: "json_object" | undefined;
    };

/** One message of any kind: system, user (text or parts), assistant (text and/or tool calls), tool result. */
export type LlmMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string | ContentPart[] }
  | { role: "assistant"; content: string; toolCalls?: ToolCall[] | undefined }
  | { role: "tool"; toolCallId: string; content: string };

/** What a caller asks of a model, independent of the provider. */
export type LlmRequest = {
  messages: LlmMessage[];
  temperature?: number | undefined;
  maxTokens?: number | undefined;
  stop?: string[] | undefined;
  tools?: ToolDefinition[] | undefined;
  toolChoice?: ToolChoice | undefined;
  parallelToolCalls?: boolean | undefined;
  responseFormat?: ResponseFormat | undefined;
};

/** Tokens of a call; `cachedInputTokens` are the input tokens the provider served from its prompt cache. */
export type TokenUsage = { inputTokens: number; outputTokens: number; cachedInputTokens?: number | undefined };

export type FinishReason = "stop" | "length" | "content_filter" | "tool_calls" | "error";

/** A finished, non-streamed answer. */
export type LlmResult = {
  text: string;
  toolCalls?: ToolCall[] | undefined;
  finishReason: FinishReason;
  usage: TokenUsage;
};

/**
 * One event of a normalised stream, whatever the provider: text deltas and tool call deltas (a call's `id`
 * and `name` come first, with its `index`; then fragments of its `arguments` under the same index), then usage
 * and the finish reason; `error` only ever comes last, after text was sent (before that the router falls back
 * instead).
 */
export type LlmEvent =
  | { type: "text"; text: string }
  | { type: "tool_call"; index: number; id?: string | undefined; name?: string | undefined; arguments: string }
  | { type: "usage"; usage: TokenUsage }
  | { type: "finish"; reason: FinishReason }
  | { type: "error"; code: string; message: string };

/** A provider's model call, as the router runs it. Failures are thrown as {@link ProviderFailure}. */
export interface LlmProvider {
  readonly id: ProviderId;
  /** Identifies the endpoint (for the circuit breaker's key): two providers at two URLs never share one. */
  readonly endpointKey: string;
  complete(model: string, request: LlmRequest, signal: AbortSignal): Promise<LlmResult>;
  /** Yields text, tool call, usage and finish events; throws on failure (never yields `error`). */
  stream(model: string, request: LlmRequest, signal: AbortSignal): AsyncIterable<LlmEvent>;
}

/** The text of a message, image parts left out: for guardrails, token estimates and logs. */
export const messageText = (message: LlmMessage): string =>
  typeof message.content === "string"
    ? message.content
    : message.content.map((part) => (part.type === "text" ? part.text : "")).join("\n");
