import type { Env } from "../../env.js";
import { firecrawlFromEnv } from "../../integrations/firecrawl.js";
import { SearxngFailure, searxngFromEnv } from "../../integrations/searxng.js";
import { ApiError } from "../../lib/errors.js";
import { JobError } from "../jobs/outcome.js";

/** One web search hit, whichever provider found it. */
export type WebHit = { url: string; title: string; description: string };

/** A web search provider: Firecrawl's search, or a SearXNG instance's JSON API. */
export type WebSearch = {
  provider: "firecrawl" | "searxng";
  search: (
    query: string,
    options: { limit: number; includeDomains: string[]; excludeDomains: string[] },
  ) => Promise<WebHit[]>;
};

/** What the 503 says when web research is asked for and no provider is configured. */
export const NO_WEB_SEARCH =
  'Web research needs a search provider: set FIRECRAWL_API_KEY (and FIRECRAWL_API_URL for a self-hosted Firecrawl), or SEARXNG_URL for a SearXNG instance you run. Research over your documents (`sources: "documents"`) needs neither.';

/**
 * The configured web search: Firecrawl when `FIRECRAWL_API_KEY` is set, else SearXNG when `SEARXNG_URL` is,
 * else null. Domain filters go to Firecrawl (one list: it takes one or the other); the search step filters
 * hosts by code for every provider.
 * @example
 * const web = webSearchFromEnv(ctx.env);
 * const hits = await web?.search("boiling point at altitude", { limit: 5, includeDomains: [], excludeDomains: [] });
 */
export const webSearchFromEnv = (
  env: Pick<Env, "FIRECRAWL_API_KEY" | "FIRECRAWL_API_URL" | "SEARXNG_URL">,
): WebSearch | null => {
  const firecrawl = firecrawlFromEnv(env);
  if (firecrawl) {
    return {
      provider: "firecrawl",
      search: (query, { limit, includeDomains, excludeDomains }) =>
        firecrawl.search(query, {
          limit,
          ...(includeDomains.length > 0 ? { includeDomains } : excludeDomains.length > 0 ? { excludeDomains } : {}),
        }),
    };
  }
  const searxng = searxngFromEnv(env);
  if (searxng) {
    return {
      provider: "searxng",
      search: async (query, { limit }) => {
        try {
          return await searxng.search(query, { limit });
        } catch (error) {
          if (!(error instanceof SearxngFailure)) throw error;
          // Unreachable, rate limited (429) or failing (5xx) may pass; a refusal (403: no JSON format) will not.
          const retryable = error.status === null || error.status === 429 || error.status >= 500;
          throw new JobError("SEARXNG_FAILED", `The SearXNG search failed: ${error.message}.`, retryable);
        }
      },
    };
  }
  return null;
};

/** The configured web search, or the 503 `SEARCH_NOT_CONFIGURED` naming the settings. */
export const requireWebSearch = (env: Parameters<typeof webSearchFromEnv>[0]) => {
  const web = webSearchFromEnv(env);
  if (!web) throw new ApiError("SEARCH_NOT_CONFIGURED", NO_WEB_SEARCH);
  return web;
};
