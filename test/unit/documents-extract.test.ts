import Papa from "papaparse";
import { PDFDocument, PDFName, StandardFonts } from "pdf-lib";
import { describe, expect, it } from "vitest";
import { detectKind } from "../../src/services/documents/extract/detect.js";
import { DocumentError } from "../../src/services/documents/extract/errors.js";
import { extractPages, type Ocr, type OcrInput } from "../../src/services/documents/extract/pages.js";
import { MAX_SHEET_ROWS, parseCsv } from "../../src/services/documents/extract/tabular.js";
import { readWorkbook } from "../../src/services/documents/extract/workbook.js";
import { makeMixedPdf, makePng, makeTextPdf, makeXlsx, utf8 } from "../helpers/test-files.js";

/** An OCR stand-in that records what it was sent and answers with a line naming the page. */
const recordingOcr = () => {
  const calls: OcrInput[] = [];
  const ocr: Ocr = async (input) => {
    calls.push(input);
    return `Recognised words of scanned page ${input.page}.`;
  };
  return { ocr, calls };
};

const documentErrorOf = async (run: () => Promise<unknown>): Promise<DocumentError> => {
  try {
    await run();
  } catch (error) {
    if (error instanceof DocumentError) return error;
    throw error;
  }
  throw new Error("expected a DocumentError");
};

/** A minimal ZIP (stored entries, CRC left 0: detection reads names, not contents). */
const makeZip = (entries: Record<string, string>) => {
  const parts: number[] = [];
  const central: number[] = [];
  const u16 = (n: number) => [n & 255, (n >>> 8) & 255];
  const u32 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
  for (const [name, content] of Object.entries(entries)) {
    const nameBytes = [...utf8(name)];
    const data = [...utf8(content)];
    const offset = parts.length;
    const common = [...u16(20), ...u16(0), ...u16(0), ...u16(0), ...u16(0), ...u32(0), ...u32(data.length)];
    parts.push(...u32(0x04034b50), ...common, ...u32(data.length), ...u16(nameBytes.length), ...u16(0));
    parts.push(...nameBytes, ...data);
    central.push(...u32(0x02014b50), ...u16(20), ...common, ...u32(data.length), ...u16(nameBytes.length));
    central.push(...u16(0), ...u16(0), ...u16(0), ...u16(0), ...u32(0), ...u32(offset), ...nameBytes);
  }
  const count = Object.keys(entries).length;
  const end = [...u32(0x06054b50), ...u16(0), ...u16(0), ...u16(count), ...u16(count)];
  end.push(...u32(central.length), ...u32(parts.length), ...u16(0));
  return new Uint8Array([...parts, ...central, ...end]);
};

