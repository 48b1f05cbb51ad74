import type { RankedPassage, WrittenSection } from "../../db/schema/index.js";

/** `[3]` or `[1, 4]`: a citation marker, as the writer is asked to write them. */
const MARKER = /\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]/g;

/**
 * Text as the quote check compares it: Markdown emphasis and code marks dropped, typographic quotes and dashes
 * made plain, whitespace collapsed, lower case. A model that copies a sentence copies these loosely.
 */
export const normaliseForQuote = (text: string) =>
  text
    .replace(/[*_`]+/g, "")
    .replace(/[“”„«»]/g, '"')
    .replace(/[‘’‚]/g, "'")
    .replace(/[–—]/g, "-")
    .replace(/\s+/g, " ")
    .trim()
    .toLowerCase();

/** Whether `quote` occurs in `text`, as {@link normaliseForQuote} reads both. An empty quote never does. */
export const quoteOccurs = (quote: string, text: string) => {
  const needle = normaliseForQuote(quote);
  return needle.length > 0 && normaliseForQuote(text).includes(needle);
};

/** Splits a paragraph into sentences, keeping the markers that follow a full stop with their sentence. */
const sentencesOf = (paragraph: string) => paragraph.split(/(?<=[.!?](?:\s*\[\d[\d,\s]*\])*)\s+(?!\[\d)/);

/** The first ~300 characters of a passage, cut at a word: the quote used when the model gave none. */
const excerpt = (text: string) => {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= 300 ? flat : flat.slice(0, 300).replace(/\s+\S*$/, "");
};

/** What the writer answered for one section: text citing passages `[n]`, and a quote per number it cites. */
export type SectionDraft = { text: string; quotes: Array<{ n: number; quote: string }> };

/**
 * Checks a section's citations by code: every `[n]` must name a passage the writer was given, and its quote
 * (the model's, else an excerpt of the passage) must occur in the text of the source the passage came from.
 * Markers that fail are dropped; a sentence left with none of its citations is removed from the section and
 * listed in `flagged` with why, so no claim ships as if a source supported it. Kept citations are numbered
 * `[1]`, `[2]`, … in order of first use, `cited[k - 1]` being the source (URL and checked quote) of `[k]`.
 * @example
 * const section = checkSection({ question, draft, passages, sourceText: (url) => texts.get(url) ?? "" });
 */
export const checkSection = ({
  question,
  draft,
  passages,
  sourceText,
}: {
  question: string;
  draft: SectionDraft;
  passages: RankedPassage[];
  sourceText: (url: string) => string;
}): WrittenSection & { kept: number; removed: number } => {
  const quotes = new Map<number, string>();
  for (const { n, quote } of draft.quotes) if (!quotes.has(n) && quote.trim()) quotes.set(n, quote.trim());
  const cited: WrittenSection["cited"] = [];
  const flagged: WrittenSection["flagged"] = [];
  const local = new Map<string, number>();
  let kept = 0;
  let removed = 0;
  // One verdict per passage number: a number that fails fails wherever it is cited.
  const verdicts = new Map<number, { url: string; quote: string } | { reason: string }>();
  const verdictOf = (n: number) => {
    const known = verdicts.get(n);
    if (known) return known;
    const passage = passages[n - 1];
    let verdict: { url: string; quote: string } | { reason: string };
    if (!passage) verdict = { reason: `cites [${n}], but only passages 1 to ${passages.length} were given` };
    else {
      const quote = quotes.get(n) ?? excerpt(passage.text);
      verdict = quoteOccurs(quote, sourceText(passage.url))
        ? { url: passage.url, quote }
        : { reason: `the quote given for [${n}] does not occur in ${passage.url}` };
    }
    verdicts.set(n, verdict);
    return verdict;
  };
  const paragraphs = draft.text
    .replace(/\r\n/g, "\n")
    .split(/\n{2,}/)
    .map((paragraph) => {
      const sentences = sentencesOf(paragraph.trim()).flatMap((sentence) => {
        const markers = [...sentence.matchAll(MARKER)];
        if (markers.length === 0) return [sentence];
        const reasons: string[] = [];
        let supported = 0;
        const rewritten = sentence.replace(MARKER, (_whole, list: string) => {
          const numbers = list.split(",").map((part) => Number.parseInt(part.trim(), 10));
          const good: number[] = [];
          for (const n of numbers) {
            const verdict = verdictOf(n);
            if ("reason" in verdict) {
              reasons.push(verdict.reason);
              removed += 1;
              continue;
            }
            let k = local.get(verdict.url);
            if (k === undefined) {
              cited.push(verdict);
              k = cited.length;
              local.set(verdict.url, k);
            }
            if (!good.includes(k)) good.push(k);
            kept += 1;
          }
          supported += good.length;
          return good.map((k) => `[${k}]`).join("");
        });
        const claim = sentence
          .replace(MARKER, "")
          .replace(/\s+(?=[.,;:!?])/g, "")
          .replace(/\s+/g, " ")
          .trim();
        if (supported === 0) {
          flagged.push({ claim, reason: reasons.join("; ") });
          return [];
        }
        if (reasons.length > 0) flagged.push({ claim, reason: `kept with its other citations: ${reasons.join("; ")}` });
        return [rewritten.replace(/\s+(?=[.,;:!?])/g, "").replace(/ {2,}/g, " ")];
      });
      return sentences.join(" ").trim();
    })
    .filter((paragraph) => paragraph !== "");
  return { question, text: paragraphs.join("\n\n"), cited, flagged, kept, removed };
};

/**
 * Rewrites every `[n]` of `text` through `map` (a number it does not map is dropped), for renumbering.
 * @example
 * renumber("Boils at 100 °C [2].", (n) => (n === 2 ? 1 : null)); // "Boils at 100 °C [1]."
 */
export const renumber = (text: string, map: (n: number) => number | null) =>
  text.replace(MARKER, (_whole, list: string) =>
    list
      .split(",")
      .map((part) => map(Number.parseInt(part.trim(), 10)))
      .filter((n): n is number => n !== null)
      .filter((n, index, all) => all.indexOf(n) === index)
      .map((n) => `[${n}]`)
      .join(""),
  );

/** The numbers `[n]` of `text` cites, in order of first use. */
export const citedNumbers = (text: string) => {
  const out: number[] = [];
  for (const match of text.matchAll(MARKER)) {
    for (const part of (match[1] ?? "").split(",")) {
      const n = Number.parseInt(part.trim(), 10);
      if (!out.includes(n)) out.push(n);
    }
  }
  return out;
};
