import Papa from "papaparse";
import { normaliseText } from "./text.js";

/** A table as rows of cells, its first row split off as the headers. */
export type Table = { headers: string[]; rows: string[][] };

/** One sheet of a workbook, in order. */
export type Sheet = Table & { name: string };

/**
 * Rows read from one sheet at most. SheetJS holds every cell of a sheet as an object, so a sheet of a million
 * rows would not fit in a Worker's 128 MB; past this the workbook is refused instead of truncated silently.
 */
export const MAX_SHEET_ROWS = 20_000;

/**
 * Parses CSV (or TSV: the delimiter is detected) into headers and rows. Quoted cells keep their commas, quotes
 * and line breaks; blank lines are skipped. Nothing is trimmed, so `Papa.unparse([headers, ...rows])` gives
 * the same table back.
 * @example
 * parseCsv('name,notes\nAda,"likes, commas"') // { headers: ["name", "notes"], rows: [["Ada", "likes, commas"]] }
 */
export function parseCsv(text: string): Table {
  const result = Papa.parse<string[]>(text.replace(/^\uFEFF/, ""), {
    header: false,
    skipEmptyLines: "greedy",
    dynamicTyping: false,
  });
  const [headers = [], ...rows] = result.data;
  return { headers, rows };
}

/** A cell as text: empty for nothing, else its string form. */
export const cellText = (value: unknown): string => (value === null || value === undefined ? "" : String(value));

/**
 * A table as a Markdown (GFM) table: one line per row, so the chunker can split it between rows and repeat the
 * header line. Pipes are escaped, line breaks inside a cell become `<br>`, short rows are padded, and an empty
 * header cell is named "Column N".
 * @example
 * renderMarkdownTable({ headers: ["a", "b"], rows: [["1", "2"]] }) // "| a | b |\n| --- | --- |\n| 1 | 2 |"
 */
export function renderMarkdownTable(table: Table): string {
  // A loop, not Math.max(...rows): spreading a CSV of a million rows would overflow the call stack.
  let width = table.headers.length;
  for (const row of table.rows) width = Math.max(width, row.length);
  if (width === 0) return "";
  const headers = Array.from({ length: width }, (_, i) => {
    const header = table.headers[i]?.trim();
    return header ? header : `Column ${i + 1}`;
  });
  const line = (cells: string[]) =>
    `| ${Array.from({ length: width }, (_, i) => escapeCell(cells[i] ?? "")).join(" | ")} |`;
  return [line(headers), `|${" --- |".repeat(width)}`, ...table.rows.map(line)].join("\n");
}

const escapeCell = (cell: string): string => normaliseText(cell).trim().replaceAll("|", "\\|").replace(/\n/g, "<br>");
