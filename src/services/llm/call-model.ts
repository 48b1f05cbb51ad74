import type { UsageService } from "../../db/schema/usage-records.js";
import { ApiError } from "../../lib/errors.js";
import { createBreaker } from "../../llm/breaker.js";
import { costOf, estimateTokens, type ModelEntry } from "../../llm/models.js";
import { configuredProviders } from "../../llm/providers/index.js";
import {
  capableCandidates,
  type RouteOptions,
  resolveCandidates,
  routeComplete,
  routeStream,
} from "../../llm/router.js";
import {
  type FinishReason,
  type LlmEvent,
  type LlmRequest,
  messageText,
  type ProviderId,
  type TokenUsage,
  type ToolCall,
} from "../../llm/types.js";
import type { ServiceContext } from "../context.js";
import { assertWithinBudget } from "../usage/budget.js";
import { recordUsage } from "../usage/record-usage.js";
import { answerCacheKey, type CachedAnswer, isCacheable, readCachedAnswer, storeAnswer } from "./answer-cache.js";
import { upstreamClock } from "./upstream-clock.js";

/** A model call on behalf of the caller. */
export type ModelCall = {
  service: UsageService;
  /** `auto`, `fast`, `quality`, a provider id, `provider/model`, or a model id. */
  model: string;
  request: LlmRequest;
  /** Answer from cache when an identical request was answered in the last hour (temperature 0 implies it; false refuses it). */
  cacheable?: boolean | undefined;
  /** Aborts the call when the client goes away. */
  signal?: AbortSignal | undefined;
  /** The system messages are APE's own prompts, not the caller's: the input guardrail skips them. */
  apeSystemPrompts?: boolean | undefined;
};

/** A finished answer and how it was made. */
export type ModelAnswer = {
  text: string;
  /** The functions the model called (only when the request offered tools). */
  toolCalls?: ToolCall[] | undefined;
  finishReason: FinishReason;
  usage: TokenUsage;
  provider: ProviderId;
  model: string;
  cached: boolean;
  costUsd: number;
};

/** A streamed answer: who answers, and the events (text, usage, finish or error). */
export type ModelStream = {
  provider: ProviderId;
  model: string;
  cached: boolean;
  events: AsyncIterable<LlmEvent>;
  /** What tokens of this stream cost in US dollars (0 from cache), from the model table. */
  costOf: (usage: TokenUsage) => number;
};

const callerId = (ctx: ServiceContext) => {
  if (!ctx.caller) throw new ApiError("UNAUTHENTICATED");
  return ctx.caller.userId;
};

const routeOptions = (ctx: ServiceContext, signal: AbortSignal | undefined): RouteOptions => ({
  set: configuredProviders(ctx.env),
  breaker: createBreaker(ctx.redis, {
    failures: ctx.env.LLM_BREAKER_FAILURES,
    windowMs: ctx.env.LLM_BREAKER_WINDOW_SECONDS * 1000,
    cooldownMs: ctx.env.LLM_BREAKER_COOLDOWN_SECONDS * 1000,
  }),
  settings: {
    attemptTimeoutMs: ctx.env.LLM_ATTEMPT_TIMEOUT_MS,
    deadlineMs: ctx.env.LLM_DEADLINE_MS,
    maxAttempts: ctx.env.LLM_MAX_ATTEMPTS,
  },
  log: ctx.log,
  defer: ctx.defer,
  signal,
  upstream: upstreamClock(ctx),
});

/** Applies the configured guardrail (if any); a guardrail that cannot be reached fails the call (503). */
const guard = async (
  ctx: ServiceContext,
  source: "INPUT" | "OUTPUT",
  texts: string[],
  signal: AbortSignal | undefined,
) => {
  const { guardrail } = configuredProviders(ctx.env);
  if (!guardrail) return { blocked: false as const };
  try {
    return await guardrail.check(source, texts, signal);
  } catch (error) {
    throw new ApiError("GUARDRAIL_UNAVAILABLE", "The guardrail could not check this call; try again shortly.", {
      cause: error,
    });
  }
};

/**
 * What an input guardrail checks: every message, unless the call says its system messages are APE's own
 * prompts (code tools, summaries, titles); a caller's system prompt (front door, chat) is checked like the rest.
 */
const inputTexts = (request: LlmRequest, apeSystemPrompts: boolean) =>
  request.messages.filter((message) => !(apeSystemPrompts && message.role === "system")).map(messageText);

