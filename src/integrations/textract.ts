import { AnalyzeDocumentCommand, type Block, TextractClient } from "@aws-sdk/client-textract";
import { FetchHttpHandler } from "@smithy/fetch-http-handler";

/**
 * What OCR read on one page. `text` is in reading order, tables rendered as Markdown tables where they stand;
 * `lines` counts every LINE Textract found (table text included), `tables` every TABLE; `confidence` is the
 * mean word confidence, 0 to 100, or null when the page has no words (a blank scan).
 * @example
 * const page: OcrPage = { text: "Invoice 42\n\n| Item | Price |\n| --- | --- |\n| Tea | 3 |", lines: 5, tables: 1, confidence: 99.1 };
 */
export type OcrPage = { text: string; lines: number; tables: number; confidence: number | null };

/**
 * Reads scanned pages and images. One implementation today (Textract); tests reach it over the wire through
 * test/helpers/fake-textract.mjs.
 * @example
 * const readScan = async (ocr: OcrReader, bytes: Uint8Array) => (await ocr.readPage(bytes)).text;
 */
export interface OcrReader {
  /** One page: a PNG, JPEG or TIFF image or a single-page PDF, up to 10 MB. Throws a {@link TextractFailure}. */
  readPage(bytes: Uint8Array, signal?: AbortSignal): Promise<OcrPage>;
}

/**
 * A Textract call that failed, classified for the queue: `retryable` says whether the same page may succeed
 * later. `code` is Textract's exception name (`ThrottlingException`, `UnsupportedDocumentException`, …), or
 * `Timeout`, `Aborted` or `NetworkError` when no answer came. The message never holds credentials.
 * @example
 * try {
 *   await ocr.readPage(bytes);
 * } catch (error) {
 *   if (error instanceof TextractFailure && error.retryable) return { error: error.code, retry: true };
 *   throw error;
 * }
 */
export class TextractFailure extends Error {
  readonly retryable: boolean;
  readonly code: string;

  constructor(options: { code: string; retryable: boolean; message: string; cause?: unknown }) {
    super(options.message.slice(0, 300), { cause: options.cause });
    this.name = "TextractFailure";
    this.code = options.code;
    this.retryable = options.retryable;
  }
}

// The same page can succeed later: Textract was busy or broken, not the document.
const RETRYABLE = new Set(["ThrottlingException", "ProvisionedThroughputExceededException", "InternalServerError"]);

// Retrying cannot help: the document or the account's setup has to change first.
const PERMANENT = new Set([
  "UnsupportedDocumentException",
  "BadDocumentException",
  "DocumentTooLargeException",
  "InvalidParameterException",
  "AccessDeniedException",
  "InvalidS3ObjectException",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "MissingAuthenticationTokenException",
]);

/**
 * What one page of AnalyzeDocument with TABLES costs, in US dollars (AWS's public price for the first million
 * pages a month, read 2025-06-01). Usage records price each OCR page with it.
 */
export const TEXTRACT_PRICE_PER_PAGE_USD = 0.015;

/** The model name usage records list Textract pages under. */
export const TEXTRACT_USAGE_MODEL = "analyze-document-tables";

// A page of OCR with tables takes Textract a few seconds; a minute without an answer is a stuck call.
const DEFAULT_TIMEOUT_MS = 60_000;

/** Textract's word confidence is per WORD; the page's is their mean. */
const meanConfidence = (blocks: Block[]): number | null => {
  const scores = blocks.flatMap((block) =>
    block.BlockType === "WORD" && typeof block.Confidence === "number" ? [block.Confidence] : [],
  );
  if (scores.length === 0) return null;
  return Math.round((scores.reduce((sum, score) => sum + score, 0) / scores.length) * 100) / 100;
};

const childIds = (block: Block): string[] =>
  (block.Relationships ?? []).flatMap((relation) => (relation.Type === "CHILD" ? (relation.Ids ?? []) : []));

const topOf = (block: Block): number => block.Geometry?.BoundingBox?.Top ?? Number.POSITIVE_INFINITY;