describe("detecting a document's kind by its bytes", () => {
  it("believes magic bytes over the name: a PDF called .txt is a PDF, an XLSX called .bin is an XLSX", async () => {
    const pdf = await makeTextPdf([["Quarterly report for the board of directors"]]);
    expect(await detectKind({ bytes: pdf, filename: "notes.txt", declaredType: "text/plain" })).toEqual({
      kind: "pdf",
      mediaType: "application/pdf",
    });
    const xlsx = await makeXlsx({
      Sales: [
        ["Region", "Q1"],
        ["EU", 12],
      ],
    });
    expect(await detectKind({ bytes: xlsx, filename: "export.bin", declaredType: "application/octet-stream" })).toEqual(
      { kind: "xlsx", mediaType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
    );
    expect(await detectKind({ bytes: await makePng(), filename: "scan.pdf" })).toEqual({
      kind: "image",
      mediaType: "image/png",
    });
  });

  it("detects text named .pdf as text, and uses the name only to tell CSV, Markdown and plain text apart", async () => {
    const text = utf8("Just some words that claim to be a PDF.\n");
    expect(await detectKind({ bytes: text, filename: "fake.pdf", declaredType: "application/pdf" })).toEqual({
      kind: "text",
      mediaType: "text/plain",
    });
    expect(await detectKind({ bytes: utf8("a,b\n1,2\n"), filename: "data.csv" })).toMatchObject({ kind: "csv" });
    expect(await detectKind({ bytes: utf8("a,b\n1,2\n"), declaredType: "text/csv; charset=utf-8" })).toMatchObject({
      kind: "csv",
    });
    expect(await detectKind({ bytes: utf8("# Title\n\nBody"), filename: "README.md" })).toEqual({
      kind: "markdown",
      mediaType: "text/markdown",
    });
    // A README that opens with HTML is still the Markdown its name says.
    expect(await detectKind({ bytes: utf8('<p align="center">logo</p>\n\n# Title'), filename: "README.md" })).toEqual({
      kind: "markdown",
      mediaType: "text/markdown",
    });
  });

  it("recognises HTML by its start, whatever the name", async () => {
    for (const html of ["<!DOCTYPE html><html><body>x</body></html>", "\uFEFF  <html lang=en>", "<div>hi</div>"]) {
      expect(await detectKind({ bytes: utf8(html), filename: "page.txt" })).toEqual({
        kind: "html",
        mediaType: "text/html",
      });
    }
    expect(await detectKind({ bytes: utf8("Hello <b>world</b>"), filename: "page.html" })).toMatchObject({
      kind: "html",
    });
    expect(await detectKind({ bytes: utf8("if a < b and c > d then"), filename: "notes.txt" })).toMatchObject({
      kind: "text",
    });
  });

  it("refuses binary formats it does not extract: GIF, a ZIP that is not XLSX, an executable, bad UTF-8", async () => {
    const gif = new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff]);
    expect(await detectKind({ bytes: gif, filename: "image.pdf" })).toBeNull();
    const docx = makeZip({ "[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>" });
    expect(await detectKind({ bytes: docx, filename: "letter.xlsx" })).toBeNull();
    expect(await detectKind({ bytes: makeZip({ "hello.txt": "hello" }), filename: "archive.xlsx" })).toBeNull();
    const exe = new Uint8Array([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0xff, 0xff, 0, 0]);
    expect(await detectKind({ bytes: exe, filename: "setup.txt" })).toBeNull();
    expect(
      await detectKind({ bytes: new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0a]), filename: "latin1.txt" }),
    ).toBeNull();
    expect(await detectKind({ bytes: utf8("text\0with a NUL"), filename: "a.txt" })).toBeNull();
  });
});

