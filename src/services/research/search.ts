import type { ResearchCandidate } from "../../db/schema/index.js";
import { canonicalUrl } from "./canonical-url.js";

/**
 * The sources to read from each sub-question's search hits: taken in turn (the first hit of every question,
 * then the second, …) so every question has its best sources in, de-duplicated by canonical URL (a page found
 * twice is one source that remembers both questions), keeping only `allowed` URLs, at most `max`.
 * @example
 * mergeResults([[a, b], [b, c]], 10, () => true); // a, b (for questions 0 and 1), c
 */
export const mergeResults = (
  hits: Array<Array<{ url: string; title: string; description: string }>>,
  max: number,
  allowed: (url: string) => boolean,
): ResearchCandidate[] => {
  const byUrl = new Map<string, ResearchCandidate>();
  const longest = Math.max(0, ...hits.map((list) => list.length));
  for (let rank = 0; rank < longest; rank++) {
    for (const [question, list] of hits.entries()) {
      const hit = list[rank];
      if (!hit) continue;
      const url = canonicalUrl(hit.url);
      if (!url || !allowed(url)) continue;
      const known = byUrl.get(url);
      if (known) {
        if (!known.questions.includes(question)) known.questions.push(question);
        continue;
      }
      if (byUrl.size >= max) continue;
      byUrl.set(url, { url, title: hit.title, description: hit.description, questions: [question] });
    }
  }
  return [...byUrl.values()];
};
