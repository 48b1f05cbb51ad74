// SheetJS is about a megabyte of code: it lives in a module of its own, imported only when a workbook is read
// (pages.ts), so nothing else pays for loading it.
import * as XLSX from "xlsx";
import { type ArchiveLimits, DEFAULT_ARCHIVE_LIMITS, measureArchive } from "./archive.js";
import { DocumentError, describeError } from "./errors.js";
import { cellText, MAX_SHEET_ROWS, type Sheet } from "./tabular.js";

/**
 * Reads every sheet of an XLSX workbook as headers and rows of display text (what the cell shows, dates and
 * numbers formatted). Formulas are never evaluated: SheetJS reads the value the file cached for each. Dense
 * mode and skipping styles, formats, HTML and formulas keep memory near the size of the values. SheetJS
 * inflates every entry of the ZIP in full, so the archive is measured first (`measureArchive`): a workbook
 * that would inflate past `limits` fails with `ARCHIVE_TOO_LARGE` before SheetJS sees it.
 * @example
 * const [first] = readWorkbook(bytes); // { name: "Sales", headers: ["Region", "Q1"], rows: [["EU", "12"]] }
 */
export function readWorkbook(bytes: Uint8Array, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Sheet[] {
  measureArchive(bytes, limits);
  let workbook: XLSX.WorkBook;
  try {
    workbook = XLSX.read(bytes, {
      type: "array",
      dense: true,
      sheetRows: MAX_SHEET_ROWS + 1,
      cellFormula: false,
      cellHTML: false,
      cellNF: false,
      cellStyles: false,
      cellDates: false,
      bookVBA: false,
      bookFiles: false,
      bookDeps: false,
      WTF: false,
    });
  } catch (error) {
    throw new DocumentError("CORRUPT_DOCUMENT", `The spreadsheet cannot be read: ${describeError(error)}.`, false, {
      cause: error,
    });
  }
  return workbook.SheetNames.map((name) => {
    const sheet = workbook.Sheets[name];
    if (!sheet) return { name, headers: [], rows: [] };
    // With sheetRows set, SheetJS keeps the sheet's real extent in !fullref when it had to stop early.
    const full = sheet["!fullref"] ?? sheet["!ref"];
    if (full && XLSX.utils.decode_range(full).e.r + 1 > MAX_SHEET_ROWS) {
      throw new DocumentError(
        "DOCUMENT_TOO_LARGE",
        `Sheet "${name}" has more than ${MAX_SHEET_ROWS} rows; split the workbook or export the sheet as CSV.`,
      );
    }
    const cells = XLSX.utils.sheet_to_json<unknown[]>(sheet, { header: 1, raw: false, defval: "", blankrows: false });
    const [headers = [], ...rows] = cells.map((row) => row.map(cellText));
    return { name, headers, rows };
  });
}