describe("extracting text from PDFs", () => {
  it("reads each page's text layer from a three-page PDF", async () => {
    const bytes = await makeTextPdf([
      ["Alpha apples grow in the northern orchard."],
      ["Bravo bananas ripen in the southern greenhouse."],
      ["Charlie cherries are picked in early summer."],
    ]);
    const { ocr, calls } = recordingOcr();
    const pages = await extractPages({ kind: "pdf", bytes, ocr });
    expect(pages).toEqual([
      { page: 1, text: "Alpha apples grow in the northern orchard." },
      { page: 2, text: "Bravo bananas ripen in the southern greenhouse." },
      { page: 3, text: "Charlie cherries are picked in early summer." },
    ]);
    expect(calls).toEqual([]);
    // The caller's bytes are not consumed by the parser.
    expect(await PDFDocument.load(bytes)).toBeTruthy();
  });

  it("sends a scanned page to OCR as a one-page PDF and keeps the text pages' own text", async () => {
    const bytes = await makeMixedPdf([["A typed cover letter with plenty of words on it."], { scan: true }]);
    const { ocr, calls } = recordingOcr();
    const pages = await extractPages({ kind: "pdf", bytes, ocr });
    expect(pages).toEqual([
      { page: 1, text: "A typed cover letter with plenty of words on it." },
      { page: 2, text: "Recognised words of scanned page 2.", ocr: true },
    ]);
    expect(calls).toHaveLength(1);
    const sent = calls[0] as OcrInput;
    expect(sent.page).toBe(2);
    const single = await PDFDocument.load(sent.bytes);
    expect(single.getPageCount()).toBe(1);
    expect(single.getPage(0).getSize()).toEqual({ width: 612, height: 792 });
    // The cut-out page still carries its image.
    const xObjects = single.getPage(0).node.Resources()?.get(PDFName.of("XObject"));
    expect(xObjects).toBeDefined();
  });

  it("fails a scanned page with OCR_NOT_CONFIGURED, naming the settings, when there is no OCR", async () => {
    const bytes = await makeMixedPdf([["A typed cover letter with plenty of words on it."], { scan: true }]);
    const error = await documentErrorOf(() => extractPages({ kind: "pdf", bytes, ocr: null }));
    expect(error.code).toBe("OCR_NOT_CONFIGURED");
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("Page 2");
    for (const setting of ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) {
      expect(error.message).toContain(setting);
    }
  });

  it("leaves a blank page blank instead of asking for OCR", async () => {
    const bytes = await makeTextPdf([["The only page with words, followed by a blank page."], []]);
    expect(await extractPages({ kind: "pdf", bytes, ocr: null })).toEqual([
      { page: 1, text: "The only page with words, followed by a blank page." },
      { page: 2, text: "" },
    ]);
  });

  it("answers CORRUPT_DOCUMENT for bytes that start like a PDF and are garbage after", async () => {
    const garbage = new Uint8Array(2048);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) % 251;
    const bytes = new Uint8Array([...utf8("%PDF-1.7\n"), ...garbage]);
    const error = await documentErrorOf(() => extractPages({ kind: "pdf", bytes, ocr: null }));
    expect(error.code).toBe("CORRUPT_DOCUMENT");
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/^The PDF cannot be parsed: .+/);
  });

  it("answers ENCRYPTED_DOCUMENT for a password-protected PDF", async () => {
    const pdf = await PDFDocument.create();
    const font = await pdf.embedFont(StandardFonts.Helvetica);
    pdf.addPage().drawText("Secret salaries", { x: 50, y: 700, font });
    const raw = await pdf.save({ useObjectStreams: false });
    // pdf-lib cannot encrypt, so a standard security handler goes into the trailer by hand: its password
    // hashes match no password, the empty one included, so a reader must ask for one.
    const hash = `<${"ab".repeat(32)}>`;
    const id = "<0123456789abcdef0123456789abcdef>";
    const encrypt = `/Encrypt << /Filter /Standard /V 1 /R 2 /P -4 /O ${hash} /U ${hash} >> /ID [${id} ${id}]`;
    const binary = Array.from(raw, (byte) => String.fromCharCode(byte)).join("");
    const patched = binary.replace(/trailer\s*<</, `$& ${encrypt}`);
    const bytes = Uint8Array.from(patched, (char) => char.charCodeAt(0));
    const error = await documentErrorOf(() => extractPages({ kind: "pdf", bytes, ocr: null }));
    expect(error.code).toBe("ENCRYPTED_DOCUMENT");
    expect(error.retryable).toBe(false);
  });

  it("reads a 200-page PDF from a single parse, quickly", async () => {
    const pages = Array.from({ length: 200 }, (_, i) => [`Page ${i + 1} talks about topic number ${i + 1} at length.`]);
    const bytes = await makeTextPdf(pages);
    const started = performance.now();
    const extracted = await extractPages({ kind: "pdf", bytes, ocr: null });
    const elapsed = performance.now() - started;
    expect(extracted).toHaveLength(200);
    expect(extracted[199]).toEqual({ page: 200, text: "Page 200 talks about topic number 200 at length." });
    expect(elapsed).toBeLessThan(10_000);
  });
});