/** What an output guardrail checks: the answer's text and its tool calls' arguments. */
const outputTexts = (text: string, toolCalls: ToolCall[] | undefined) => [
  text,
  ...(toolCalls ?? []).filter(Boolean).map((toolCall) => toolCall.arguments),
];

/** Everything before a call: which models, within budget, and the cache's answer if any. */
const prepare = async (ctx: ServiceContext, call: ModelCall) => {
  const userId = callerId(ctx);
  ctx.genericAudit = false;
  const options = routeOptions(ctx, call.signal);
  const candidates = capableCandidates(resolveCandidates(options.set, call.model), call.request);
  const cacheKey =
    ctx.env.LLM_CACHE_TTL_SECONDS > 0 && isCacheable(call.request, call.cacheable)
      ? await answerCacheKey(userId, call.model, call.request)
      : null;
  // Budget, cache and circuit states are read together: concurrent commands share one Redis round trip.
  options.circuits = options.breaker.read(candidates.map((candidate) => candidate.provider));
  options.circuits.catch(() => {}); // awaited by the router; a cache hit never reads it
  const [, cached, verdict] = await Promise.all([
    assertWithinBudget({ ctx, userId }),
    cacheKey ? readCachedAnswer(ctx, cacheKey) : null,
    guard(ctx, "INPUT", inputTexts(call.request, call.apeSystemPrompts === true), call.signal),
  ]);
  if (verdict.blocked) {
    throw new ApiError("CONTENT_BLOCKED", `The guardrail blocked this request: ${verdict.message}`);
  }
  return { userId, options, candidates, cacheKey, cached };
};

const account = (
  ctx: ServiceContext,
  details: {
    userId: string;
    service: UsageService;
    provider: ProviderId;
    model: ModelEntry | string;
    usage: TokenUsage;
    cached: boolean;
    latencyMs: number;
    ttftMs: number | null;
  },
) => {
  const model = typeof details.model === "string" ? null : details.model;
  const costUsd = details.cached || !model ? 0 : costOf(model, details.usage);
  const work = recordUsage({
    ctx,
    event: {
      userId: details.userId,
      service: details.service,
      provider: details.provider,
      model: model?.id ?? (details.model as string),
      tokensInput: details.usage.inputTokens,
      tokensOutput: details.usage.outputTokens,
      tokensInputCached: details.usage.cachedInputTokens ?? 0,
      costUsd,
      latencyMs: details.latencyMs,
      ttftMs: details.ttftMs,
      cached: details.cached,
      requestId: ctx.requestId,
    },
  });
  return { costUsd, work };
};

/** Records a call answered from cache: the original tokens, at no cost, marked as a hit. */
const accountCacheHit = (
  ctx: ServiceContext,
  hit: { userId: string; call: ModelCall; cached: CachedAnswer; started: number; ttftMs: number | null },
) => {
  const { work } = account(ctx, {
    userId: hit.userId,
    service: hit.call.service,
    provider: hit.cached.provider,
    model: hit.cached.model,
    usage: hit.cached.usage,
    cached: true,
    latencyMs: Date.now() - hit.started,
    ttftMs: hit.ttftMs,
  });
  ctx.defer(work);
};

/**
 * Asks a model and waits for the whole answer: budget check, cache, routing with fallback, and a usage row
 * written after the response.
 * @example
 * const answer = await completeForCaller({ ctx, call: { service: "code", model: "auto", request } });
 */
export const completeForCaller = async ({
  ctx,
  call,
}: {
  ctx: ServiceContext;
  call: ModelCall;
}): Promise<ModelAnswer> => {
  const started = Date.now();
  const { userId, options, candidates, cacheKey, cached } = await prepare(ctx, call);
  if (cached) {
    accountCacheHit(ctx, { userId, call, cached, started, ttftMs: null });
    return { ...cached, cached: true, costUsd: 0 };
  }
  const routedResult = await routeComplete(candidates, call.request, options);
  const { routed } = routedResult;
  let { result } = routedResult;
  // Tool calls' arguments are output too: a blocked answer loses them with its text.
  const output = await guard(ctx, "OUTPUT", outputTexts(result.text, result.toolCalls), call.signal);
  // Blocked output is replaced by the guardrail's message, as Bedrock itself answers, and never cached.
  if (output.blocked) {
    result = { text: output.message, finishReason: "content_filter", usage: result.usage };
  }
  const latencyMs = Date.now() - started;
  const { costUsd, work } = account(ctx, {
    userId,
    service: call.service,
    provider: routed.provider,
    model: routed.model,
    usage: result.usage,
    cached: false,
    latencyMs,
    ttftMs: latencyMs,
  });
  ctx.defer(work);
  if (cacheKey && !output.blocked && result.finishReason !== "error") {
    ctx.defer(storeAnswer(ctx, cacheKey, { ...result, provider: routed.provider, model: routed.model.id }));
  }
  return { ...result, provider: routed.provider, model: routed.model.id, cached: false, costUsd };
};

