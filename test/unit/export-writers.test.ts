import fc from "fast-check";
import { unzipSync } from "fflate";
import Papa from "papaparse";
import { describe, expect, it } from "vitest";
import * as XLSX from "xlsx";
import {
  crc32,
  type ExportColumn,
  type ExportRow,
  exportCsv,
  exportJson,
  exportNdjson,
  exportRows,
  exportXlsx,
  type RowExport,
  XLSX_MAX_CELL_CHARS,
} from "../../src/services/extraction/export-writers.js";

// --- Fixtures --------------------------------------------------------------------------------------------

const columns: ExportColumn[] = [
  { name: "name", type: "string" },
  { name: "amount", type: "number" },
  { name: "count", type: "integer" },
  { name: "price", type: "currency" },
  { name: "active", type: "boolean" },
  { name: "joined", type: "date" },
  { name: "note", type: "string" },
];

const ok = (values: Record<string, unknown>): ExportRow => ({ values, valid: true, errors: [] });

/** Rows with everything a cell can hold awkwardly, and text a spreadsheet would run as a formula. */
const awkward: ExportRow[] = [
  ok({
    name: "Zoë Ångström 日本語 😀",
    amount: -12.5,
    count: 3,
    price: -0.99,
    active: true,
    joined: "2024-03-05",
    note: 'She said "hi", then left',
  }),
  ok({ name: "multi\nline", amount: 0, count: -7, price: 1299, active: false, joined: null, note: "a, b\r\nc" }),
  // Empty and missing values; a negative number that arrives as text in numeric columns.
  ok({ name: "", amount: "-12.5", price: "-3", note: "  padded  " }),
  ok({ name: "=SUM(A1:A2)", amount: 1.5e-7, count: 0, note: "@cmd" }),
  ok({ name: "-2+3", amount: "=1+1", note: "+44 20 7946 0000" }),
  ok({ name: "\tlead tab", note: "\rlead cr" }),
  ok({ name: "-5", count: -42, note: "ends with a space " }),
];

/** What a CSV reader gets back: every cell as text, formulas defused with `'`, numbers as written. */
const awkwardCsv = [
  ["name", "amount", "count", "price", "active", "joined", "note"],
  ["Zoë Ångström 日本語 😀", "-12.5", "3", "-0.99", "true", "2024-03-05", 'She said "hi", then left'],
  ["multi\nline", "0", "-7", "1299", "false", "", "a, b\r\nc"],
  ["", "-12.5", "", "-3", "", "", "  padded  "],
  ["'=SUM(A1:A2)", "1.5e-7", "0", "", "", "", "'@cmd"],
  ["'-2+3", "'=1+1", "", "", "", "", "'+44 20 7946 0000"],
  ["'\tlead tab", "", "", "", "", "", "'\rlead cr"],
  ["'-5", "", "-42", "", "", "", "ends with a space "],
];

/** What JSON gives back: the values as they were, every column a key, null where there was none. */
const awkwardObjects = awkward.map(({ values }) =>
  Object.fromEntries(columns.map(({ name }) => [name, values[name] ?? null])),
);

/**
 * What SheetJS reads back: typed numbers and booleans, text as it was (inline strings are never formulas, so
 * nothing is prefixed), empty cells null. SheetJS itself reads CRLF in a cell as LF.
 */
const awkwardSheet = [
  ["name", "amount", "count", "price", "active", "joined", "note"],
  ["Zoë Ångström 日本語 😀", -12.5, 3, -0.99, true, "2024-03-05", 'She said "hi", then left'],
  ["multi\nline", 0, -7, 1299, false, null, "a, b\nc"],
  [null, "-12.5", null, "-3", null, null, "  padded  "],
  ["=SUM(A1:A2)", 1.5e-7, 0, null, null, null, "@cmd"],
  ["-2+3", "=1+1", null, null, null, null, "+44 20 7946 0000"],
  ["\tlead tab", null, null, null, null, null, "\rlead cr"],
  ["-5", null, -42, null, null, null, "ends with a space "],
];

/** Rows as they come from storage: a page at a time, each page after an await. */
async function* paged(rows: ExportRow[], pageSize = 3) {
  for (let i = 0; i < rows.length; i += pageSize) {
    await Promise.resolve();
    yield* rows.slice(i, i + pageSize);
  }
}

