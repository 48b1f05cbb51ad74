import {
  AnalyzeDocumentCommand,
  type Block,
  DetectDocumentTextCommand,
  TextractClient,
} from "@aws-sdk/client-textract";
import { FetchHttpHandler } from "@smithy/fetch-http-handler";
import { PDFDocument } from "pdf-lib";
import { beforeEach, describe, expect, inject, it } from "vitest";
import { createTextract, TextractFailure, textFromBlocks } from "../../src/integrations/textract.js";

// APE's OCR client and the official SDK, inside workerd, against test/helpers/fake-textract.mjs (Textract's
// AWS JSON 1.1 protocol). Each test takes its own scope of the shared fake (test/helpers/fake-control.mjs).
const scoped = () => `${inject("fakeTextractUrl")}/s/${crypto.randomUUID()}`;
let base = scoped();
beforeEach(() => {
  base = scoped();
});

const SECRET = "secret-key-never-shown";
const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: SECRET };
const ocr = (options: { timeoutMs?: number; endpoint?: string } = {}) =>
  createTextract({ region: "us-east-1", ...credentials, endpoint: base, ...options });
const sdk = () =>
  new TextractClient({
    region: "us-east-1",
    endpoint: base,
    credentials,
    maxAttempts: 1,
    requestHandler: new FetchHttpHandler(),
  });

const script = (next: Record<string, unknown>) =>
  fetch(`${base}/__fake/next`, { method: "POST", body: JSON.stringify(next) });
type Received = {
  target: string | null;
  bytes: number | null;
  kind: string | null;
  pages: number | null;
  featureTypes: string[] | null;
  credential: string | null;
  left: boolean;
};
const received = async () => (await (await fetch(`${base}/__fake/requests`)).json()) as Received[];

// A 1×1 PNG: a scan, as far as the fake's checks go.
const PNG = Uint8Array.from(
  atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="),
  (char) => char.charCodeAt(0),
);
const pdfOf = async (pages: number) => {
  const pdf = await PDFDocument.create();
  for (let page = 0; page < pages; page += 1) pdf.addPage();
  return pdf.save();
};
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (error: unknown) => error as TextractFailure,
  );

const INVOICE = {
  lines: ["Invoice 42", "Bill to: Ada Lovelace", "Thank you for your order"],
  tables: [
    [
      ["Item", "Qty", "Price"],
      ["Green tea", "2", "3.50"],
      ["Cable | 2 m", "1", "9.99"],
    ],
  ],
  tablesAfter: [2],
};

