import type { ResearchSource, SkippedSource, WrittenSection } from "../../db/schema/index.js";
import { renumber } from "./citations.js";

/** A part of the report whose `[k]` point at `cited[k - 1]`. */
type Cited = { text: string; cited: Array<{ url: string; quote: string }> };

/**
 * The report's parts renumbered together: sources numbered `[1]`, `[2]`, … in order of first citation across
 * the summary and then the sections, each with the first quote it was cited for.
 */
export const numberSources = (
  parts: Cited[],
  details: (url: string) => Omit<ResearchSource, "n" | "url" | "quote">,
) => {
  const numbers = new Map<string, number>();
  const sources: ResearchSource[] = [];
  const texts = parts.map((part) =>
    renumber(part.text, (k) => {
      const source = part.cited[k - 1];
      if (!source) return null;
      let n = numbers.get(source.url);
      if (n === undefined) {
        n = sources.length + 1;
        numbers.set(source.url, n);
        sources.push({ n, url: source.url, quote: source.quote, ...details(source.url) });
      }
      return n;
    }),
  );
  return { texts, sources };
};

/** Sections numbered one after another for the summary's writer: `[n]` of the draft's own source list. */
export const draftNumbering = (sections: WrittenSection[]) => {
  const numbers = new Map<string, number>();
  const draft: Array<{ url: string; quote: string }> = [];
  const texts = sections.map((section) =>
    renumber(section.text, (k) => {
      const source = section.cited[k - 1];
      if (!source) return null;
      let n = numbers.get(source.url);
      if (n === undefined) {
        draft.push(source);
        n = draft.length;
        numbers.set(source.url, n);
      }
      return n;
    }),
  );
  return { texts, draft };
};

const escapeMarkdownLink = (text: string) => text.replace(/[[\]]/g, "\\$&");

/**
 * The report in Markdown: title, summary, a section per sub-question, the numbered sources with their quotes,
 * what could not be read, and a note when a budget stopped the session early.
 */
export const reportMarkdown = (input: {
  query: string;
  summary: string;
  sections: Array<{ question: string; text: string }>;
  sources: ResearchSource[];
  skipped: SkippedSource[];
  stoppedEarly: string | null;
}) => {
  const lines: string[] = [`# ${input.query.replace(/\s+/g, " ").trim()}`, ""];
  if (input.stoppedEarly) lines.push(`> **Stopped early:** ${input.stoppedEarly}`, "");
  lines.push("## Summary", "", input.summary, "");
  for (const section of input.sections) {
    lines.push(`## ${section.question}`, "", section.text || "_No passage read answers this question._", "");
  }
  lines.push("## Sources", "");
  if (input.sources.length === 0) lines.push("_No source is cited._");
  for (const source of input.sources) {
    const quote = source.quote.replace(/\s+/g, " ");
    // A document's page has no address a reader's browser opens: it is named, with its document id.
    lines.push(
      source.kind === "document"
        ? `${source.n}. ${escapeMarkdownLink(source.title)} (document ${source.document_id}): “${quote}”`
        : `${source.n}. [${escapeMarkdownLink(source.title || source.url)}](${source.url}), accessed ${source.accessed_at.slice(0, 10)}: “${quote}”`,
    );
  }
  if (input.skipped.length > 0) {
    lines.push("", "## Sources not read", "");
    for (const skipped of input.skipped) lines.push(`- ${skipped.url}: ${skipped.reason}`);
  }
  return `${lines.join("\n").trim()}\n`;
};
