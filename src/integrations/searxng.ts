import { z } from "zod";
import type { Env } from "../env.js";

/** How long one SearXNG search may take before it counts as failed. */
const SEARCH_TIMEOUT_MS = 15_000;
/** Characters of a result's snippet kept. */
const SNIPPET_CHARS = 500;

/** A SearXNG search that did not answer results: the instance's HTTP status (null when it never answered). */
export class SearxngFailure extends Error {
  readonly status: number | null;
  constructor(message: string, status: number | null) {
    super(message);
    this.name = "SearxngFailure";
    this.status = status;
  }
}

// The part of SearXNG's JSON answer (`/search?format=json`) APE reads; everything else is ignored.
const SearxngAnswer = z.object({
  results: z
    .array(
      z.object({
        url: z.string(),
        title: z.string().nullish(),
        content: z.string().nullish(),
      }),
    )
    .default([]),
});

/** One hit, as research's search step takes them. */
export type SearxngHit = { url: string; title: string; description: string };

/**
 * A client for a SearXNG instance's JSON search API, `GET {SEARXNG_URL}/search?q=…&format=json` (the instance
 * must list `json` under `search.formats` in its settings, else it answers 403). The URL is the operator's own
 * setting, often on a private network, so it is fetched directly, not through safe-fetch; the pages it finds are
 * users' URLs and are read through safe-fetch by the caller.
 * @example
 * const hits = await createSearxng({ baseUrl: "http://searxng:8080" }).search("boiling point altitude", { limit: 5 });
 */
export const createSearxng = ({ baseUrl, timeoutMs = SEARCH_TIMEOUT_MS }: { baseUrl: string; timeoutMs?: number }) => ({
  search: async (query: string, options: { limit: number }): Promise<SearxngHit[]> => {
    const url = new URL("search", baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
    url.searchParams.set("q", query);
    url.searchParams.set("format", "json");
    let response: Response;
    try {
      response = await fetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new SearxngFailure(
        `SearXNG could not be reached: ${error instanceof Error ? error.message : String(error)}`,
        null,
      );
    }
    if (!response.ok) {
      await response.body?.cancel();
      const hint = response.status === 403 ? " (is `json` in the instance's search.formats?)" : "";
      throw new SearxngFailure(`SearXNG answered HTTP ${response.status}${hint}`, response.status);
    }
    const parsed = SearxngAnswer.safeParse(await response.json().catch(() => null));
    if (!parsed.success) throw new SearxngFailure("SearXNG's answer is not its JSON search shape", response.status);
    const hits: SearxngHit[] = [];
    for (const result of parsed.data.results) {
      if (!/^https?:\/\//i.test(result.url)) continue;
      hits.push({
        url: result.url,
        title: result.title ?? "",
        description: (result.content ?? "").slice(0, SNIPPET_CHARS),
      });
      if (hits.length >= options.limit) break;
    }
    return hits;
  },
});

export type SearxngClient = ReturnType<typeof createSearxng>;

/** The configured SearXNG instance, or null without `SEARXNG_URL`. */
export const searxngFromEnv = (env: Pick<Env, "SEARXNG_URL">): SearxngClient | null =>
  env.SEARXNG_URL ? createSearxng({ baseUrl: env.SEARXNG_URL }) : null;
