import { EmbeddingFailure, embedderFor } from "../../integrations/embeddings.js";
import { ApiError } from "../../lib/errors.js";
import { requireUser, type ServiceContext } from "../context.js";
import { assertWithinBudget } from "../usage/budget.js";
import { recordUsage } from "../usage/record-usage.js";
import { upstreamClock } from "./upstream-clock.js";

/** US dollars per million input tokens of the embedding models with a price; others (compat) cost nothing. */
const EMBEDDING_PRICES: Record<string, number> = {
  "openai/text-embedding-3-small": 0.02,
  "openai/text-embedding-3-large": 0.13,
  "openai/text-embedding-ada-002": 0.1,
  "bedrock/amazon.titan-embed-text-v2:0": 0.02,
};

const PROVIDERS = ["openai", "bedrock", "compat"] as const;

/** What an embeddings call answered: vectors in the order of the texts, tokens counted by the provider. */
export type EmbeddingAnswer = { model: string; vectors: number[][]; tokens: number; costUsd: number };

/**
 * Embeds texts for the caller, with the monthly budget checked first and a usage row after (service
 * `openai`). `model` is `auto` (EMBEDDING_MODEL) or `provider/model` of openai, bedrock (Titan v2) or compat.
 * @example
 * const answer = await embedForCaller({ ctx, model: "auto", texts: ["car maintenance"] });
 */
export const embedForCaller = async ({
  ctx,
  model,
  texts,
  signal,
}: {
  ctx: ServiceContext;
  model: string;
  texts: string[];
  signal?: AbortSignal | undefined;
}): Promise<EmbeddingAnswer> => {
  const userId = requireUser(ctx);
  ctx.genericAudit = false;
  const spec = model === "auto" ? ctx.env.EMBEDDING_MODEL : model;
  if (!spec) {
    throw new ApiError(
      "NO_PROVIDER_CONFIGURED",
      "No embedding model is configured for `auto`. Set EMBEDDING_MODEL (openai/<model>, bedrock/<model> or compat/<model>), or name one as provider/model.",
      { extensions: { settings: { embeddings: ["EMBEDDING_MODEL"] } } },
    );
  }
  const provider = spec.slice(0, Math.max(0, spec.indexOf("/")));
  if (!(PROVIDERS as readonly string[]).includes(provider)) {
    throw new ApiError(
      "UNKNOWN_MODEL",
      `No embedding model answers to "${model}". Use auto, or openai/<model>, bedrock/<model> or compat/<model>.`,
      { extensions: { errors: [{ path: "model", message: "must be auto or provider/model" }] } },
    );
  }
  const started = Date.now();
  await assertWithinBudget({ ctx, userId });
  let answer: { vectors: number[][]; tokens: number };
  const asked = Date.now();
  try {
    answer = await embedderFor(ctx.env, spec).embed(texts, signal);
  } catch (error) {
    if (!(error instanceof EmbeddingFailure)) throw error;
    if (error.code === "NOT_CONFIGURED") throw new ApiError("NO_PROVIDER_CONFIGURED", error.message);
    if (error.code === "MODEL_NOT_FOUND") throw new ApiError("UNKNOWN_MODEL", error.message);
    if (error.code === "BAD_REQUEST") throw new ApiError("BAD_REQUEST", error.message);
    throw new ApiError("EMBEDDING_FAILED", `The embedding call failed: ${error.message}`, { cause: error });
  } finally {
    upstreamClock(ctx).ms += Date.now() - asked;
  }
  const costUsd = (answer.tokens * (EMBEDDING_PRICES[spec] ?? 0)) / 1_000_000;
  ctx.defer(
    recordUsage({
      ctx,
      event: {
        userId,
        service: "openai",
        provider,
        model: spec.slice(provider.length + 1),
        tokensInput: answer.tokens,
        tokensOutput: 0,
        costUsd,
        latencyMs: Date.now() - started,
        ttftMs: null,
        cached: false,
        requestId: ctx.requestId,
      },
    }),
  );
  return { model: spec, ...answer, costUsd };
};
