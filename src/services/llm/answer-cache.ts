import { sha256Hex } from "../../lib/crypto.js";
import type { LlmRequest, LlmResult, ProviderId } from "../../llm/types.js";
import type { ServiceContext } from "../context.js";

/** An answer kept for deterministic requests: what was said, by whom, and what it took. */
export type CachedAnswer = LlmResult & { provider: ProviderId; model: string };

/**
 * Deterministic requests (temperature 0, or marked cacheable by the caller) may be answered from cache; a call
 * marked `cacheable: false` never is, at any temperature (a job retried after a bad answer must not get the
 * same answer back).
 */
export const isCacheable = (request: LlmRequest, marked: boolean | undefined) => marked ?? request.temperature === 0;

/**
 * `cache:llm:{sha256}` of the user, the model asked for and everything that shapes the answer. The user is in
 * the key, so no one is ever served another's answer.
 */
export const answerCacheKey = async (userId: string, modelSpec: string, request: LlmRequest) =>
  `cache:llm:${await sha256Hex(
    // The whole request: messages (parts, tool calls and results), tools, tool choice and response format.
    JSON.stringify([userId, modelSpec, request]),
  )}`;

export const readCachedAnswer = async (ctx: ServiceContext, key: string) => {
  try {
    return await ctx.redis.get<CachedAnswer>(key);
  } catch (error) {
    // A cache that cannot be read is a miss, not a failure.
    ctx.log.warn("answer cache unavailable", { error });
    return null;
  }
};

export const storeAnswer = async (ctx: ServiceContext, key: string, answer: CachedAnswer) => {
  await ctx.redis.set(key, answer, { ex: ctx.env.LLM_CACHE_TTL_SECONDS });
};