const readAll = async (stream: ReadableStream<Uint8Array>) => {
  const chunks: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
  }
  const bytes = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { bytes, chunks: chunks.length, text: new TextDecoder().decode(bytes) };
};

const parseCsv = (text: string) => Papa.parse<string[]>(text, { header: false, skipEmptyLines: false }).data;

const readSheets = (bytes: Uint8Array) => {
  const workbook = XLSX.read(bytes, { type: "array" });
  return workbook.SheetNames.map((name) => {
    const sheet = workbook.Sheets[name]!;
    return {
      name,
      sheet,
      rows: XLSX.utils.sheet_to_json<unknown[]>(sheet, { header: 1, defval: null, raw: true, blankrows: true }),
    };
  });
};

// --- CSV -------------------------------------------------------------------------------------------------

describe("CSV export", () => {
  it("reads back cell for cell: unicode, quotes, commas, line breaks, empty values and numbers", async () => {
    const { text } = await readAll(exportCsv({ columns, rows: paged(awkward) }).stream);
    expect(parseCsv(text).slice(0, -1)).toEqual(awkwardCsv);
    // RFC 4180: CRLF after every record (the trailing one leaves papaparse an empty last row), no BOM.
    expect(text.endsWith('"ends with a space "\r\n')).toBe(true);
    expect(text.startsWith("name,amount,count,price,active,joined,note\r\n")).toBe(true);
  });

  it("defuses formulas with a leading quote but leaves numbers in numeric columns as numbers", async () => {
    const { text } = await readAll(exportCsv({ columns, rows: paged(awkward) }).stream);
    // -12.5 as a number, "-12.5" as text in a number column, -42 in an integer one, "-3" in a currency one.
    expect(text).toContain("\r\nZoë Ångström 日本語 😀,-12.5,3,-0.99,true,");
    expect(text).toContain('\r\n,-12.5,,-3,,,"  padded  "\r\n');
    expect(text).toContain('\r\n\'-5,,-42,,,,"ends with a space "\r\n');
    // "-5" in a text column and "=1+1" in a number column are not plain numbers there: defused.
    expect(text).toContain("\r\n'-2+3,'=1+1,,,,,'+44 20 7946 0000\r\n");
    expect(text).toContain("\r\n'=SUM(A1:A2),1.5e-7,0,,,,'@cmd\r\n");
  });

  it("quotes exactly as papaparse's unparse does", async () => {
    const { text } = await readAll(exportCsv({ columns, rows: paged(awkward) }).stream);
    expect(text).toBe(`${Papa.unparse(awkwardCsv, { newline: "\r\n" })}\r\n`);
  });

  it("matches papaparse and reads back for any text", async () => {
    const textColumns = [
      { name: "a", type: "string" },
      { name: "b", type: "number" },
    ];
    // The rule, restated: formula starts are defused, but a plain number in a number column is data.
    const defused = (text: string) => (/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.string({ unit: "binary" }), fc.string()), { maxLength: 20 }),
        async (cells) => {
          const rows = cells.map(([a, b]) => ok({ a, b }));
          const { text } = await readAll(exportCsv({ columns: textColumns, rows, batchSize: 7 }).stream);
          const expected = [
            ["a", "b"],
            ...cells.map(([a, b]) => [defused(a), /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(b) ? b : defused(b)]),
          ];
          expect(text).toBe(`${Papa.unparse(expected, { newline: "\r\n" })}\r\n`);
          expect(parseCsv(text).slice(0, -1)).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("writes dates as ISO 8601, other objects as JSON, and NaN as nothing", async () => {
    const rows = [ok({ name: new Date(Date.UTC(2024, 2, 5, 14, 30)), note: { tags: ["a", "b"] }, amount: Number.NaN })];
    const { text } = await readAll(exportCsv({ columns, rows }).stream);
    expect(parseCsv(text)[1]).toEqual(["2024-03-05T14:30:00.000Z", "", "", "", "", "", '{"tags":["a","b"]}']);
  });

  it("adds a byte order mark when asked", async () => {
    const { bytes } = await readAll(exportCsv({ columns, rows: paged(awkward.slice(0, 1)), bom: true }).stream);
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  });

  it("writes the header alone for no rows, and quotes an empty cell when it is the only column", async () => {
    expect((await readAll(exportCsv({ columns, rows: paged([]) }).stream)).text).toBe(
      "name,amount,count,price,active,joined,note\r\n",
    );
    const single = exportCsv({
      columns: [{ name: "only", type: "string" }],
      rows: [ok({ only: "" }), ok({ only: "x" })],
    });
    expect((await readAll(single.stream)).text).toBe('only\r\n""\r\nx\r\n');
  });
});

// --- JSON and NDJSON -------------------------------------------------------------------------------------

describe("JSON and NDJSON export", () => {
  it("streams one array, an object a line, that parses back to the same values", async () => {
    const { text } = await readAll(exportJson({ columns, rows: paged(awkward) }).stream);
    expect(JSON.parse(text)).toEqual(awkwardObjects);
    expect(text.startsWith("[\n{")).toBe(true);
    expect(text.endsWith("}\n]\n")).toBe(true);
    expect(text.split("\n")).toHaveLength(awkward.length + 3);
    // Key order follows the columns.
    expect(Object.keys(JSON.parse(text)[2])).toEqual(columns.map((column) => column.name));
  });

  it("writes an empty array for no rows", async () => {
    expect(JSON.parse((await readAll(exportJson({ columns, rows: paged([]) }).stream)).text)).toEqual([]);
  });

  it("streams NDJSON as one object per line", async () => {
    const { text } = await readAll(exportNdjson({ columns, rows: paged(awkward) }).stream);
    const lines = text.split("\n");
    expect(lines.pop()).toBe("");
    expect(lines.map((line) => JSON.parse(line))).toEqual(awkwardObjects);
    expect((await readAll(exportNdjson({ columns, rows: paged([]) }).stream)).text).toBe("");
  });
});

// --- XLSX ------------------------------------------------------------------------------------------------

describe("XLSX export", () => {
  it("opens in SheetJS with the same rows, numbers and booleans typed, no formulas", async () => {
    const { bytes } = await readAll(exportXlsx({ columns, rows: paged(awkward) }).stream);
    const [sheet, ...others] = readSheets(bytes);
    expect(others).toEqual([]);
    expect(sheet?.name).toBe("Rows");
    expect(sheet?.rows).toEqual(awkwardSheet);
    for (const [ref, cell] of Object.entries(sheet!.sheet)) {
      if (!ref.startsWith("!")) expect(cell).not.toHaveProperty("f");
    }
    expect(sheet?.sheet.A4).toBeUndefined(); // an empty string writes no cell
    expect(sheet?.sheet.B2).toMatchObject({ t: "n", v: -12.5 });
    expect(sheet?.sheet.E2).toMatchObject({ t: "b", v: true });
    expect(sheet?.sheet.B4).toMatchObject({ t: "s", v: "-12.5" });
  });

  it("is a ZIP of the OOXML parts, each streamed with a data descriptor", async () => {
    const { bytes } = await readAll(exportXlsx({ columns, rows: paged(awkward) }).stream);
    const parts = unzipSync(bytes);
    expect(Object.keys(parts).sort()).toEqual([
      "[Content_Types].xml",
      "_rels/.rels",
      "xl/_rels/workbook.xml.rels",
      "xl/styles.xml",
      "xl/workbook.xml",
      "xl/worksheets/sheet1.xml",
    ]);
    // Every local file header has bit 3 set: sizes and CRC follow the data.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let headers = 0;
    for (let at = 0; at + 4 <= bytes.length; at++) {
      if (view.getUint32(at, true) !== 0x04034b50) continue;
      headers++;
      expect(view.getUint16(at + 6, true) & 8).toBe(8);
    }
    expect(headers).toBeGreaterThanOrEqual(6);
    const sheet = new TextDecoder().decode(parts["xl/worksheets/sheet1.xml"]);
    expect(sheet).toContain(
      '<row r="2"><c t="inlineStr"><is><t>Zoë Ångström 日本語 😀</t></is></c><c t="n"><v>-12.5</v></c>' +
        '<c t="n"><v>3</v></c><c t="n"><v>-0.99</v></c><c t="b"><v>1</v></c>',
    );
    // A cell after a gap says where it is; one right after another goes in the next column.
    expect(sheet).toContain(
      '<row r="4"><c r="B4" t="inlineStr"><is><t>-12.5</t></is></c><c r="D4" t="inlineStr"><is><t>-3</t></is></c>' +
        '<c r="G4" t="inlineStr"><is><t xml:space="preserve">  padded  </t></is></c></row>',
    );
  });

  it("escapes XML, drops the characters XML forbids and keeps text that looks like an OOXML escape", async () => {
    const rows = [ok({ name: "a < b && c > d", note: "bell\u0007, \uFFFF and a lone \uD800 go; _x0041_ stays" })];
    const { bytes } = await readAll(exportXlsx({ columns, rows }).stream);
    const [sheet] = readSheets(bytes);
    expect(sheet?.rows[1]?.[0]).toBe("a < b && c > d");
    expect(sheet?.rows[1]?.[6]).toBe("bell,  and a lone  go; _x0041_ stays");
  });

  it("reads back any text, less what XML cannot hold", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: "binary", minLength: 1 }), { minLength: 1, maxLength: 10 }),
        async (notes) => {
          const rows = notes.map((note) => ok({ note }));
          const [sheet] = readSheets((await readAll(exportXlsx({ columns, rows }).stream)).bytes);
          // What survives: no C0 control but tab, LF and CR, no U+FFFE/U+FFFF; SheetJS reads CRLF as LF.
          const kept = notes.map((note) =>
            // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters XML forbids, as the writer drops them.
            note.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, "").replace(/\r\n/g, "\n"),
          );
          expect(sheet?.rows.slice(1).map((row) => row[6] ?? "")).toEqual(kept);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("cuts text to Excel's 32,767 characters a cell and writes dates and objects as text", async () => {
    const rows = [ok({ name: "x".repeat(40_000), joined: new Date(Date.UTC(2024, 2, 5)), note: [1, 2] })];
    const [sheet] = readSheets((await readAll(exportXlsx({ columns, rows }).stream)).bytes);
    expect(sheet?.rows[1]?.[0]).toBe("x".repeat(XLSX_MAX_CELL_CHARS));
    expect(sheet?.rows[1]?.[5]).toBe("2024-03-05T00:00:00.000Z");
    expect(sheet?.rows[1]?.[6]).toBe("[1,2]");
  });

  it("goes on in a new sheet, under the header again, past the rows a sheet holds", async () => {
    const rows = Array.from({ length: 5 }, (_, i) => ok({ name: `row ${i}`, count: i }));
    const { bytes } = await readAll(exportXlsx({ columns, rows: paged(rows), sheetRows: 3 }).stream);
    const sheets = readSheets(bytes);
    expect(sheets.map((sheet) => sheet.name)).toEqual(["Rows", "Rows 2", "Rows 3"]);
    expect(sheets.map((sheet) => sheet.rows.map((row) => row[2]))).toEqual([
      ["count", 0, 1],
      ["count", 2, 3],
      ["count", 4],
    ]);
  });

  it("opens with the header alone for no rows", async () => {
    const { bytes } = await readAll(exportXlsx({ columns, rows: paged([]) }).stream);
    expect(readSheets(bytes)[0]?.rows).toEqual([columns.map((column) => column.name)]);
  });
});

