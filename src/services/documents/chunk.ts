import type { ExtractedPage } from "./extract/pages.js";

/**
 * A piece of a document sized for embedding and retrieval. `page.text.slice(charStart, charEnd)` is the part of
 * the page the chunk covers; `content` is that text, except that a table chunk after the first one of its table
 * starts with the table's header row (which sits earlier in the page).
 */
export type Chunk = {
  /** 0-based position in the document, across pages. */
  ordinal: number;
  /** The 1-based page the chunk comes from; a chunk never spans two pages. */
  page: number;
  charStart: number;
  charEnd: number;
  /** The nearest Markdown heading above the chunk on its page, else the page's label (a sheet name), else null. */
  heading: string | null;
  content: string;
};

export type ChunkOptions = {
  /** Paragraphs and table rows are packed into a chunk up to this many characters. Default 1200. */
  targetChars?: number;
  /** No chunk is longer; a longer paragraph is split at sentences, then lines, then words. Default 2000. */
  maxChars?: number;
  /**
   * Characters of the previous chunk repeated at the start of the next, within one section of prose (never
   * across a heading, and not for tables, whose header row already gives the context). Default 0.
   */
  overlapChars?: number;
};

export const DEFAULT_TARGET_CHARS = 1200;
export const DEFAULT_MAX_CHARS = 2000;

type Span = { start: number; end: number };

type Block =
  | (Span & { type: "heading"; text: string })
  | (Span & { type: "text"; code: boolean })
  | (Span & { type: "table"; headerEnd: number; rows: Span[] });

type Draft = Span & { heading: string | null; content: string; table: boolean; section: number };

type Limits = { target: number; max: number };

/** Where a span too long for one chunk may be cut, from the most to the least natural. */
type Level = "sentence" | "line" | "word";