describe("Textract through the official SDK, against a server speaking its protocol", () => {
  it("answers AnalyzeDocument with linked PAGE, LINE, WORD, TABLE and CELL blocks, from a signed request", async () => {
    await script(INVOICE);
    const result = await sdk().send(new AnalyzeDocumentCommand({ Document: { Bytes: PNG }, FeatureTypes: ["TABLES"] }));
    expect(result.DocumentMetadata).toEqual({ Pages: 1 });
    expect(result.AnalyzeDocumentModelVersion).toBe("1.0");
    const blocks = result.Blocks ?? [];
    const byId = new Map(blocks.map((block) => [block.Id, block]));
    const kids = (block: Block | undefined) => (block?.Relationships?.[0]?.Ids ?? []).map((id) => byId.get(id));
    expect(blocks[0]?.BlockType).toBe("PAGE");
    const lines = blocks.filter((block) => block.BlockType === "LINE");
    // Three lines of prose and one per table cell, as Textract reads table text as lines too.
    expect(lines.map((line) => line.Text)).toEqual([
      "Invoice 42",
      "Bill to: Ada Lovelace",
      "Item",
      "Qty",
      "Price",
      "Green tea",
      "2",
      "3.50",
      "Cable | 2 m",
      "1",
      "9.99",
      "Thank you for your order",
    ]);
    const tops = lines.map((line) => line.Geometry?.BoundingBox?.Top ?? -1);
    expect(tops[1]).toBeGreaterThan(tops[0] ?? 1);
    expect(tops[11]).toBeGreaterThan(tops[8] ?? 1);
    expect(kids(lines[1]).map((word) => word?.Text)).toEqual(["Bill", "to:", "Ada", "Lovelace"]);
    expect(lines[0]?.Geometry?.Polygon).toHaveLength(4);
    const [table, ...others] = blocks.filter((block) => block.BlockType === "TABLE");
    expect(others).toEqual([]);
    const cells = kids(table);
    expect(cells).toHaveLength(9);
    expect(cells[4]).toMatchObject({ BlockType: "CELL", RowIndex: 2, ColumnIndex: 2, RowSpan: 1, ColumnSpan: 1 });
    // A cell's words are the very WORD blocks of the line that reads it.
    expect(kids(cells[3]).map((word) => word?.Id)).toEqual(lines[5]?.Relationships?.[0]?.Ids);
    expect(kids(blocks[0])).toContain(table);
    const [request] = await received();
    expect(request).toMatchObject({
      target: "Textract.AnalyzeDocument",
      bytes: PNG.length,
      kind: "png",
      pages: 1,
      featureTypes: ["TABLES"],
    });
    expect(request?.credential).toMatch(/^AKIDEXAMPLE\/\d{8}\/us-east-1\/textract\/aws4_request$/);
  });

  it("answers DetectDocumentText with lines and words only, and a blank scan when nothing is scripted", async () => {
    await script(INVOICE);
    const detected = await sdk().send(new DetectDocumentTextCommand({ Document: { Bytes: PNG } }));
    expect(detected.DetectDocumentTextModelVersion).toBe("1.0");
    const types = new Set(detected.Blocks?.map((block) => block.BlockType));
    expect([...types].sort()).toEqual(["LINE", "PAGE", "WORD"]);
    const blank = await sdk().send(new DetectDocumentTextCommand({ Document: { Bytes: PNG } }));
    expect(blank.Blocks?.map((block) => block.BlockType)).toEqual(["PAGE"]);
    expect((await received()).map((request) => request.target)).toEqual([
      "Textract.DetectDocumentText",
      "Textract.DetectDocumentText",
    ]);
  });

  it("names the exception in AWS JSON 1.1's shape, with the status Textract uses", async () => {
    await script({ type: "ProvisionedThroughputExceededException" });
    const error = (await sdk()
      .send(new AnalyzeDocumentCommand({ Document: { Bytes: PNG }, FeatureTypes: ["TABLES"] }))
      .catch((e: unknown) => e)) as Error & { $metadata?: { httpStatusCode?: number } };
    expect(error.name).toBe("ProvisionedThroughputExceededException");
    expect(error.message).toBe("Provisioned rate exceeded");
    expect(error.$metadata?.httpStatusCode).toBe(400);
  });

  it("answers 403 when the request is not signed", async () => {
    const res = await fetch(`${base}/`, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "Textract.AnalyzeDocument" },
      body: JSON.stringify({ Document: { Bytes: btoa("%PDF-1.7") }, FeatureTypes: ["TABLES"] }),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("x-amzn-errortype")).toMatch(/^MissingAuthenticationTokenException:/);
    expect(await res.json()).toMatchObject({ __type: "MissingAuthenticationTokenException" });
  });
});

