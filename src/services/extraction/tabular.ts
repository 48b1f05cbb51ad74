// node-html-parser is node-html-markdown's parser (already in the bundle); it is imported here directly for its
// DOM. It is not a spec parser, which is why tables are read by a walker that applies HTML's implied end tags
// itself rather than trusting the tree's nesting (see `readTables`).
import { HTMLElement, type Node, parse, TextNode } from "node-html-parser";
import type { Table } from "../documents/extract/tabular.js";

export type { Table } from "../documents/extract/tabular.js";

/** A column as header mapping sees it: its name, type and, when given, what it means. */
export type MappableColumn = { name: string; type: string; description?: string };

/** Which header each schema column was matched to, the columns left without one, and how well they matched. */
export type HeaderMapping = {
  /** Column name → index of its header. */
  mapping: Record<string, number>;
  /** Columns no header matched, in schema order. */
  unmapped: string[];
  /** The mean match score over every column (an unmapped column scores 0): 1 when every header is exact. */
  confidence: number;
};

// ---------------------------------------------------------------------------------------------------------------
// HTML tables
// ---------------------------------------------------------------------------------------------------------------

/** A span larger than this is a typo or an attack (`colspan=100000`); browsers cap colspan at 1000 as well. */
const MAX_SPAN = 1000;
/**
 * Columns read from a table at most: a schema has at most 100, and a grid of thousands of rows by a thousand
 * spanned columns would not fit in a Worker's memory.
 */
const MAX_TABLE_COLUMNS = 256;

/** Elements whose text is never a cell's. */
const SKIPPED = new Set(["script", "style", "noscript", "template", "head", "caption", "svg", "math"]);

/** Elements that end a line of text: their text is kept apart from its neighbours' by a space. */
const BLOCKS = new Set([
  "address",
  "article",
  "aside",
  "blockquote",
  "br",
  "dd",
  "div",
  "dl",
  "dt",
  "figcaption",
  "figure",
  "footer",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "header",
  "hr",
  "li",
  "ol",
  "p",
  "pre",
  "section",
  "ul",
]);

type Cell = { parts: string[]; header: boolean; colspan: number; rowspan: number };
type Row = { cells: Cell[]; head: boolean };
type Builder = {
  /** Inside another table's cell: read (so its cells don't leak into the outer one) and then dropped. */
  nested: boolean;
  rows: Row[];
  row: { value: Row; node: HTMLElement | null } | null;
  cell: { value: Cell; node: HTMLElement } | null;
  head: boolean;
};

const spanOf = (element: HTMLElement, name: string) => {
  const value = Number.parseInt(element.getAttribute(name) ?? "1", 10);
  // rowspan=0 means "to the end of the section" in HTML; read as 1 here, which is what most pages mean by it.
  return Number.isFinite(value) && value >= 1 ? Math.min(value, MAX_SPAN) : 1;
};

/**
 * An element the parser never saw closed. node-html-parser leaves such an element open, so everything after it
 * (the rest of the cell, row and often the page) becomes its children; its range then ends where its start tag
 * does, before its first child.
 */
const unclosed = (element: HTMLElement) => {
  const first = element.childNodes[0];
  return first !== undefined && element.range[1] <= first.range[0];
};

/**
 * Walks the parsed page in document order and builds its tables. HTML lets a page leave out `</td>`, `</th>`,
 * `</tr>`, `</thead>` and `</tbody>` (minifiers do), and node-html-parser then nests a row inside the cell
 * before it; so a cell or row ends when the next one starts, as in a browser, not only where the tree says.
 * A table met inside a cell is nested and ignored; one met where no cell is open (or inside an element that
 * was never closed, which swallowed the end of the table) starts a new table, ending the one before.
 */