const boundaries: Record<Level, RegExp> = {
  // After terminal punctuation (and closing quotes or brackets) followed by space, or after a CJK full stop.
  sentence: /[.!?…]+["'”’»)\]]*\s+|[。！？]+/g,
  line: /\n+/g,
  word: /\s+/g,
};

const proseLevels: Level[] = ["sentence", "line", "word"];
const codeLevels: Level[] = ["line", "word"];

const blankLine = /^\s*$/;
const headingLine = /^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const fenceOpen = /^ {0,3}(`{3,}|~{3,})/;
const tableRow = /^ {0,3}\|/;
const tableSeparator = /^ {0,3}\|(?:\s*:?-+:?\s*\|)*\s*:?-+:?\s*\|?\s*$/;

/**
 * Cuts pages into chunks along their structure. Markdown headings start a new chunk and are carried as
 * `heading`; paragraphs (separated by blank lines) are packed up to `targetChars`; a table too long for one
 * chunk is split between rows with its header row repeated at the top of each chunk; a paragraph longer than
 * `maxChars` is split at sentence, then line, then word boundaries; fenced code is kept whole or split between
 * lines. Chunks never cross pages, empty ones are dropped, and the same pages always give the same chunks.
 * APE's one Markdown chunker: documents, research sources and extraction (`extraction/llm-rows.ts`) all cut
 * with it, so a table reads the same everywhere.
 * @example
 * const chunks = chunkPages(await extractPages({ kind, bytes, ocr }), { targetChars: 1000 });
 * // [{ ordinal: 0, page: 1, charStart: 0, charEnd: 812, heading: "Introduction", content: "# Introduction\n\n…" }, …]
 */
export function chunkPages(pages: ExtractedPage[], options: ChunkOptions = {}): Chunk[] {
  const target = options.targetChars ?? DEFAULT_TARGET_CHARS;
  const max = options.maxChars ?? Math.max(DEFAULT_MAX_CHARS, target);
  const overlap = options.overlapChars ?? 0;
  if (!Number.isInteger(target) || target < 1) throw new RangeError("targetChars must be a positive integer");
  if (!Number.isInteger(max) || max < target) throw new RangeError("maxChars must be an integer ≥ targetChars");
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= target) {
    throw new RangeError("overlapChars must be an integer ≥ 0 and < targetChars");
  }

  const chunks: Chunk[] = [];
  for (const page of pages) {
    const drafts = chunkPage(page, { target, max });
    if (overlap > 0) addOverlap(page.text, drafts, overlap, max);
    for (const draft of drafts) {
      if (draft.content.trim() === "") continue;
      chunks.push({
        ordinal: chunks.length,
        page: page.page,
        charStart: draft.start,
        charEnd: draft.end,
        heading: draft.heading,
        content: draft.content,
      });
    }
  }
  return chunks;
}

function chunkPage(page: ExtractedPage, limits: Limits): Draft[] {
  const { text } = page;
  const drafts: Draft[] = [];
  let heading = page.label ?? null;
  let section = 0;
  /** The chunk being packed; `headingOnly` while it holds nothing but heading lines. */
  let current: (Span & { headingOnly: boolean }) | null = null;

  const push = (span: Span, content: string, table: boolean) =>
    drafts.push({ start: span.start, end: span.end, heading, content, table, section });

  const flush = () => {
    if (current) push(current, text.slice(current.start, current.end), false);
    current = null;
  };

  const addUnit = (unit: Span) => {
    // Headings alone make a poor chunk, so the text under them may fill it up to max rather than target.
    const room = current?.headingOnly ? limits.max : limits.target;
    if (current && unit.end - current.start <= room) {
      current.end = unit.end;
      current.headingOnly = false;
      return;
    }
    flush();
    current = { ...unit, headingOnly: false };
  };

  /** Takes the heading lines waiting for a body when they fit in front of a chunk that ends at `end`. */
  const takeHeadings = (end: number): number | null => {
    if (!current?.headingOnly || end - current.start > limits.max) return null;
    const start = current.start;
    current = null;
    return start;
  };

  const addTable = (block: Block & { type: "table" }) => {
    if (block.end - block.start <= limits.target) return addUnit(block);
    const header = text.slice(block.start, block.headerEnd);
    const prefix = header.length + 1;
    // A header so wide that repeating it would leave little room for rows: split the table line by line.
    if (prefix > limits.max / 2 || block.rows.length === 0) {
      for (const unit of splitSpan(text, block, limits, codeLevels)) addUnit(unit);
      return;
    }
    const groups = groupRows(text, block.rows, prefix, limits);
    groups.forEach((group, index) => {
      const contiguous = index === 0 && group.start === block.rows[0]?.start;
      if (contiguous) {
        // The first chunk covers the header where it stands (and the heading above it, when that fits).
        const start = takeHeadings(group.end) ?? block.start;
        flush();
        const span = { start, end: group.end };
        push(span, text.slice(span.start, span.end), true);
        return;
      }
      flush();
      push(group, `${header}\n${text.slice(group.start, group.end)}`, true);
    });
  };

  for (const block of parseBlocks(text)) {
    switch (block.type) {
      case "heading": {
        if (current && !current.headingOnly) flush();
        heading = block.text || null;
        section += 1;
        if (current && block.end - current.start <= limits.max) current.end = block.end;
        else {
          flush();
          current = { start: block.start, end: block.end, headingOnly: true };
        }
        break;
      }
      case "text": {
        const levels = block.code ? codeLevels : proseLevels;
        const units = block.end - block.start > limits.max ? splitSpan(text, block, limits, levels) : [block];
        for (const unit of units) addUnit(unit);
        break;
      }
      case "table":
        addTable(block);
        break;
    }
  }
  flush();
  return drafts;
}

/**
 * Rows packed into groups of at most `target` characters with the header in front; a row too long even alone
 * is split like prose into pieces that fit under `max` with the header.
 */
function groupRows(text: string, rows: Span[], prefix: number, limits: Limits): Span[] {
  const groups: Span[] = [];
  let group: Span | null = null;
  for (const row of rows) {
    if (prefix + row.end - row.start > limits.max) {
      if (group) groups.push(group);
      group = null;
      const room = limits.max - prefix;
      groups.push(...splitSpan(text, row, { max: room, target: Math.min(limits.target, room) }, proseLevels));
      continue;
    }
    if (group && prefix + row.end - group.start <= limits.target) group.end = row.end;
    else {
      if (group) groups.push(group);
      group = { ...row };
    }
  }
  if (group) groups.push(group);
  return groups;
}

/**
 * A span cut into pieces of at most `max` characters, packed up to `target`: at the first level's boundaries,
 * a piece still too long at the next level's, and as a last resort every `target` characters.
 */
function splitSpan(text: string, span: Span, limits: Limits, levels: Level[]): Span[] {
  if (span.end - span.start <= limits.max) return [span];
  const [level, ...rest] = levels;
  if (!level) return hardSplit(text, span, limits.target);
  const pieces = piecesAt(text, span, level);
  if (pieces.length <= 1) return splitSpan(text, span, limits, rest);

  const out: Span[] = [];
  let packed: Span | null = null;
  for (const piece of pieces) {
    if (piece.end - piece.start > limits.max) {
      if (packed) out.push(packed);
      packed = null;
      out.push(...splitSpan(text, piece, limits, rest));
      continue;
    }
    if (packed && piece.end - packed.start <= limits.target) packed.end = piece.end;
    else {
      if (packed) out.push(packed);
      packed = { ...piece };
    }
  }
  if (packed) out.push(packed);
  return out;
}

function piecesAt(text: string, span: Span, level: Level): Span[] {
  const slice = text.slice(span.start, span.end);
  const pieces: Span[] = [];
  let pieceStart = 0;
  for (const match of slice.matchAll(boundaries[level])) {
    const pieceEnd = match.index + match[0].trimEnd().length;
    if (pieceEnd > pieceStart) pieces.push(trimSpan(text, span.start + pieceStart, span.start + pieceEnd));
    pieceStart = match.index + match[0].length;
  }
  if (pieceStart < slice.length) pieces.push(trimSpan(text, span.start + pieceStart, span.end));
  return pieces.filter((piece) => piece.end > piece.start);
}

/** Every `size` characters, moving a cut that would split a surrogate pair one back. */
function hardSplit(text: string, span: Span, size: number): Span[] {
  const out: Span[] = [];
  let start = span.start;
  while (start < span.end) {
    let end = Math.min(start + size, span.end);
    if (end < span.end && end - 1 > start && isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
    const piece = trimSpan(text, start, end);
    if (piece.end > piece.start) out.push(piece);
    start = end;
  }
  return out;
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;

/**
 * The page as headings, paragraphs, fenced code and tables, each span trimmed of surrounding whitespace.
 * Blank lines end paragraphs; headings, fences and tables end them too, even without a blank line.
 */
function parseBlocks(text: string): Block[] {
  const lines = linesOf(text);
  const lineText = (index: number): string => {
    const line = lines[index];
    return line ? text.slice(line.start, line.end) : "";
  };
  const isTableStart = (index: number): boolean =>
    index + 1 < lines.length && tableRow.test(lineText(index)) && tableSeparator.test(lineText(index + 1));
  const startsBlock = (index: number): boolean => {
    const line = lineText(index);
    return blankLine.test(line) || fenceOpen.test(line) || headingLine.test(line) || isTableStart(index);
  };

  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as Span;
    const content = lineText(i);
    if (blankLine.test(content)) {
      i += 1;
      continue;
    }

    const fence = fenceOpen.exec(content);
    if (fence) {
      const marker = fence[1] ?? "```";
      const close = new RegExp(`^ {0,3}${marker[0] === "`" ? "`" : "~"}{${marker.length},}\\s*$`);
      let j = i + 1;
      while (j < lines.length && !close.test(lineText(j))) j += 1;
      const last = lines[Math.min(j, lines.length - 1)] as Span;
      blocks.push({ type: "text", code: true, ...trimSpan(text, line.start, last.end) });
      i = j + 1;
      continue;
    }

    const heading = headingLine.exec(content);
    if (heading) {
      blocks.push({ type: "heading", text: (heading[1] ?? "").trim(), ...trimSpan(text, line.start, line.end) });
      i += 1;
      continue;
    }

    if (isTableStart(i)) {
      const separator = lines[i + 1] as Span;
      const rows: Span[] = [];
      let j = i + 2;
      while (j < lines.length && tableRow.test(lineText(j))) {
        const row = lines[j] as Span;
        rows.push(trimSpan(text, row.start, row.end));
        j += 1;
      }
      const start = trimSpan(text, line.start, line.end).start;
      const headerEnd = trimSpan(text, separator.start, separator.end).end;
      blocks.push({ type: "table", start, headerEnd, end: rows.at(-1)?.end ?? headerEnd, rows });
      i = j;
      continue;
    }

    let j = i + 1;
    while (j < lines.length && !startsBlock(j)) j += 1;
    const last = lines[j - 1] as Span;
    blocks.push({ type: "text", code: false, ...trimSpan(text, line.start, last.end) });
    i = j;
  }
  return blocks;
}