describe("createTextract: a page read through APE's client", () => {
  it("reads a page in reading order, with its table as a Markdown table where it stands", async () => {
    await script({ ...INVOICE, confidence: 97.25 });
    const page = await ocr().readPage(PNG);
    expect(page.text).toBe(
      [
        "Invoice 42",
        "Bill to: Ada Lovelace",
        "",
        "| Item | Qty | Price |",
        "| --- | --- | --- |",
        "| Green tea | 2 | 3.50 |",
        "| Cable \\| 2 m | 1 | 9.99 |",
        "",
        "Thank you for your order",
      ].join("\n"),
    );
    expect(page).toMatchObject({ lines: 12, tables: 1, confidence: 97.25 });
    const [request] = await received();
    expect(request?.featureTypes).toEqual(["TABLES"]);
    expect(request?.credential).toMatch(/^AKIDEXAMPLE\/\d{8}\/us-east-1\/textract\/aws4_request$/);
  });

  it("reads a blank scan as no text, with no confidence", async () => {
    expect(await ocr().readPage(PNG)).toEqual({ text: "", lines: 0, tables: 0, confidence: null });
  });

  it("reads a single-page PDF", async () => {
    await script({ lines: ["Scanned contract", "Page 1 of 1"] });
    const page = await ocr().readPage(await pdfOf(1));
    expect(page.text).toBe("Scanned contract\nPage 1 of 1");
    expect((await received())[0]).toMatchObject({ kind: "pdf", pages: 1 });
  });

  it("fails a throttled call as retryable, without the credentials in the message", async () => {
    await script({ type: "ThrottlingException" });
    const failure = await failureOf(ocr().readPage(PNG));
    expect(failure).toBeInstanceOf(TextractFailure);
    expect(failure).toMatchObject({ code: "ThrottlingException", retryable: true });
    expect(failure.message).toContain("Rate exceeded");
    expect(failure.message).not.toContain(SECRET);
    expect(failure.message).not.toContain(credentials.accessKeyId);
  });

  it("fails a Textract outage as retryable", async () => {
    await script({ status: 500 });
    expect(await failureOf(ocr().readPage(PNG))).toMatchObject({ code: "InternalServerError", retryable: true });
  });

  it("fails a multi-page PDF as UnsupportedDocumentException, not worth retrying", async () => {
    await script({ lines: ["never read"] });
    const failure = await failureOf(ocr().readPage(await pdfOf(2)));
    expect(failure).toMatchObject({ code: "UnsupportedDocumentException", retryable: false });
    expect((await received())[0]).toMatchObject({ kind: "pdf", pages: 2 });
    // The rejected document did not use up the scripted page.
    expect((await ocr().readPage(PNG)).text).toBe("never read");
  });

  it("fails bytes that are no image or PDF, and a document over 10 MB, as not retryable", async () => {
    const text = new TextEncoder().encode("just some text, not a scan");
    expect(await failureOf(ocr().readPage(text))).toMatchObject({
      code: "UnsupportedDocumentException",
      retryable: false,
    });
    const huge = new Uint8Array(10 * 1024 * 1024 + 1);
    huge.set(PNG);
    expect(await failureOf(ocr().readPage(huge))).toMatchObject({
      code: "DocumentTooLargeException",
      retryable: false,
    });
  });

  it("fails denied access as not retryable", async () => {
    await script({ type: "AccessDeniedException" });
    expect(await failureOf(ocr().readPage(PNG))).toMatchObject({ code: "AccessDeniedException", retryable: false });
  });

  it("gives up on a hanging call at timeoutMs, as a retryable timeout", async () => {
    await script({ hangMs: 5_000, lines: ["too late"] });
    const started = Date.now();
    const failure = await failureOf(ocr({ timeoutMs: 300 }).readPage(PNG));
    expect(failure).toMatchObject({ code: "Timeout", retryable: true });
    expect(Date.now() - started).toBeLessThan(3_000);
    // The connection is cut too, not left open until Textract answers (a Worker has only six at once).
    await expect.poll(async () => (await received())[0]?.left, { timeout: 1_000 }).toBe(true);
  });

  it("stops at the caller's abort signal, as retryable", async () => {
    await script({ hangMs: 5_000 });
    const started = Date.now();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const failure = await failureOf(ocr().readPage(PNG, controller.signal));
    expect(failure).toMatchObject({ code: "Aborted", retryable: true });
    expect(Date.now() - started).toBeLessThan(3_000);
    await expect.poll(async () => (await received())[0]?.left, { timeout: 1_000 }).toBe(true);
  });

  it("fails an unreachable endpoint as a retryable network error", async () => {
    // Port 9 (discard) on loopback: nothing listens there in the test environment. workerd logs the refused
    // connection as an "uncaught exception" of its own; it does so for a plain fetch as well.
    const failure = await failureOf(ocr({ endpoint: "http://127.0.0.1:9" }).readPage(PNG));
    expect(failure).toMatchObject({ code: "NetworkError", retryable: true });
    expect(failure.message).not.toContain(SECRET);
  });
});