// --- Every format ----------------------------------------------------------------------------------------

describe("validity columns", () => {
  const rows: ExportRow[] = [
    ok({ name: "fine", amount: 1 }),
    {
      values: { name: "broken", amount: "abc" },
      valid: false,
      errors: [
        { column: "amount", rule: "type", message: '"abc" is not a number' },
        { column: "joined", rule: "required", message: "joined is required" },
      ],
    },
  ];
  const errorsText = 'amount (type): "abc" is not a number; joined (required): joined is required';

  it("adds _valid and _errors to CSV, JSON, NDJSON and XLSX when asked", async () => {
    const csv = parseCsv((await readAll(exportCsv({ columns, rows, includeValidity: true }).stream)).text);
    expect(csv[0]?.slice(-2)).toEqual(["_valid", "_errors"]);
    expect(csv.slice(1, 3).map((row) => row.slice(-2))).toEqual([
      ["true", ""],
      ["false", errorsText],
    ]);

    const json = JSON.parse((await readAll(exportJson({ columns, rows, includeValidity: true }).stream)).text);
    expect(json.map((row: Record<string, unknown>) => [row._valid, row._errors])).toEqual([
      [true, []],
      [false, rows[1]?.errors],
    ]);

    const ndjson = (await readAll(exportNdjson({ columns, rows, includeValidity: true }).stream)).text;
    expect(
      ndjson
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line)._valid),
    ).toEqual([true, false]);

    const [sheet] = readSheets((await readAll(exportXlsx({ columns, rows, includeValidity: true }).stream)).bytes);
    expect(sheet?.rows.map((row) => row.slice(-2))).toEqual([
      ["_valid", "_errors"],
      [true, null],
      [false, errorsText],
    ]);
  });

  it("leaves them out by default", async () => {
    const json = JSON.parse((await readAll(exportJson({ columns, rows }).stream)).text);
    expect(Object.keys(json[0])).toEqual(columns.map((column) => column.name));
  });
});

