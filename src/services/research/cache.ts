import type { ResearchSession } from "../../db/schema/index.js";
import { sha256Hex } from "../../lib/crypto.js";
import type { ServiceContext } from "../context.js";

/** How long a report answers the same question again: the seed's 24 h. */
const CACHE_SECONDS = 24 * 3600;

const cacheKey = (hash: string) => `cache:research:${hash}`;

/** A query as the cache compares it: case, spacing and closing punctuation do not make a new question. */
export const normaliseQuery = (query: string) =>
  query
    .normalize("NFKC")
    .toLowerCase()
    .replace(/\s+/g, " ")
    .replace(/[\s?!.]+$/, "")
    .trim();

/**
 * The hash a session's question is cached under: its owner, normalised query and every option that changes
 * the answer (depth, sources, domains), so one user's report never answers another's question.
 */
export const queryHash = (input: {
  userId: string;
  query: string;
  depth: string;
  maxSources: number;
  includeDomains: string[];
  excludeDomains: string[];
  sourceKind: string;
  documentIds: string[] | null;
}) =>
  sha256Hex(
    new TextEncoder().encode(
      JSON.stringify([
        input.userId,
        normaliseQuery(input.query),
        input.depth,
        input.maxSources,
        [...input.includeDomains].sort(),
        [...input.excludeDomains].sort(),
        // Web-only hashes stay as they were, so reports cached before document research still answer.
        ...(input.sourceKind === "web" ? [] : [input.sourceKind, input.documentIds]),
      ]),
    ),
  );

/** Remembers a completed session's report for its question, for 24 h. Best effort: Redis down loses only speed. */
export const cacheReport = async (ctx: ServiceContext, session: ResearchSession) => {
  if (!session.queryHash) return;
  try {
    await ctx.redis.set(cacheKey(session.queryHash), session.id, { ex: CACHE_SECONDS });
  } catch (error) {
    ctx.log.warn("research cache not written", { researchId: session.id, error });
  }
};

/** The id of the session whose report answers this hash, if one was cached in the last 24 h. */
export const cachedSessionId = async (ctx: ServiceContext, hash: string) => {
  try {
    return await ctx.redis.get<string>(cacheKey(hash));
  } catch (error) {
    ctx.log.warn("research cache not read", { error });
    return null;
  }
};