describe("extracting images, tables, HTML and text", () => {
  it("sends an image to OCR as it is, and needs OCR configured for it", async () => {
    const png = await makePng();
    const { ocr, calls } = recordingOcr();
    expect(await extractPages({ kind: "image", bytes: png, ocr })).toEqual([
      { page: 1, text: "Recognised words of scanned page 1.", ocr: true },
    ]);
    expect(calls[0]?.bytes).toEqual(png);
    expect((await documentErrorOf(() => extractPages({ kind: "image", bytes: png, ocr: null }))).code).toBe(
      "OCR_NOT_CONFIGURED",
    );
  });

  it("renders CSV as a Markdown table, keeping quoted commas and line breaks inside cells", async () => {
    const csv =
      'name,notes,amount\r\nAda,"likes commas, a lot",12\r\n"Grace ""Amazing"" Hopper","line one\nline two",7\r\n';
    const pages = await extractPages({ kind: "csv", bytes: utf8(`\uFEFF${csv}`), ocr: null });
    expect(pages).toEqual([
      {
        page: 1,
        text: [
          "| name | notes | amount |",
          "| --- | --- | --- |",
          "| Ada | likes commas, a lot | 12 |",
          '| Grace "Amazing" Hopper | line one<br>line two | 7 |',
        ].join("\n"),
      },
    ]);
  });

  it("parses CSV into headers and rows that unparse to the same table", () => {
    const table = {
      headers: ["id", "comment", "pipe|cell"],
      rows: [
        ["1", "hello, world", 'say "hi"'],
        ["2", "multi\nline", ""],
      ],
    };
    const csv = Papa.unparse([table.headers, ...table.rows]);
    expect(parseCsv(csv)).toEqual(table);
    expect(parseCsv("")).toEqual({ headers: [], rows: [] });
  });

  it("reads each sheet of an XLSX as a page labelled with the sheet's name", async () => {
    const bytes = await makeXlsx({
      Sales: [
        ["Region", "Q1", "Q2"],
        ["EU", 12, 15],
        ["US", 20, 18.5],
      ],
      Staff: [
        ["Name", "Role"],
        ["Ada", "Engineer | lead"],
      ],
    });
    expect(readWorkbook(bytes)).toEqual([
      {
        name: "Sales",
        headers: ["Region", "Q1", "Q2"],
        rows: [
          ["EU", "12", "15"],
          ["US", "20", "18.5"],
        ],
      },
      { name: "Staff", headers: ["Name", "Role"], rows: [["Ada", "Engineer | lead"]] },
    ]);
    expect(await extractPages({ kind: "xlsx", bytes, ocr: null })).toEqual([
      {
        page: 1,
        label: "Sales",
        text: "| Region | Q1 | Q2 |\n| --- | --- | --- |\n| EU | 12 | 15 |\n| US | 20 | 18.5 |",
      },
      { page: 2, label: "Staff", text: "| Name | Role |\n| --- | --- |\n| Ada | Engineer \\| lead |" },
    ]);
  });

  it("answers CORRUPT_DOCUMENT for an XLSX that is not a workbook inside", async () => {
    const bytes = makeZip({ "xl/workbook.xml": "<not really", "[Content_Types].xml": "<Types" });
    const error = await documentErrorOf(() => extractPages({ kind: "xlsx", bytes, ocr: null }));
    expect(error.code).toBe("CORRUPT_DOCUMENT");
  });

  it("refuses a sheet with more rows than a Worker should hold, rather than truncating it", async () => {
    const rows = Array.from({ length: MAX_SHEET_ROWS + 1 }, (_, i) => [i]);
    const huge = await makeXlsx({ Huge: rows });
    const error = (() => {
      try {
        readWorkbook(huge);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(DocumentError);
    expect(error).toMatchObject({ code: "DOCUMENT_TOO_LARGE", retryable: false });
    expect(readWorkbook(await makeXlsx({ Fits: rows.slice(1) }))[0]?.rows).toHaveLength(MAX_SHEET_ROWS - 1);
  });

  it("turns HTML into Markdown without scripts, styles or navigation", async () => {
    const html = `<!DOCTYPE html><html><head><title>T</title><style>p{color:red}</style></head><body>
      <nav><a href="/">Home</a> <a href="/about">About</a></nav>
      <h1>Release notes</h1><p>Version <strong>2.0</strong> is out.</p>
      <script>alert("tracking")</script><ul><li>Faster</li><li>Smaller</li></ul></body></html>`;
    const [page] = await extractPages({ kind: "html", bytes: utf8(html), ocr: null });
    expect(page?.page).toBe(1);
    expect(page?.text).toContain("# Release notes");
    expect(page?.text).toContain("Version **2.0** is out.");
    expect(page?.text).toMatch(/\* Faster\n\* Smaller/);
    for (const noise of ["alert", "tracking", "color:red", "Home", "About"]) expect(page?.text).not.toContain(noise);
  });

  it("keeps Markdown and text as they are, with LF line ends and no BOM or NUL", async () => {
    const bytes = utf8("\uFEFF# Title\r\n\r\nBody\0 text\rend");
    for (const kind of ["markdown", "text"] as const) {
      expect(await extractPages({ kind, bytes, ocr: null })).toEqual([{ page: 1, text: "# Title\n\nBody text\nend" }]);
    }
  });
});