describe("streaming", () => {
  const many = Array.from({ length: 5000 }, (_, i) =>
    ok({ name: `Person ${i}, "quoted"`, amount: i / 4 - 100, count: i, active: i % 2 === 0, note: `line\n${i}` }),
  );

  it.each(["csv", "json", "ndjson", "xlsx"] as const)("writes %s in chunks a batch of rows each", async (format) => {
    const exported: RowExport = exportRows(format, { columns, rows: paged(many, 250), batchSize: 1000 });
    const { bytes, text, chunks } = await readAll(exported.stream);
    expect(chunks).toBeGreaterThan(format === "xlsx" ? 1 : 4);
    const count =
      format === "csv"
        ? parseCsv(text).length - 2
        : format === "json"
          ? JSON.parse(text).length
          : format === "ndjson"
            ? text.trim().split("\n").length
            : (readSheets(bytes)[0]?.rows.length ?? 0) - 1;
    expect(count).toBe(many.length);
  });

  it("serves as a response body", async () => {
    const { stream, contentType } = exportNdjson({ columns, rows: paged(many, 100) });
    const response = new Response(stream, { headers: { "content-type": contentType } });
    expect((await response.text()).trim().split("\n")).toHaveLength(many.length);
  });

  it("reads rows only as the reader asks for bytes, and stops reading when it cancels", async () => {
    let pulled = 0;
    let closed = false;
    async function* source() {
      try {
        for (const row of many) {
          pulled++;
          yield row;
        }
      } finally {
        closed = true;
      }
    }
    const { stream } = exportCsv({ columns, rows: source(), batchSize: 100 });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(pulled).toBe(0);
    const reader = stream.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(pulled).toBe(100);
    await reader.read();
    expect(pulled).toBe(200);
    await reader.cancel();
    expect(closed).toBe(true);
    expect(pulled).toBe(200);
  });
});

describe("names and media types", () => {
  it("offers a file name for the job and the format's media type", () => {
    const cases = [
      ["csv", "text/csv; charset=utf-8; header=present", "extraction-ext_123.csv"],
      ["json", "application/json", "extraction-ext_123.json"],
      ["ndjson", "application/x-ndjson", "extraction-ext_123.ndjson"],
      ["xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "extraction-ext_123.xlsx"],
    ] as const;
    for (const [format, contentType, filename] of cases) {
      const exported = exportRows(format, { columns, rows: [] });
      expect(exported.contentType).toBe(contentType);
      expect(exported.filename("ext_123")).toBe(filename);
      void exported.stream.cancel();
    }
    expect(exportCsv({ columns, rows: [] }).filename('../"x"\r\n')).toBe("extraction-____x___.csv");
  });
});

describe("crc32", () => {
  it("is the ZIP CRC-32, in pieces as at once", () => {
    const bytes = new TextEncoder().encode("123456789");
    expect(crc32(bytes)).toBe(0xcbf43926);
    expect(crc32(bytes.subarray(5), crc32(bytes.subarray(0, 5)))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    const long = new TextEncoder().encode("The quick brown fox jumps over the lazy dog");
    expect(crc32(long)).toBe(0x414fa339);
  });
});
