import type { Env } from "../../env.js";
import { createEmbedder, type Embedder, embeddingCostUsd } from "../../integrations/embeddings.js";
import { createTextract, TEXTRACT_PRICE_PER_PAGE_USD, TEXTRACT_USAGE_MODEL } from "../../integrations/textract.js";
import { ApiError } from "../../lib/errors.js";
import type { ServiceContext } from "../context.js";
import { assertWithinBudget } from "../usage/budget.js";
import { recordUsage } from "../usage/record-usage.js";
import { DocumentError } from "./extract/errors.js";
import type { Ocr } from "./extract/pages.js";

/**
 * The paid calls documents make, in one place: OCR pages (Textract) and embeddings (of chunks at ingestion and
 * of search queries). Each call is held to the owner's monthly budget before it goes out and recorded in
 * usage_records (service `documents`) with its cost once it answered, like every model call.
 */

/**
 * Where a call is made decides how a spent budget is told: a request answers 402 `BUDGET_EXCEEDED`; an
 * ingestion run fails the document with that code (not retried: the owner raises the budget, then retries).
 */
type Caller = { userId: string; during: "request" | "ingestion" };

const holdToBudget = async (ctx: ServiceContext, caller: Caller) => {
  try {
    await assertWithinBudget({ ctx, userId: caller.userId });
  } catch (error) {
    if (caller.during === "ingestion" && error instanceof ApiError && error.code === "BUDGET_EXCEEDED") {
      throw new DocumentError("BUDGET_EXCEEDED", `Reading the document stopped: ${error.message}`, false, {
        cause: error,
      });
    }
    throw error;
  }
};

/** Records a call: after the response on a request, before going on in an ingestion run (no response to wait for). */
const record = async (
  ctx: ServiceContext,
  caller: Caller,
  call: { provider: string; model: string; tokens: number; costUsd: number; startedAt: number },
) => {
  const recorded = recordUsage({
    ctx,
    event: {
      userId: caller.userId,
      service: "documents",
      provider: call.provider,
      model: call.model,
      tokensInput: call.tokens,
      tokensOutput: 0,
      costUsd: call.costUsd,
      latencyMs: Date.now() - call.startedAt,
      ttftMs: null,
      cached: false,
      requestId: ctx.requestId,
    },
  });
  if (caller.during === "request") ctx.defer(recorded);
  else await recorded;
};

const textractOf = (env: Env) => {
  if (!env.AWS_REGION || !env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return null;
  return createTextract({
    region: env.AWS_REGION,
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    ...(env.TEXTRACT_ENDPOINT ? { endpoint: env.TEXTRACT_ENDPOINT } : {}),
  });
};

/**
 * OCR for one user's document: Textract when the AWS settings are there, else null (a scan then fails with
 * OCR_NOT_CONFIGURED). Every page is checked against the budget first and recorded with its price after.
 * @example
 * const pages = await extractPages({ kind, bytes, ocr: meteredOcr(ctx, { userId: doc.userId }) });
 */
export const meteredOcr = (ctx: ServiceContext, owner: { userId: string }): Ocr | null => {
  const textract = textractOf(ctx.env);
  if (!textract) return null;
  const caller: Caller = { userId: owner.userId, during: "ingestion" };
  return async ({ bytes }) => {
    await holdToBudget(ctx, caller);
    const startedAt = Date.now();
    const page = await textract.readPage(bytes);
    await record(ctx, caller, {
      provider: "textract",
      model: TEXTRACT_USAGE_MODEL,
      tokens: 0,
      costUsd: TEXTRACT_PRICE_PER_PAGE_USD,
      startedAt,
    });
    return page.text;
  };
};

/**
 * The embedder EMBEDDING_MODEL names (null when unset), metered for one user: each call is checked against the
 * budget first and recorded with the tokens the provider counted and their price after.
 * @example
 * const embedder = meteredEmbedder(ctx, { userId, during: "request" });
 * const { vectors } = (await embedder?.embed([query])) ?? { vectors: [] };
 */
export const meteredEmbedder = (ctx: ServiceContext, caller: Caller): Embedder | null => {
  const embedder = createEmbedder(ctx.env);
  if (!embedder) return null;
  const slash = embedder.model.indexOf("/");
  return {
    model: embedder.model,
    embed: async (texts, signal) => {
      if (texts.length === 0) return embedder.embed(texts, signal);
      await holdToBudget(ctx, caller);
      const startedAt = Date.now();
      const answer = await embedder.embed(texts, signal);
      await record(ctx, caller, {
        provider: embedder.model.slice(0, slash),
        model: embedder.model.slice(slash + 1),
        tokens: answer.tokens,
        costUsd: embeddingCostUsd(embedder.model, answer.tokens),
        startedAt,
      });
      return answer;
    },
  };
};
