import { Document, ExternalHyperlink, HeadingLevel, Packer, Paragraph, TextRun } from "docx";

// The report as a Word document, written with `docx` (pure JavaScript, runs in workerd). The Markdown the
// report is written in is small and APE's own: headings, paragraphs, numbered and bulleted lines, a quote
// line, links and bold; anything else goes in as plain text.

const LINK = /\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g;

/** One line's text as runs: links become hyperlinks, `**bold**` bold, the rest plain. */
const runsOf = (text: string) => {
  const runs: Array<TextRun | ExternalHyperlink> = [];
  let at = 0;
  const plain = (part: string) => {
    for (const [index, piece] of part.split("**").entries()) {
      if (piece) runs.push(new TextRun({ text: piece.replace(/\\([[\]])/g, "$1"), bold: index % 2 === 1 }));
    }
  };
  for (const match of text.matchAll(LINK)) {
    plain(text.slice(at, match.index));
    runs.push(
      new ExternalHyperlink({
        link: match[2] ?? "",
        children: [new TextRun({ text: (match[1] ?? "").replace(/\\([[\]])/g, "$1"), style: "Hyperlink" })],
      }),
    );
    at = (match.index ?? 0) + match[0].length;
  }
  plain(text.slice(at));
  return runs;
};

const HEADINGS = [HeadingLevel.TITLE, HeadingLevel.HEADING_1, HeadingLevel.HEADING_2, HeadingLevel.HEADING_3];

/**
 * A report's Markdown as DOCX bytes: `#` the title, `##`/`###` headings, paragraphs, list items, and links kept.
 * @example
 * const bytes = await reportDocx({ title: session.query, markdown: session.report });
 */
export const reportDocx = async (input: { title: string; markdown: string }): Promise<Uint8Array> => {
  const paragraphs: Paragraph[] = [];
  for (const block of input.markdown.replace(/\r\n/g, "\n").split(/\n{2,}/)) {
    for (const line of block.split("\n")) {
      const trimmed = line.trim();
      if (!trimmed) continue;
      const heading = /^(#{1,4})\s+(.*)$/.exec(trimmed);
      if (heading) {
        const level = (heading[1] ?? "#").length - 1;
        paragraphs.push(
          new Paragraph({ heading: HEADINGS[level] ?? HeadingLevel.HEADING_3, children: runsOf(heading[2] ?? "") }),
        );
        continue;
      }
      const bullet = /^[-*]\s+(.*)$/.exec(trimmed);
      if (bullet) {
        paragraphs.push(new Paragraph({ bullet: { level: 0 }, children: runsOf(bullet[1] ?? "") }));
        continue;
      }
      const quote = /^>\s?(.*)$/.exec(trimmed);
      if (quote) {
        paragraphs.push(new Paragraph({ indent: { left: 720 }, children: runsOf(quote[1] ?? "") }));
        continue;
      }
      // Numbered lines (the sources) keep their number as text, so `[n]` in the report and `n.` here agree.
      paragraphs.push(new Paragraph({ children: runsOf(trimmed) }));
    }
  }
  const document = new Document({
    creator: "APE",
    title: input.title.slice(0, 250),
    description: "A research report written by APE",
    sections: [{ children: paragraphs }],
  });
  return new Uint8Array(await Packer.toArrayBuffer(document));
};
