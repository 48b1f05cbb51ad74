import type { MessageCitation } from "../../db/schema/messages.js";
import { GROUNDING_RULE, resolveCitations, retrieveSources, sourcesBlock } from "../chat/grounding.js";
import { requireUser, type ServiceContext } from "../context.js";
import { requireDocumentIds } from "../documents/documents.js";
import { completeForCaller } from "../llm/call-model.js";

/** What a one-shot grounded answer says, which passages it cites, and who answered at what cost. */
export type GroundedAnswer = {
  answer: string;
  citations: MessageCitation[];
  passages_considered: number;
  model: { provider: string; model: string; cached: boolean } | null;
  usage: { tokens_input: number; tokens_output: number; cost_usd: number };
};

const NOTHING_FOUND =
  "None of your documents has a passage that matches the question, so there is nothing to answer it from.";

/**
 * Answers one question from the caller's documents, as a grounded chat turn does but with no conversation:
 * the best passages of the named documents (or of all of them) are handed to the model as delimited data with
 * the grounding rule, and the answer's `[n]` are checked by code, so each citation names a retrieved passage
 * with its document, page and quote (a number that names nothing is dropped). With no matching passage no
 * model is called. The model call is the caller's (budget, usage with service `chat`).
 * @example
 * const { answer, citations } = await askDocuments({ ctx, input: { question: "What is the termination fee?", model: "auto" } });
 */
export const askDocuments = async ({
  ctx,
  input,
  signal,
}: {
  ctx: ServiceContext;
  input: { question: string; document_ids?: string[] | undefined; model: string };
  signal?: AbortSignal | undefined;
}): Promise<GroundedAnswer> => {
  const userId = requireUser(ctx);
  const documentIds = input.document_ids ? await requireDocumentIds({ ctx, ids: input.document_ids }) : [];
  const sources = await retrieveSources(ctx, {
    userId,
    question: input.question,
    grounding: { documentIds, allDocuments: input.document_ids === undefined },
  });
  if (sources.length === 0) {
    return {
      answer: NOTHING_FOUND,
      citations: [],
      passages_considered: 0,
      model: null,
      usage: { tokens_input: 0, tokens_output: 0, cost_usd: 0 },
    };
  }
  const { block } = sourcesBlock(sources);
  const answer = await completeForCaller({
    ctx,
    call: {
      service: "chat",
      model: input.model,
      request: {
        messages: [
          { role: "system", content: GROUNDING_RULE },
          { role: "user", content: `${block}\n\n${input.question}` },
        ],
      },
      signal,
      apeSystemPrompts: true,
    },
  });
  const { content, citations } = resolveCitations(answer.text, sources);
  return {
    answer: content,
    citations,
    passages_considered: sources.length,
    model: { provider: answer.provider, model: answer.model, cached: answer.cached },
    usage: {
      tokens_input: answer.usage.inputTokens,
      tokens_output: answer.usage.outputTokens,
      cost_usd: Math.round(answer.costUsd * 1e8) / 1e8,
    },
  };
};