function readTables(root: HTMLElement): Builder[] {
  const found: Builder[] = [];
  const stack: Builder[] = [];
  const current = () => stack[stack.length - 1];

  const closeCell = (table: Builder) => {
    table.cell = null;
  };
  const closeRow = (table: Builder) => {
    closeCell(table);
    table.row = null;
  };
  const openRow = (table: Builder, node: HTMLElement | null) => {
    closeRow(table);
    const row: Row = { cells: [], head: table.head };
    table.rows.push(row);
    table.row = { value: row, node };
  };
  const addText = (text: string) => {
    const cell = current()?.cell;
    if (cell) cell.value.parts.push(text);
  };

  // Depth-first in document order, with a stack of steps instead of recursion: a page may nest elements
  // thousands deep (every unclosed tag nests what follows), which would overflow the call stack.
  type Step = { node: Node; swallowed: boolean } | { exit: () => void };
  const steps: Step[] = [{ node: root, swallowed: false }];
  const enter = (node: HTMLElement, swallowed: boolean, exit?: () => void) => {
    if (exit) steps.push({ exit });
    for (let i = node.childNodes.length - 1; i >= 0; i -= 1) {
      const child = node.childNodes[i];
      if (child) steps.push({ node: child, swallowed });
    }
  };
  for (let step = steps.pop(); step !== undefined; step = steps.pop()) {
    if ("exit" in step) {
      step.exit();
      continue;
    }
    const { node, swallowed } = step;
    if (node instanceof TextNode) {
      addText(node.text);
      continue;
    }
    if (!(node instanceof HTMLElement)) continue;
    const tag = node.rawTagName?.toLowerCase() ?? "";
    if (SKIPPED.has(tag)) continue;
    const table = current();

    if (tag === "table") {
      // Where no cell is open (or the cell was swallowed by an element never closed), the table before has
      // ended; inside an open cell, this one is nested.
      if (table && (table.cell === null || swallowed)) stack.pop();
      const nested = stack.length > 0;
      const builder: Builder = { nested, rows: [], row: null, cell: null, head: false };
      if (!nested) found.push(builder);
      stack.push(builder);
      enter(node, false, () => {
        if (current() === builder) stack.pop();
      });
      continue;
    }
    if (!table) {
      enter(node, false);
      continue;
    }
    switch (tag) {
      case "thead":
      case "tbody":
      case "tfoot": {
        closeRow(table);
        table.head = tag === "thead";
        enter(node, false, () => {
          table.head = false;
        });
        break;
      }
      case "tr": {
        openRow(table, node);
        enter(node, false, () => {
          if (table.row?.node === node) closeRow(table);
        });
        break;
      }
      case "td":
      case "th": {
        if (!table.row) openRow(table, null);
        closeCell(table);
        const cell: Cell = {
          parts: [],
          header: tag === "th",
          colspan: spanOf(node, "colspan"),
          rowspan: spanOf(node, "rowspan"),
        };
        table.row?.value.cells.push(cell);
        table.cell = { value: cell, node };
        enter(node, false, () => {
          if (table.cell?.node === node) closeCell(table);
        });
        break;
      }
      default: {
        const block = BLOCKS.has(tag);
        if (block) addText(" ");
        enter(node, swallowed || unclosed(node), block ? () => addText(" ") : undefined);
      }
    }
  }
  return found;
}

const cellText = (cell: Cell) => cell.parts.join("").replace(/\s+/g, " ").trim();

/** Lays rows out on a grid: a cell spanning columns or rows repeats its text in each slot it covers. */
function layOut(rows: Row[]) {
  const grid: Array<Array<{ text: string; header: boolean } | undefined>> = rows.map(() => []);
  rows.forEach((row, r) => {
    let column = 0;
    for (const cell of row.cells) {
      while (grid[r]?.[column] !== undefined) column += 1;
      const slot = { text: cellText(cell), header: cell.header };
      const lastRow = Math.min(rows.length, r + cell.rowspan);
      const lastColumn = Math.min(MAX_TABLE_COLUMNS, column + cell.colspan);
      for (let y = r; y < lastRow; y += 1) {
        for (let x = column; x < lastColumn; x += 1) {
          const line = grid[y];
          if (line && line[x] === undefined) line[x] = slot;
        }
      }
      column += cell.colspan;
    }
  });
  return grid;
}

/**
 * Every `<table>` of a page as headers and rows of text, in document order. The header is the table's `<thead>`
 * rows or its leading rows of `<th>` cells (several such rows are joined per column, `Price` over `EUR` →
 * `Price EUR`), else its first row. `colspan` and `rowspan` repeat a cell's text in each column and row it
 * covers; text is trimmed with whitespace collapsed; tables inside a cell are ignored (and so is their text);
 * rows with no text and repeats of the header row are dropped, and so are tables without a cell.
 * @example
 * tablesFromHtml("<table><tr><th>Name</th><th>Price</th></tr><tr><td>Wrench</td><td>$84</td></tr></table>");
 * // [{ headers: ["Name", "Price"], rows: [["Wrench", "$84"]] }]
 */
