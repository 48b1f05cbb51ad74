import type { ResearchCandidate } from "../../../db/schema/index.js";
import { hostUnder } from "../canonical-url.js";
import { searchDocumentPages } from "../document-sources.js";
import type { RunContext } from "../run-context.js";
import { mergeResults } from "../search.js";
import type { WebHit } from "../web-search.js";

/** Each sub-question's web hits, from the configured provider, kept to the session's domains. */
const searchWeb = async (run: RunContext, questions: string[], perQuestion: number) => {
  const { session } = run;
  const web = run.webSearch();
  const include = session.includeDomains;
  const exclude = session.excludeDomains;
  const hits: WebHit[][] = [];
  for (const question of questions) {
    hits.push(await web.search(question, { limit: perQuestion, includeDomains: include, excludeDomains: exclude }));
    run.slice.spend(1);
    run.usage.searches += 1;
  }
  // Providers filter domains loosely or not at all (SearXNG); code decides.
  const allowed = (url: string) => {
    const host = new URL(url).hostname;
    if (include.length > 0 && !include.some((domain) => hostUnder(host, domain))) return false;
    return !exclude.some((domain) => hostUnder(host, domain));
  };
  return mergeResults(hits, session.maxSources, allowed);
};

/** Each sub-question's best pages of the owner's documents, taken in turn as web hits are, at most `max`. */
const searchDocuments = async (run: RunContext, questions: string[], perQuestion: number) => {
  const byUrl = new Map<string, ResearchCandidate>();
  const hits: WebHit[][] = [];
  for (const question of questions) {
    run.slice.spend(2);
    hits.push(
      await searchDocumentPages(run.ctx, {
        userId: run.session.userId,
        question,
        documentIds: run.session.documentIds,
        limit: perQuestion,
      }),
    );
  }
  const longest = Math.max(0, ...hits.map((list) => list.length));
  for (let rank = 0; rank < longest; rank++) {
    for (const [question, list] of hits.entries()) {
      const hit = list[rank];
      if (!hit) continue;
      const known = byUrl.get(hit.url);
      if (known) {
        if (!known.questions.includes(question)) known.questions.push(question);
      } else if (byUrl.size < run.session.maxSources) byUrl.set(hit.url, { ...hit, questions: [question] });
    }
  }
  return [...byUrl.values()];
};

/** Two lists taken in turn (one of each, then the next of each, …), at most `max`: `both` reads some of each. */
const alternate = (first: ResearchCandidate[], second: ResearchCandidate[], max: number) => {
  const out: ResearchCandidate[] = [];
  for (let i = 0; out.length < max && (i < first.length || i < second.length); i++) {
    for (const candidate of [first[i], second[i]]) if (candidate && out.length < max) out.push(candidate);
  }
  return out;
};

/**
 * Step 2: per sub-question, a web search (`web`), a search of the owner's documents (`documents`), or both,
 * merged into the candidates to read (once).
 */
export const searchStep = async (run: RunContext, questions: string[]): Promise<ResearchCandidate[]> => {
  if (run.state.search) return run.state.search.results;
  const { session } = run;
  await run.stage("searching", 10);
  const perQuestion = Math.min(20, Math.max(3, session.maxSources));
  const kind = session.sourceKind;
  const documents = kind === "web" ? [] : await searchDocuments(run, questions, perQuestion);
  const web = kind === "documents" ? [] : await searchWeb(run, questions, perQuestion);
  const results = alternate(documents, web, session.maxSources);
  run.state.search = { results };
  run.progress.sources_found = results.length;
  await run.save();
  await run.event("sources", { found: results.length, urls: results.map((result) => result.url) });
  return results;
};