/** A cell's text inside a Markdown table row: one line, and `|` would end the cell. */
const cellMarkdown = (text: string) => text.replace(/\s+/g, " ").trim().replaceAll("|", "\\|");

/** A TABLE block as a Markdown table: rows by RowIndex, columns by ColumnIndex, the first row as header. */
const tableMarkdown = (table: Block, byId: Map<string, Block>): string => {
  const cells = childIds(table)
    .map((id) => byId.get(id))
    .filter((cell): cell is Block => cell?.BlockType === "CELL" && !!cell.RowIndex && !!cell.ColumnIndex);
  const rows = Math.max(1, ...cells.map((cell) => (cell.RowIndex ?? 1) + (cell.RowSpan ?? 1) - 1));
  const columns = Math.max(1, ...cells.map((cell) => (cell.ColumnIndex ?? 1) + (cell.ColumnSpan ?? 1) - 1));
  // A spanning cell's text goes to its top-left position; the positions it also covers stay empty, which
  // keeps every row the same width (Markdown has no spans).
  const grid = Array.from({ length: rows }, () => Array.from({ length: columns }, () => ""));
  for (const cell of cells) {
    const words = childIds(cell).flatMap((id) => {
      const word = byId.get(id);
      return word?.BlockType === "WORD" && word.Text ? [word.Text] : [];
    });
    const row = grid[(cell.RowIndex ?? 1) - 1];
    if (row) row[(cell.ColumnIndex ?? 1) - 1] = cellMarkdown(words.join(" "));
  }
  const line = (row: string[]) => `| ${row.join(" | ")} |`;
  const [header = [], ...body] = grid;
  return [line(header), line(header.map(() => "---")), ...body.map(line)].join("\n");
};

/**
 * A page's Textract blocks as reading-order text. LINE blocks come in Textract's order; the words of a table
 * are also words of LINE blocks, so those lines are left out of the running text and the table is rendered
 * once, as a Markdown table, before the first line that starts below the table's top. Pure, for tests.
 * @example
 * const { Blocks = [] } = await client.send(new AnalyzeDocumentCommand({ Document: { Bytes }, FeatureTypes: ["TABLES"] }));
 * const text = textFromBlocks(Blocks); // "Invoice 42\n\n| Item | Price |\n| --- | --- |\n| Tea | 3 |\n\nThank you"
 */
export const textFromBlocks = (blocks: Block[]): string => {
  const byId = new Map(blocks.flatMap((block) => (block.Id ? [[block.Id, block] as const] : [])));
  const tables = blocks.filter((block) => block.BlockType === "TABLE").sort((a, b) => topOf(a) - topOf(b));
  const inTables = new Set(tables.flatMap((table) => childIds(table).flatMap((id) => childIds(byId.get(id) ?? {}))));

  const pieces: { kind: "line" | "table"; text: string }[] = [];
  let nextTable = 0;
  for (const block of blocks) {
    if (block.BlockType !== "LINE") continue;
    const words = childIds(block).flatMap((id) => {
      const word = byId.get(id);
      return word?.BlockType === "WORD" ? [{ id, text: word.Text ?? "" }] : [];
    });
    // A line partly inside a table keeps only its words outside it, so no text is lost or said twice.
    const outside = words.filter((word) => !inTables.has(word.id));
    if (words.length > 0 && outside.length === 0) continue;
    const text = outside.length === words.length ? (block.Text ?? "") : outside.map((word) => word.text).join(" ");
    for (; nextTable < tables.length && topOf(tables[nextTable]!) <= topOf(block); nextTable += 1) {
      pieces.push({ kind: "table", text: tableMarkdown(tables[nextTable]!, byId) });
    }
    if (text.trim()) pieces.push({ kind: "line", text: text.trim() });
  }
  for (; nextTable < tables.length; nextTable += 1) {
    pieces.push({ kind: "table", text: tableMarkdown(tables[nextTable]!, byId) });
  }
  // Blank lines around tables: Markdown needs them to see a table, and they keep it apart from the prose.
  return pieces
    .map((piece, index) => {
      const previous = pieces[index - 1];
      if (!previous) return piece.text;
      return `${previous.kind === "table" || piece.kind === "table" ? "\n\n" : "\n"}${piece.text}`;
    })
    .join("");
};

