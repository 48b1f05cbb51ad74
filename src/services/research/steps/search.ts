import type { ResearchCandidate } from "../../../db/schema/index.js";
import { hostUnder } from "../canonical-url.js";
import type { RunContext } from "../run-context.js";
import { mergeResults } from "../search.js";

/** Step 2: a web search per sub-question, merged into the candidates to read (once). */
export const searchStep = async (run: RunContext, questions: string[]): Promise<ResearchCandidate[]> => {
  if (run.state.search) return run.state.search.results;
  const { session } = run;
  await run.stage("searching", 10);
  const client = run.firecrawl();
  const include = session.includeDomains;
  const exclude = session.excludeDomains;
  const perQuestion = Math.min(20, Math.max(3, session.maxSources));
  const hits: Array<Array<{ url: string; title: string; description: string }>> = [];
  for (const question of questions) {
    // Firecrawl takes one list or the other; with both, the include list goes to Firecrawl and code drops
    // the excluded hosts.
    const found = await client.search(question, {
      limit: perQuestion,
      ...(include.length > 0 ? { includeDomains: include } : exclude.length > 0 ? { excludeDomains: exclude } : {}),
    });
    run.slice.spend(1);
    run.usage.searches += 1;
    hits.push(found);
  }
  const allowed = (url: string) => {
    const host = new URL(url).hostname;
    if (include.length > 0 && !include.some((domain) => hostUnder(host, domain))) return false;
    return !exclude.some((domain) => hostUnder(host, domain));
  };
  const results = mergeResults(hits, session.maxSources, allowed);
  run.state.search = { results };
  run.progress.sources_found = results.length;
  await run.save();
  await run.event("sources", { found: results.length, urls: results.map((result) => result.url) });
  return results;
};
