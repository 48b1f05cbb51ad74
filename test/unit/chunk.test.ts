import { describe, expect, it } from "vitest";
import { type Chunk, chunkPages } from "../../src/services/documents/chunk.js";
import type { ExtractedPage } from "../../src/services/documents/extract/pages.js";
import { renderMarkdownTable } from "../../src/services/documents/extract/tabular.js";
import { chunkText } from "../../src/services/extraction/llm-rows.js";

const sliceOf = (pages: ExtractedPage[], chunk: Chunk) =>
  pages.find((page) => page.page === chunk.page)?.text.slice(chunk.charStart, chunk.charEnd) ?? "";

/** A sentence of about 60 characters, numbered so every one is different. */
const sentence = (n: number) => `Sentence number ${n} says something worth remembering here.`;

describe("chunking pages along their structure", () => {
  it("starts a chunk at each heading and carries the nearest heading above", () => {
    const text = [
      "Preface before any heading.",
      "# Installation",
      "Run the installer.",
      "",
      "Then restart.",
      "## Configuration",
      "",
      "Edit the file.",
      "```sh",
      "# not a heading, a shell comment",
      "",
      "ape --serve",
      "```",
    ].join("\n");
    const pages = [{ page: 1, text }];
    const chunks = chunkPages(pages);
    expect(chunks.map(({ heading, content }) => ({ heading, content }))).toEqual([
      { heading: null, content: "Preface before any heading." },
      { heading: "Installation", content: "# Installation\nRun the installer.\n\nThen restart." },
      {
        heading: "Configuration",
        content: "## Configuration\n\nEdit the file.\n```sh\n# not a heading, a shell comment\n\nape --serve\n```",
      },
    ]);
    expect(chunks.map((chunk) => chunk.ordinal)).toEqual([0, 1, 2]);
    for (const chunk of chunks) expect(sliceOf(pages, chunk)).toBe(chunk.content);
  });

  it("keeps headings that follow each other with the text under the last one", () => {
    const pages = [{ page: 1, text: "# Guide\n\n## Setup ##\n\nInstall it." }];
    expect(chunkPages(pages)).toEqual([
      {
        ordinal: 0,
        page: 1,
        charStart: 0,
        charEnd: 33,
        heading: "Setup",
        content: "# Guide\n\n## Setup ##\n\nInstall it.",
      },
    ]);
  });

  it("packs paragraphs up to the target and slices back to each chunk's content", () => {
    const paragraphs = Array.from({ length: 30 }, (_, i) => `${sentence(i)} ${sentence(i + 100)}`);
    const pages = [{ page: 1, text: paragraphs.join("\n\n") }];
    const chunks = chunkPages(pages, { targetChars: 400, maxChars: 600 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) {
      expect(chunk.content.length).toBeLessThanOrEqual(400);
      expect(sliceOf(pages, chunk)).toBe(chunk.content);
      expect(chunk.content).toMatch(/^Sentence.*here\.$/s);
    }
    // Nothing is lost between chunks: they cover every paragraph, in order.
    expect(chunks.map((chunk) => chunk.content).join("\n\n")).toBe(pages[0]?.text);
  });

  it("splits a table between rows and repeats its header at the top of each chunk", () => {
    const rows = Array.from({ length: 60 }, (_, i) => [`item-${i}`, `${i * 3}`, `note for row ${i}`]);
    const text = `## Inventory\n\n${renderMarkdownTable({ headers: ["Item", "Count", "Note"], rows })}`;
    const pages = [{ page: 1, text }];
    const header = "| Item | Count | Note |\n| --- | --- | --- |";
    const chunks = chunkPages(pages, { targetChars: 300, maxChars: 500 });
    expect(chunks.length).toBeGreaterThan(4);
    const [first, ...rest] = chunks;
    // The first chunk covers the heading and the header where they stand.
    expect(first?.content.startsWith(`## Inventory\n\n${header}\n| item-0 |`)).toBe(true);
    expect(first && sliceOf(pages, first)).toBe(first?.content);
    for (const chunk of rest) {
      const body = sliceOf(pages, chunk);
      expect(chunk.content).toBe(`${header}\n${body}`);
      expect(body).toMatch(/^\| item-\d+ \|[^\n]*(\n\| item-\d+ \|[^\n]*)*$/);
      expect(chunk.content.length).toBeLessThanOrEqual(300);
    }
    for (const chunk of chunks) expect(chunk.heading).toBe("Inventory");
    // Every row is in exactly one chunk.
    const seen = chunks.flatMap((chunk) => sliceOf(pages, chunk).match(/item-\d+/g) ?? []);
    expect(seen).toEqual(rows.map((row) => row[0]));
  });

  it("keeps a small table whole, header and all, like a paragraph", () => {
    const table = renderMarkdownTable({ headers: ["a", "b"], rows: [["1", "2"]] });
    const pages = [{ page: 1, text: `Totals:\n\n${table}` }];
    expect(chunkPages(pages).map((chunk) => chunk.content)).toEqual([`Totals:\n\n${table}`]);
  });

  it("splits a paragraph longer than maxChars at sentence boundaries, under maxChars", () => {
    const text = Array.from({ length: 80 }, (_, i) => sentence(i)).join(" ");
    const pages = [{ page: 1, text }];
    const chunks = chunkPages(pages, { targetChars: 500, maxChars: 800 });
    expect(text.length).toBeGreaterThan(4000);
    expect(chunks.length).toBeGreaterThanOrEqual(8);
    for (const chunk of chunks) {
      expect(chunk.content.length).toBeLessThanOrEqual(800);
      expect(chunk.content).toMatch(/^Sentence number \d+ .*here\.$/s);
      expect(sliceOf(pages, chunk)).toBe(chunk.content);
    }
    expect(chunks.map((chunk) => chunk.content).join(" ")).toBe(text);
  });

  it("falls back to words, then to hard cuts, when there are no sentences to split at", () => {
    const words = Array.from({ length: 400 }, (_, i) => `word${i}`).join(" ");
    const blob = "x".repeat(2500);
    const pages = [{ page: 1, text: `${words}\n\n${blob}` }];
    const chunks = chunkPages(pages, { targetChars: 300, maxChars: 400 });
    for (const chunk of chunks) {
      expect(chunk.content.length).toBeLessThanOrEqual(400);
      expect(chunk.content).not.toMatch(/^\s|\s$/);
      expect(sliceOf(pages, chunk)).toBe(chunk.content);
    }
    const wordChunks = chunks.filter((chunk) => chunk.content.startsWith("word"));
    expect(wordChunks.map((chunk) => chunk.content).join(" ")).toBe(words);
    expect(
      chunks
        .filter((chunk) => chunk.content.startsWith("x"))
        .map((chunk) => chunk.content)
        .join(""),
    ).toBe(blob);
  });

  it("never lets a chunk cross a page, and heads sheets with their names", () => {
    const pages: ExtractedPage[] = [
      { page: 1, text: "Short first page." },
      { page: 2, text: "   \n\n  " },
      { page: 3, text: `# Part two\n\n${Array.from({ length: 40 }, (_, i) => sentence(i)).join(" ")}` },
      { page: 4, text: "| a |\n| --- |\n| 1 |", label: "Sheet1" },
    ];
    const chunks = chunkPages(pages, { targetChars: 400, maxChars: 600 });
    expect(new Set(chunks.map((chunk) => chunk.page))).toEqual(new Set([1, 3, 4]));
    for (const chunk of chunks) {
      const page = pages.find((candidate) => candidate.page === chunk.page) as ExtractedPage;
      expect(chunk.charEnd).toBeLessThanOrEqual(page.text.length);
      expect(sliceOf(pages, chunk)).toBe(chunk.content);
    }
    expect(chunks.map((chunk) => chunk.ordinal)).toEqual(chunks.map((_, index) => index));
    expect(chunks.filter((chunk) => chunk.page === 3).every((chunk) => chunk.heading === "Part two")).toBe(true);
    expect(chunks.at(-1)).toMatchObject({ page: 4, heading: "Sheet1", content: "| a |\n| --- |\n| 1 |" });
  });

  it("overlaps prose chunks of one section on a word boundary, when asked", () => {
    const text = `# A\n\n${Array.from({ length: 30 }, (_, i) => sentence(i)).join(" ")}\n\n# B\n\nOther section.`;
    const pages = [{ page: 1, text }];
    const plain = chunkPages(pages, { targetChars: 300, maxChars: 500 });
    const overlapped = chunkPages(pages, { targetChars: 300, maxChars: 500, overlapChars: 80 });
    expect(overlapped).toHaveLength(plain.length);
    overlapped.forEach((chunk, index) => {
      const before = plain[index] as Chunk;
      expect(chunk.charEnd).toBe(before.charEnd);
      expect(sliceOf(pages, chunk)).toBe(chunk.content);
      expect(chunk.content.length).toBeLessThanOrEqual(500);
      if (index === 0 || chunk.heading !== plain[index - 1]?.heading) expect(chunk).toEqual(before);
      else {
        expect(chunk.charStart).toBeLessThan(before.charStart);
        expect(before.charStart - chunk.charStart).toBeLessThanOrEqual(80);
        expect(text[chunk.charStart - 1]).toMatch(/\s/);
      }
    });
  });

  it("is deterministic and drops empty pages", () => {
    const pages = [
      { page: 1, text: "" },
      { page: 2, text: `# T\n\n${"Some words here. ".repeat(300)}` },
    ];
    expect(chunkPages(pages)).toEqual(chunkPages(structuredClone(pages)));
    expect(chunkPages([{ page: 1, text: " \n\t\n" }])).toEqual([]);
  });

  it("refuses options that cannot be met", () => {
    expect(() => chunkPages([], { targetChars: 0 })).toThrow(RangeError);
    expect(() => chunkPages([], { targetChars: 500, maxChars: 400 })).toThrow(RangeError);
    expect(() => chunkPages([], { targetChars: 500, overlapChars: 500 })).toThrow(RangeError);
  });
});

// Documents (for retrieval) and extraction (for the model) cut Markdown with the one chunker: a table is never
// cut inside a row, and every chunk that carries part of a table starts with the table's header row and
// separator, so each row is read under its column names; rows are not repeated (no overlap inside a table).
describe("the table rule documents and extraction share", () => {
  const header = "| SKU | Name | Price |\n| --- | --- | --- |";
  const rows = Array.from({ length: 80 }, (_, i) => `| sku-${i} | Widget number ${i} | $${i}.99 |`);
  const text = `# Price list\n\nEvery price is in dollars, taxes included.\n\n${header}\n${rows.join("\n")}\n\nPrices change monthly.`;
  const rowsIn = (chunk: string) => chunk.split("\n").filter((line) => /^\| sku-/.test(line));

  const cases: [string, string[]][] = [
    ["documents", chunkPages([{ page: 1, text }], { targetChars: 500, maxChars: 700 }).map((c) => c.content)],
    ["extraction", chunkText(text, { size: 700, overlap: 100 })],
  ];
  it.each(cases)("%s: whole rows only, the header on top of every chunk with rows, each row once", (_, chunks) => {
    const withRows = chunks.filter((chunk) => rowsIn(chunk).length > 0);
    expect(withRows.length).toBeGreaterThanOrEqual(4);
    for (const chunk of withRows) {
      expect(chunk.length).toBeLessThanOrEqual(700);
      const lines = chunk.split("\n");
      const top = lines.indexOf("| SKU | Name | Price |");
      expect(top).toBeGreaterThanOrEqual(0);
      expect(lines[top + 1]).toBe("| --- | --- | --- |");
      // Only whole rows of the page follow the header: none cut, none made up.
      for (const line of lines.slice(top + 2)) {
        if (line.startsWith("|")) expect(rows).toContain(line);
      }
    }
    expect(withRows.flatMap(rowsIn)).toEqual(rows);
    expect(chunks.at(-1)).toMatch(/Prices change monthly\.$/);
  });
});