const classify = (error: unknown, why: { timedOut: boolean; aborted: boolean }, redact: (text: string) => string) => {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e?.name ?? "Error";
  const message = redact(e?.message ?? String(error));
  // The handler's own timer can win the race against the abort signal by a tick; both mean "too slow".
  if (why.timedOut || name === "TimeoutError") {
    return new TextractFailure({
      code: "Timeout",
      retryable: true,
      message: "Textract gave no answer in time",
      cause: error,
    });
  }
  if (why.aborted || name === "AbortError") {
    return new TextractFailure({
      code: "Aborted",
      retryable: true,
      message: "The Textract call was aborted",
      cause: error,
    });
  }
  const status = e?.$metadata?.httpStatusCode;
  if (RETRYABLE.has(name) || PERMANENT.has(name) || (typeof status === "number" && status >= 400)) {
    const retryable = RETRYABLE.has(name) || (!PERMANENT.has(name) && (status === 429 || (status ?? 0) >= 500));
    return new TextractFailure({ code: name, retryable, message: `${name}: ${message}`, cause: error });
  }
  // No status and no known name: the answer never arrived (connection refused or reset, DNS, TLS).
  return new TextractFailure({ code: "NetworkError", retryable: true, message: `${name}: ${message}`, cause: error });
};

/**
 * Textract's AnalyzeDocument with TABLES, one page at a time. The SDK's own retries are off (APE's queue
 * retries, and knows when to stop). The HTTP handler is a FetchHttpHandler made here, as in the Bedrock
 * provider, so the timeout never depends on which handler the SDK's runtime config picks; Textract's browser
 * config (the one workerd loads) has no WebSocket wrapper, so here plain options would work too. The timeout
 * is also an abort signal on each call, because the handler's timer alone leaves the fetch running.
 * @example
 * const ocr = createTextract({ region: "eu-west-1", accessKeyId, secretAccessKey, timeoutMs: 30_000 });
 * const page = await ocr.readPage(pngBytes);
 * // { text: "Invoice 42\n\n| Item | Price |\n…", lines: 7, tables: 1, confidence: 99.2 }
 */
export const createTextract = (options: {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  endpoint?: string | undefined;
  timeoutMs?: number | undefined;
}): OcrReader => {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = new TextractClient({
    region: options.region,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    maxAttempts: 1,
    requestHandler: new FetchHttpHandler({ requestTimeout: timeoutMs }),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });
  // Textract's messages do not echo keys today; this keeps it so if one ever did (or a proxy in between).
  const secrets = [options.secretAccessKey, options.accessKeyId].filter((secret) => secret.length > 0);
  const redact = (text: string) => secrets.reduce((clean, secret) => clean.replaceAll(secret, "[redacted]"), text);

  return {
    async readPage(bytes, signal) {
      // FetchHttpHandler's requestTimeout only stops waiting: the fetch under it runs on, holding one of the
      // Worker's six simultaneous connections until Textract answers. A timeout signal cancels the fetch too.
      const deadline = AbortSignal.timeout(timeoutMs);
      const abortSignal = signal ? AbortSignal.any([signal, deadline]) : deadline;
      try {
        const result = await client.send(
          new AnalyzeDocumentCommand({ Document: { Bytes: bytes }, FeatureTypes: ["TABLES"] }),
          { abortSignal },
        );
        const blocks = result.Blocks ?? [];
        return {
          text: textFromBlocks(blocks),
          lines: blocks.filter((block) => block.BlockType === "LINE").length,
          tables: blocks.filter((block) => block.BlockType === "TABLE").length,
          confidence: meanConfidence(blocks),
        };
      } catch (error) {
        // A caller's own AbortSignal.timeout(…) is a timeout as well, not a cancellation.
        const callerTimedOut =
          signal?.aborted === true && (signal.reason as Error | undefined)?.name === "TimeoutError";
        throw classify(
          error,
          { timedOut: deadline.aborted || callerTimedOut, aborted: signal?.aborted === true },
          redact,
        );
      }
    },
  };
};