export function tablesFromHtml(html: string): Table[] {
  // parseNoneClosedTags keeps an element the page never closed where it is (with what follows inside it)
  // instead of moving its children to the end of its parent, so document order survives for the walker.
  const root = parse(html, { lowerCaseTagName: true, comment: false, parseNoneClosedTags: true });
  const tables: Table[] = [];
  for (const builder of readTables(root)) {
    const rows = builder.rows.filter((row) => row.cells.length > 0);
    if (rows.length === 0) continue;
    const grid = layOut(rows);
    // A loop, not Math.max(...grid): spreading thousands of rows can overflow the call stack.
    let width = 0;
    for (const line of grid) width = Math.max(width, line.length);
    const texts = grid.map((line) => Array.from({ length: width }, (_, x) => line[x]?.text ?? ""));
    const isHeading = (r: number) =>
      rows[r]?.head === true || (grid[r] ?? []).every((slot) => slot === undefined || slot.header);
    let headerRows = 0;
    while (headerRows < rows.length && isHeading(headerRows)) headerRows += 1;
    if (headerRows === 0 || headerRows === rows.length) headerRows = Math.min(1, rows.length);
    // Above other header rows, a row of one cell across the table is its title, not part of each header.
    const titles = (r: number) => r < headerRows - 1 && width > 1 && new Set(texts[r]).size === 1;
    const headers = Array.from({ length: width }, (_, x) => {
      const words: string[] = [];
      for (let r = 0; r < headerRows; r += 1) {
        if (titles(r)) continue;
        const text = texts[r]?.[x] ?? "";
        if (text && words[words.length - 1] !== text) words.push(text);
      }
      return words.join(" ");
    });
    const body = texts.slice(headerRows).filter((line, i) => {
      if (line.every((text) => !text)) return false;
      const repeatsHeader = isHeading(headerRows + i) && line.every((text, x) => text === headers[x]);
      return !repeatsHeader;
    });
    tables.push({ headers, rows: body });
  }
  return tables;
}

// ---------------------------------------------------------------------------------------------------------------
// Mapping headers to a schema
// ---------------------------------------------------------------------------------------------------------------

/** Below this a header is not the column's, however few others there are. */
const MIN_SCORE = 0.3;

/** Words that say nothing about what a column holds. */
const STOP_WORDS = new Set(
  ["a an and are as at be by for from has have in into is it its", "of on or per the their this to was were which with"]
    .join(" ")
    .split(" "),
);

/** Abbreviations read as the word they stand for. */
const ABBREVIATIONS: Record<string, string> = {
  "#": "number",
  no: "number",
  nr: "number",
  num: "number",
  qty: "quantity",
  amt: "amount",
  desc: "description",
  descr: "description",
  pct: "percent",
  "%": "percent",
  addr: "address",
  tel: "phone",
  link: "url",
  href: "url",
  website: "url",
  dob: "birthdate",
};

/** Words a header often carries for a value of each type ("Unit Price (EUR)", "Listed on (date)"). */
const TYPE_WORDS: Record<string, string[]> = {
  currency: ["price", "cost", "amount", "eur", "usd", "gbp", "chf", "jpy", "$", "€", "£"],
  date: ["date", "day"],
  datetime: ["date", "time", "timestamp"],
  url: ["url", "web"],
  email: ["email"],
  integer: ["number", "count"],
  number: ["number"],
};

const singular = (word: string) => {
  if (word.length <= 3 || /(ss|us|is)$/.test(word)) return word;
  if (word.endsWith("ies")) return `${word.slice(0, -3)}y`;
  if (/(ses|xes|zes|ches|shes)$/.test(word)) return word.slice(0, -2);
  return word.endsWith("s") ? word.slice(0, -1) : word;
};

