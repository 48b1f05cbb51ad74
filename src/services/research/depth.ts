import type { ResearchBudget, ResearchDepth } from "../../db/schema/index.js";

/** What a depth means: sub-questions planned, default sources, passages per section, and the budget caps. */
export type DepthSettings = {
  subQuestions: number;
  defaultSources: number;
  passagesPerSection: number;
  budget: ResearchBudget;
};

/**
 * The depths. Budgets leave room for a repair round on every call; a session that reaches one writes what it
 * has and says that it stopped early.
 */
export const DEPTHS: Record<ResearchDepth, DepthSettings> = {
  quick: {
    subQuestions: 2,
    defaultSources: 5,
    passagesPerSection: 4,
    budget: { max_tokens: 30_000, max_cost_usd: 0.1, max_seconds: 180 },
  },
  standard: {
    subQuestions: 3,
    defaultSources: 10,
    passagesPerSection: 6,
    budget: { max_tokens: 80_000, max_cost_usd: 0.3, max_seconds: 600 },
  },
  deep: {
    subQuestions: 5,
    defaultSources: 20,
    passagesPerSection: 8,
    budget: { max_tokens: 250_000, max_cost_usd: 1, max_seconds: 1800 },
  },
};

/** The budget a session runs under: the depth's caps, each lowered where the request asks for less. */
export const budgetFor = (depth: ResearchDepth, asked: Partial<ResearchBudget> | undefined): ResearchBudget => {
  const caps = DEPTHS[depth].budget;
  return {
    max_tokens: Math.min(caps.max_tokens, asked?.max_tokens ?? caps.max_tokens),
    max_cost_usd: Math.min(caps.max_cost_usd, asked?.max_cost_usd ?? caps.max_cost_usd),
    max_seconds: Math.min(caps.max_seconds, asked?.max_seconds ?? caps.max_seconds),
  };
};
