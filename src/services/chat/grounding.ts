import type { MessageCitation } from "../../db/schema/messages.js";
import { estimateTokens } from "../../llm/models.js";
import { untrusted } from "../../llm/prompts.js";
import type { ServiceContext } from "../context.js";
import { findPassages, type SearchHit } from "../documents/search.js";

/** Passages each grounded turn retrieves, and the most of the window they may take. */
const PASSAGES_PER_TURN = 6;
const MAX_PASSAGE_CHARS = 1_600;

/** A retrieved passage as the model sees it: numbered, so the answer can cite it as `[n]`. */
export type GroundingSource = SearchHit & { n: number };

/** What a conversation is grounded in: named documents, all of the owner's, or nothing. */
export type Grounding = { documentIds: string[]; allDocuments: boolean };

export const isGrounded = (grounding: Partial<Grounding>) =>
  Boolean(grounding.allDocuments) || (grounding.documentIds?.length ?? 0) > 0;

/**
 * The passages of the conversation's documents that best match this turn's question (hybrid retrieval), numbered
 * from 1. A document deleted since it was attached just stops matching.
 */
export const retrieveSources = async (
  ctx: ServiceContext,
  input: { userId: string; question: string; grounding: Grounding },
): Promise<GroundingSource[]> => {
  const { results } = await findPassages({
    ctx,
    userId: input.userId,
    query: input.question,
    k: PASSAGES_PER_TURN,
    documentIds: input.grounding.allDocuments ? null : input.grounding.documentIds,
  });
  return results.map((hit, index) => ({ ...hit, n: index + 1 }));
};

/** The system paragraph that tells the model how to use and cite the passages. */
export const GROUNDING_RULE = [
  "The user's message starts with passages from the user's own documents, in <document_passages> blocks, each with a number n.",
  "Answer from those passages where they bear on the question, and cite each claim you take from one with its number in square brackets, like [2]; cite only numbers that were given.",
  "If the passages do not answer the question, say so, and never invent a citation.",
].join(" ");

/** The passages as delimited data for the user message, and roughly how many tokens they take. */
export const sourcesBlock = (sources: GroundingSource[]) => {
  const block = sources
    .map((source) =>
      untrusted("document_passages", source.content.slice(0, MAX_PASSAGE_CHARS), {
        n: source.n,
        document: source.filename,
        page: source.page,
      }),
    )
    .join("\n");
  return { block, tokens: estimateTokens(block) + estimateTokens(GROUNDING_RULE) };
};

const MARKER = /( ?)\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]/g;

/**
 * The citations an answer makes, checked by code: `[n]` (or `[1, 3]`) that names a retrieved passage maps to
 * that passage's document, page, offsets and quote; a number that names nothing retrieved is dropped from the
 * text and from the list, so no shipped citation points at nothing.
 * @example
 * const { content, citations } = resolveCitations("Fees are two months [1][9].", sources); // [9] removed
 */
export const resolveCitations = (text: string, sources: GroundingSource[]) => {
  const byNumber = new Map(sources.map((source) => [source.n, source]));
  const cited = new Map<number, MessageCitation>();
  const content = text.replace(MARKER, (_match, space: string, list: string) => {
    const kept = list
      .split(",")
      .map((part) => Number(part.trim()))
      .filter((n) => byNumber.has(n));
    for (const n of kept) {
      const source = byNumber.get(n);
      if (source && !cited.has(n)) {
        cited.set(n, {
          n,
          document_id: source.document_id,
          filename: source.filename,
          page: source.page,
          char_start: source.char_start,
          char_end: source.char_end,
          quote: source.quote,
        });
      }
    }
    // A dropped marker takes its leading space with it ("fee [9]." becomes "fee.").
    return kept.length > 0 ? `${space}[${kept.join(", ")}]` : "";
  });
  return {
    content,
    citations: [...cited.values()].sort((a, b) => a.n - b.n),
  };
};