/** A name or header as words: camelCase split, accents and case dropped, `_`, `-` and punctuation as spaces. */
const wordsOf = (text: string): string[] =>
  text
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[#%$€£]/g, " $& ")
    .split(/[^\p{L}\p{N}#%$€£]+/u)
    .filter(Boolean)
    .map((word) => ABBREVIATIONS[word] ?? singular(word));

/** The words that carry meaning; all of them when every one is a stop word ("In", "Of"). */
const contentWords = (words: string[]) => {
  const content = words.filter((word) => !STOP_WORDS.has(word));
  return new Set(content.length > 0 ? content : words);
};

/** How well two words match: the same word, or one a prefix of the other of three letters or more ("eur"). */
const wordMatch = (a: string, b: string) => {
  if (a === b) return 1;
  const [short, long] = a.length < b.length ? [a, b] : [b, a];
  return short.length >= 3 && long.startsWith(short) ? 0.8 : 0;
};

const bestMatch = (word: string, among: Iterable<string>) => {
  let best = 0;
  for (const other of among) best = Math.max(best, wordMatch(word, other));
  return best;
};

type ColumnWords = { exact: string; compact: string; name: Set<string>; described: Set<string>; typed: Set<string> };

const columnWords = (column: MappableColumn): ColumnWords => {
  const words = wordsOf(column.name);
  const name = contentWords(words);
  const others = (list: string[]) => new Set(list.filter((word) => !STOP_WORDS.has(word) && !name.has(word)));
  return {
    exact: words.join(" "),
    compact: words.join(""),
    name,
    described: others(wordsOf(column.description ?? "")),
    typed: others(TYPE_WORDS[column.type] ?? []),
  };
};

/**
 * How well a header names a column, 0 to 1: 1 when the same after normalising, 0.95 when the same written
 * together (`in_stock` / `Instock`), else from shared words: mostly how many of the column's name words the
 * header has, and some for how much of the header is the column's name or description words (half for words
 * that go with its type: "EUR" for a currency). A header only the description names scores 0.35, enough.
 */
const scoreHeader = (column: ColumnWords, header: string) => {
  const words = wordsOf(header);
  if (words.length === 0) return 0;
  if (words.join(" ") === column.exact) return 1;
  if (words.join("") === column.compact) return 0.95;
  const headerWords = contentWords(words);
  let nameHits = 0;
  for (const word of column.name) nameHits += bestMatch(word, headerWords);
  let covered = 0;
  for (const word of headerWords) {
    covered += Math.max(
      bestMatch(word, column.name),
      bestMatch(word, column.described),
      0.5 * bestMatch(word, column.typed),
    );
  }
  return 0.55 * (nameHits / Math.max(1, column.name.size)) + 0.35 * (covered / headerWords.size);
};

/**
 * Matches each schema column to one of a table's headers: exact after normalising (case, spaces, `_`, `-`,
 * punctuation, a plural s), else by the words they share with the column's name and description (`price` ↔
 * `Unit Price (EUR)`). Best matches are taken first and each header serves one column; between equal matches,
 * the pair with fewer other candidates goes first, so `company` takes "Company name" and leaves "Product name"
 * to `name`.
 * @example
 * mapHeaders(["Product name", "Unit Price (EUR)"], [{ name: "product", type: "string" }, { name: "price", type: "currency" }]);
 * // { mapping: { product: 0, price: 1 }, unmapped: [], confidence: 0.7… }
 */
export function mapHeaders(headers: string[], columns: MappableColumn[]): HeaderMapping {
  const pairs: Array<{ column: number; header: number; score: number }> = [];
  columns.forEach((column, c) => {
    const words = columnWords(column);
    headers.forEach((header, h) => {
      const score = scoreHeader(words, header);
      if (score >= MIN_SCORE) pairs.push({ column: c, header: h, score });
    });
  });
  const perColumn = new Map<number, number>();
  const perHeader = new Map<number, number>();
  for (const pair of pairs) {
    perColumn.set(pair.column, (perColumn.get(pair.column) ?? 0) + 1);
    perHeader.set(pair.header, (perHeader.get(pair.header) ?? 0) + 1);
  }
  const scarcity = (pair: (typeof pairs)[number]) =>
    (perColumn.get(pair.column) ?? 0) + (perHeader.get(pair.header) ?? 0);
  pairs.sort((a, b) => b.score - a.score || scarcity(a) - scarcity(b) || a.column - b.column || a.header - b.header);
  const chosen = new Map<number, { header: number; score: number }>();
  const usedHeaders = new Set<number>();
  for (const pair of pairs) {
    if (chosen.has(pair.column) || usedHeaders.has(pair.header)) continue;
    chosen.set(pair.column, pair);
    usedHeaders.add(pair.header);
  }
  const mapping: Record<string, number> = {};
  const unmapped: string[] = [];
  let total = 0;
  columns.forEach((column, c) => {
    const match = chosen.get(c);
    if (!match) {
      unmapped.push(column.name);
      return;
    }
    mapping[column.name] = match.header;
    total += match.score;
  });
  return { mapping, unmapped, confidence: columns.length === 0 ? 0 : total / columns.length };
}

/**
 * Whether a table can be read by code against the schema: every required column has a header, and at least
 * one column does (a schema with no required columns does not map to a table that shares nothing with it).
 * @example
 * mapsToSchema(mapHeaders(table.headers, columns), columns); // true → rowsFromTable, no model
 */
export function mapsToSchema(result: HeaderMapping, columns: Array<{ name: string; required?: boolean }>): boolean {
  if (Object.keys(result.mapping).length === 0) return false;
  return columns.every((column) => !column.required || result.mapping[column.name] !== undefined);
}

/**
 * A table's rows as objects keyed by column name, each the raw text of its mapped cell (validateRows normalises
 * them). Unmapped columns are left out, so they read as blank; rows blank in every mapped column are dropped.
 * @example
 * rowsFromTable({ headers: ["Name", "Price"], rows: [["Wrench", "$84"]] }, { product: 0, price: 1 }, columns);
 * // [{ product: "Wrench", price: "$84" }]
 */
export function rowsFromTable(
  table: Table,
  mapping: Record<string, number>,
  columns: Array<{ name: string }>,
): Array<Record<string, string>> {
  const mapped = columns.flatMap((column) => {
    const index = mapping[column.name];
    return index === undefined ? [] : [{ name: column.name, index }];
  });
  const rows: Array<Record<string, string>> = [];
  for (const cells of table.rows) {
    const row: Record<string, string> = {};
    let blank = true;
    for (const { name, index } of mapped) {
      const value = cells[index] ?? "";
      if (value.trim()) blank = false;
      row[name] = value;
    }
    if (!blank) rows.push(row);
  }
  return rows;
}