describe("textFromBlocks", () => {
  const box = (top: number) => ({ BoundingBox: { Top: top, Left: 0.1, Width: 0.5, Height: 0.02 } });
  const word = (id: string, text: string): Block => ({ BlockType: "WORD", Id: id, Text: text, Confidence: 99 });
  const line = (id: string, top: number, words: Block[]): Block => ({
    BlockType: "LINE",
    Id: id,
    Text: words.map((w) => w.Text).join(" "),
    Geometry: box(top),
    Relationships: [{ Type: "CHILD", Ids: words.map((w) => w.Id ?? "") }],
  });
  const cell = (id: string, row: number, column: number, words: Block[], span: Partial<Block> = {}): Block => ({
    BlockType: "CELL",
    Id: id,
    RowIndex: row,
    ColumnIndex: column,
    RowSpan: 1,
    ColumnSpan: 1,
    ...span,
    ...(words.length ? { Relationships: [{ Type: "CHILD", Ids: words.map((w) => w.Id ?? "") }] } : {}),
  });
  const table = (id: string, top: number, cells: Block[]): Block => ({
    BlockType: "TABLE",
    Id: id,
    Geometry: box(top),
    Relationships: [{ Type: "CHILD", Ids: cells.map((c) => c.Id ?? "") }],
  });

  it("puts each table at its top among the lines, leaves its lines out, and keeps spanned cells empty", () => {
    const title = word("w1", "Report");
    const name = word("w2", "Name");
    const total = word("w3", "Total|net");
    const ada = word("w4", "Ada");
    const twelve = word("w5", "12");
    const summary = word("w6", "Summary");
    const signed = word("w7", "Signed");
    const cells = [
      cell("c1", 1, 1, [name]),
      cell("c2", 1, 2, [total]),
      cell("c3", 2, 1, [ada]),
      cell("c4", 2, 2, [twelve]),
      // The only cell of a one-row table, spanning both its columns.
      cell("c5", 1, 1, [summary], { ColumnSpan: 2 }),
    ];
    const blocks: Block[] = [
      { BlockType: "PAGE", Id: "p" },
      line("l1", 0.1, [title]),
      line("l2", 0.2, [name, total]),
      line("l3", 0.25, [ada]),
      // Textract sometimes runs a line past a table's edge: its words outside the table stay.
      line("l4", 0.26, [twelve, signed]),
      line("l5", 0.9, [summary]),
      // Tables listed bottom first: their order on the page is by their tops, not by the list.
      table("t2", 0.9, cells.slice(4)),
      table("t1", 0.2, cells.slice(0, 4)),
      ...[title, name, total, ada, twelve, summary, signed],
      ...cells,
    ];
    expect(textFromBlocks(blocks)).toBe(
      [
        "Report",
        "",
        "| Name | Total\\|net |",
        "| --- | --- |",
        "| Ada | 12 |",
        "",
        "Signed",
        "",
        "| Summary |  |",
        "| --- | --- |",
      ].join("\n"),
    );
  });

  it("reads plain lines in Textract's order, and nothing from no blocks", () => {
    const blocks = [line("l1", 0.5, [word("a", "second")]), line("l2", 0.1, [word("b", "first")])];
    expect(textFromBlocks([...blocks, word("a", "second"), word("b", "first")])).toBe("second\nfirst");
    expect(textFromBlocks([])).toBe("");
  });
});