/** The page's lines as spans that leave out the line feeds. */
function linesOf(text: string): Span[] {
  const lines: Span[] = [];
  let start = 0;
  for (;;) {
    const feed = text.indexOf("\n", start);
    if (feed === -1) {
      lines.push({ start, end: text.length });
      return lines;
    }
    lines.push({ start, end: feed });
    start = feed + 1;
  }
}

function trimSpan(text: string, start: number, end: number): Span {
  let from = start;
  let to = end;
  while (from < to && isSpace(text.charCodeAt(from))) from += 1;
  while (to > from && isSpace(text.charCodeAt(to - 1))) to -= 1;
  return { start: from, end: to };
}

const LINE_FEED = 10;
const whitespace = /\s/;
/** The same whitespace as the regular expressions' `\s`, for a UTF-16 code unit. */
const isSpace = (code: number): boolean => !Number.isNaN(code) && whitespace.test(String.fromCharCode(code));

/**
 * Moves the start of each prose chunk back into the one before it, by up to `overlap` characters, to the start
 * of a line when one is within reach and else to a word boundary, when both are prose of the same section;
 * the chunk never grows past `max`.
 */
function addOverlap(text: string, drafts: Draft[], overlap: number, max: number): void {
  for (let i = drafts.length - 1; i > 0; i -= 1) {
    const draft = drafts[i] as Draft;
    const previous = drafts[i - 1] as Draft;
    if (draft.table || previous.table || draft.section !== previous.section) continue;
    let start = Math.max(previous.start, draft.start - overlap, draft.end - max);
    // Start on a word: skip the rest of a word cut in the middle, then the space after it.
    if (start > previous.start && !isSpace(text.charCodeAt(start - 1))) {
      while (start < draft.start && !isSpace(text.charCodeAt(start))) start += 1;
    }
    while (start < draft.start && isSpace(text.charCodeAt(start))) start += 1;
    // A line that starts within reach (a list item, a table-like line) is repeated whole rather than its tail.
    const feed = text.charCodeAt(start - 1) === LINE_FEED ? -1 : text.indexOf("\n", start);
    if (feed !== -1) {
      let lineStart = feed + 1;
      while (lineStart < draft.start && isSpace(text.charCodeAt(lineStart))) lineStart += 1;
      if (lineStart < draft.start) start = lineStart;
    }
    if (start >= draft.start) continue;
    draft.start = start;
    draft.content = text.slice(start, draft.end);
  }
}