/**
 * Asks a model for a stream. Resolves once a provider has sent its first token (or the cache answered), so a
 * total failure is still a 502 problem; later failures arrive as an `error` event. Usage is written when the
 * stream ends, however it ends (finished, failed, or the client left).
 */
export const streamForCaller = async ({
  ctx,
  call,
}: {
  ctx: ServiceContext;
  call: ModelCall;
}): Promise<ModelStream> => {
  const started = Date.now();
  const { userId, options, candidates, cacheKey, cached } = await prepare(ctx, call);
  if (cached) {
    accountCacheHit(ctx, { userId, call, cached, started, ttftMs: 0 });
    const replay = async function* (): AsyncIterable<LlmEvent> {
      if (cached.text) yield { type: "text", text: cached.text };
      for (const [index, toolCall] of (cached.toolCalls ?? []).entries()) {
        yield { type: "tool_call", index, id: toolCall.id, name: toolCall.name, arguments: toolCall.arguments };
      }
      yield { type: "usage", usage: cached.usage };
      yield { type: "finish", reason: cached.finishReason };
    };
    return { provider: cached.provider, model: cached.model, cached: true, events: replay(), costOf: () => 0 };
  }
  const { routed, events } = await routeStream(candidates, call.request, options);
  const ttftMs = Date.now() - started;
  // Registered now, settled when the stream ends: the request's after-response work waits for it.
  let settle: () => void = () => {};
  ctx.defer(new Promise<void>((resolve) => (settle = resolve)));
  const relay = async function* (): AsyncIterable<LlmEvent> {
    let text = "";
    const toolCalls: ToolCall[] = [];
    let usage: TokenUsage | null = null;
    let finish: FinishReason | null = null;
    let blocked = false;
    try {
      for await (const event of events) {
        if (event.type === "text") text += event.text;
        else if (event.type === "tool_call") {
          const toolCall = toolCalls[event.index] ?? { id: "", name: "", arguments: "" };
          toolCalls[event.index] = toolCall;
          if (event.id) toolCall.id = event.id;
          if (event.name) toolCall.name = event.name;
          toolCall.arguments += event.arguments;
        } else if (event.type === "usage") usage = event.usage;
        else if (event.type === "error") finish = "error";
        if (event.type === "finish") {
          // A stream's output can only be checked once it is whole: a block ends it with an error event.
          const output = await guard(ctx, "OUTPUT", outputTexts(text, toolCalls), call.signal).catch(() => ({
            blocked: true as const,
            message: "The guardrail could not check the answer.",
          }));
          if (output.blocked) {
            blocked = true;
            finish = "error";
            yield { type: "error", code: "CONTENT_BLOCKED", message: output.message };
            break;
          }
          finish = event.reason;
        }
        yield event;
      }
    } finally {
      const spent = usage ?? {
        inputTokens: estimateTokens(call.request.messages.map(messageText).join("\n")),
        outputTokens: estimateTokens(text),
      };
      const { work } = account(ctx, {
        userId,
        service: call.service,
        provider: routed.provider,
        model: routed.model,
        usage: spent,
        cached: false,
        latencyMs: Date.now() - started,
        ttftMs,
      });
      const tasks: Promise<unknown>[] = [work];
      if (cacheKey && !blocked && finish !== null && finish !== "error") {
        tasks.push(
          storeAnswer(ctx, cacheKey, {
            text,
            ...(toolCalls.length > 0 ? { toolCalls: toolCalls.filter(Boolean) } : {}),
            finishReason: finish,
            usage: spent,
            provider: routed.provider,
            model: routed.model.id,
          }),
        );
      }
      Promise.allSettled(tasks).then(settle);
    }
  };
  return {
    provider: routed.provider,
    model: routed.model.id,
    cached: false,
    events: relay(),
    costOf: (usage) => costOf(routed.model, usage),
  };
};
