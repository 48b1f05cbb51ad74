// A local server that speaks Amazon Textract's wire protocol for the synchronous, single-page operations, so
// the official SDK can be driven against it through its `endpoint` setting. Textract is AWS JSON 1.1: every
// operation is `POST /` with `Content-Type: application/x-amz-json-1.1`, the operation named by
// `X-Amz-Target: Textract.<Operation>`, a SigV4 `Authorization` header, and a JSON body whose blobs are base64
// (`Document.Bytes`). Errors are a status (400 for the caller's faults and throttling, 500 for the service's)
// with the exception named in the body's `__type` and in the `x-amzn-ErrorType` header:
// `{"__type":"ThrottlingException","Code":"ThrottlingException","Message":"Rate exceeded"}`, as Textract
// answers them (the SDK reads `Message` and `message` alike).
//
// Operations:
//   Textract.AnalyzeDocument     → PAGE, LINE and WORD blocks, and TABLE and CELL blocks when FeatureTypes has
//                                  TABLES; `AnalyzeDocumentModelVersion`
//   Textract.DetectDocumentText  → PAGE, LINE and WORD blocks only; `DetectDocumentTextModelVersion`
//
// The document is checked as Textract checks it: base64 of a PNG, JPEG, TIFF or PDF (by magic bytes), at most
// 10 MB, and a PDF of exactly one page (the synchronous operations read single pages only). What a valid page
// "reads as" comes from the script (POST /__fake/next, entries below); with none it reads as a blank scan, no
// lines at all. GET /__fake/requests lists what was received.
//
// HTTP/1.1 only: Node-side SDK clients pass `requestHandler: new NodeHttpHandler()` (see fake-bedrock.mjs).
//
// Under a scope (see fake-control.mjs) the endpoint is `${url}/s/<scope>`: the SDK keeps an endpoint's path
// and posts to it with a trailing slash (`/s/<scope>/`), which the scope's router sees as `/`.
import { createServer } from "node:http";
import { PDFDocument } from "pdf-lib";
import { createFakeControl } from "./fake-control.mjs";

/**
 * One scripted answer. `lines` are the page's lines of text, top to bottom; `tables` its tables, each a list
 * of rows of cell texts (`[["Item", "Price"], ["Tea", "3"]]`); `tablesAfter[i]` is how many of the lines stand
 * above table i (default: all of them, so tables come last). `confidence` is every word's (default 99.1).
 * `times` (default 1) is how many requests it answers before it is used up. `hangMs` holds the request first
 * (then the rest of the entry applies). `status` and/or `type` answer with AWS's error shape instead (a type's
 * status by default: 500 for InternalServerError, else 400; a status's type: 429 ThrottlingException,
 * 403 AccessDeniedException, 5xx InternalServerError, else InvalidParameterException). A request whose document
 * is invalid is answered with the document's error and leaves the script alone.
 * @typedef {{
 *   lines?: string[],
 *   tables?: string[][][],
 *   tablesAfter?: number[],
 *   confidence?: number,
 *   status?: number,
 *   type?: string,
 *   message?: string,
 *   hangMs?: number,
 *   times?: number,
 * }} ScriptEntry
 */

/**
 * One request as received. `credential` is the SigV4 credential scope (`AKID/20240101/us-east-1/textract/
 * aws4_request`), null when the request was not signed in SigV4's shape; `bytes` the decoded document's size;
 * `left` turns true when the client closed the connection before its answer (it gave up on a held request).
 * @typedef {{
 *   target: string | null,
 *   bytes: number | null,
 *   kind: "png" | "jpeg" | "tiff" | "pdf" | null,
 *   pages: number | null,
 *   featureTypes: string[] | null,
 *   credential: string | null,
 *   headers: string[],
 *   left: boolean,
 * }} ReceivedRequest
 */

const OPERATIONS = new Set(["AnalyzeDocument", "DetectDocumentText"]);
const FEATURE_TYPES = new Set(["TABLES", "FORMS", "QUERIES", "SIGNATURES", "LAYOUT"]);
// Textract's limit for documents sent as bytes in the synchronous operations.
const MAX_BYTES = 10 * 1024 * 1024;

const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=(\w+\/\d{8}\/[\w-]+\/textract\/aws4_request), SignedHeaders=[\w;-]+, Signature=[0-9a-f]{64}$/;

/** Textract's own messages for the exceptions the fake raises. */
const MESSAGES = /** @type {Record<string, string>} */ ({
  ThrottlingException: "Rate exceeded",
  ProvisionedThroughputExceededException: "Provisioned rate exceeded",
  InternalServerError: "Internal server error",
  InvalidParameterException: "Request has invalid parameters",
  UnsupportedDocumentException: "Request has unsupported document format",
  BadDocumentException: "Unable to read the document",
  DocumentTooLargeException: "Document size exceeds the maximum allowed limit",
  AccessDeniedException: "User is not authorized to perform this action",
});

/** @param {number} status */
const typeOfStatus = (status) => {
  if (status === 429) return "ThrottlingException";
  if (status === 403) return "AccessDeniedException";
  if (status >= 500) return "InternalServerError";
  return "InvalidParameterException";
};

/**
 * The document's format by its first bytes, as Textract tells them apart; null for anything else.
 * @param {Buffer} bytes
 * @returns {"png" | "jpeg" | "tiff" | "pdf" | null}
 */
const kindOf = (bytes) => {
  const starts = (/** @type {number[]} */ magic) => magic.every((byte, index) => bytes[index] === byte);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "png";
  if (starts([0xff, 0xd8, 0xff])) return "jpeg";
  if (starts([0x49, 0x49, 0x2a, 0x00]) || starts([0x4d, 0x4d, 0x00, 0x2a])) return "tiff";
  if (bytes.subarray(0, 5).toString("latin1") === "%PDF-") return "pdf";
  return null;
};

/** A PDF's page count, or null when pdf-lib cannot read it. @param {Buffer} bytes */
const pdfPages = async (bytes) => {
  try {
    const pdf = await PDFDocument.load(bytes, { ignoreEncryption: true, updateMetadata: false });
    return pdf.getPageCount();
  } catch {
    return null;
  }
};

/** @param {number} left @param {number} top @param {number} width @param {number} height */
const geometry = (left, top, width, height) => ({
  BoundingBox: { Width: width, Height: height, Left: left, Top: top },
  Polygon: [
    { X: left, Y: top },
    { X: left + width, Y: top },
    { X: left + width, Y: top + height },
    { X: left, Y: top + height },
  ],
});

/** @param {string[]} ids */
const children = (ids) => (ids.length > 0 ? { Relationships: [{ Type: "CHILD", Ids: ids }] } : {});

/**
 * The blocks of a page that reads as the entry's lines and tables, laid out top to bottom as Textract would
 * find them: every text (table cells included) is a LINE of WORDs, and with `withTables` each table is also
 * a TABLE of CELLs whose children are those same WORDs. Order as Textract's: PAGE, LINEs, WORDs, then each
 * TABLE followed by its CELLs.
 * @param {ScriptEntry | undefined} entry
 * @param {boolean} withTables
 */
const pageBlocks = (entry, withTables) => {
  const lines = (entry?.lines ?? []).filter((line) => line.trim() !== "");
  const tables = entry?.tables ?? [];
  const confidence = entry?.confidence ?? 99.1;

  /** @type {({ line: string } | { table: string[][] })[]} */
  const layout = [];
  for (let index = 0; index <= lines.length; index += 1) {
    tables.forEach((rows, t) => {
      const after = Math.min(Math.max(entry?.tablesAfter?.[t] ?? lines.length, 0), lines.length);
      if (after === index) layout.push({ table: rows });
    });
    const line = lines[index];
    if (line !== undefined) layout.push({ line });
  }
  // One unit per line and per table row, half a unit of space around each table; all on the page.
  const units = layout.reduce((sum, item) => sum + ("line" in item ? 1 : item.table.length + 1), 0);
  const step = Math.min(0.03, 0.9 / Math.max(units, 1));
  const height = step * 0.7;

  /** @type {any[]} */ const lineBlocks = [];
  /** @type {any[]} */ const wordBlocks = [];
  /** @type {any[]} */ const tableBlocks = [];

  /** Words of a text set in the box from `left`, WORD blocks made; their ids. */
  const words = (/** @type {string} */ text, /** @type {number} */ left, /** @type {number} */ top) => {
    const charWidth = 0.011;
    let x = left;
    return text
      .split(/\s+/)
      .filter(Boolean)
      .map((word) => {
        const id = crypto.randomUUID();
        const width = word.length * charWidth;
        wordBlocks.push({
          BlockType: "WORD",
          Confidence: confidence,
          Text: word,
          TextType: "PRINTED",
          Geometry: geometry(x, top, width, height),
          Id: id,
        });
        x += width + charWidth;
        return id;
      });
  };
  /** A LINE block over the given words (already made). */
  const line = (/** @type {string} */ text, /** @type {string[]} */ ids, left, top) => {
    const id = crypto.randomUUID();
    const normalized = text.split(/\s+/).filter(Boolean).join(" ");
    lineBlocks.push({
      BlockType: "LINE",
      Confidence: confidence,
      Text: normalized,
      Geometry: geometry(left, top, normalized.length * 0.011, height),
      Id: id,
      ...children(ids),
    });
    return id;
  };

  /** @type {string[]} */
  const pageChildren = [];
  let top = 0.05;
  for (const item of layout) {
    if ("line" in item) {
      pageChildren.push(line(item.line, words(item.line, 0.1, top), 0.1, top));
      top += step;
      continue;
    }
    top += step / 2;
    const rows = item.table;
    const columns = Math.max(1, ...rows.map((row) => row.length));
    const cellWidth = 0.8 / columns;
    const tableId = crypto.randomUUID();
    const tableTop = top;
    /** @type {any[]} */
    const cells = [];
    rows.forEach((row, r) => {
      for (let c = 0; c < columns; c += 1) {
        const text = row[c] ?? "";
        const left = 0.1 + c * cellWidth;
        const ids = words(text, left + 0.005, top);
        if (ids.length > 0) pageChildren.push(line(text, ids, left + 0.005, top));
        cells.push({
          BlockType: "CELL",
          Confidence: 95.4,
          RowIndex: r + 1,
          ColumnIndex: c + 1,
          RowSpan: 1,
          ColumnSpan: 1,
          Geometry: geometry(left, top, cellWidth, step),
          Id: crypto.randomUUID(),
          ...children(ids),
          ...(r === 0 ? { EntityTypes: ["COLUMN_HEADER"] } : {}),
        });
      }
      top += step;
    });
    top += step / 2;
    if (!withTables) continue;
    pageChildren.push(tableId);
    tableBlocks.push(
      {
        BlockType: "TABLE",
        Confidence: 99.6,
        Geometry: geometry(0.1, tableTop, 0.8, top - step / 2 - tableTop),
        Id: tableId,
        ...children(cells.map((cell) => cell.Id)),
        EntityTypes: ["STRUCTURED_TABLE"],
      },
      ...cells,
    );
  }
  const page = {
    BlockType: "PAGE",
    Geometry: geometry(0, 0, 1, 1),
    Id: crypto.randomUUID(),
    ...children(pageChildren),
  };
  return [page, ...lineBlocks, ...wordBlocks, ...tableBlocks];
};

/**
 * @param {{ port?: number }} [options]
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export const startFakeTextract = async ({ port = 0 } = {}) => {
  /** @type {ReturnType<typeof createFakeControl<ScriptEntry, ReceivedRequest>>} */
  const control = createFakeControl();
  const { hang } = control;

  /**
   * AWS JSON 1.1's error shape.
   * @param {import("node:http").ServerResponse} response @param {number} status @param {string} type
   * @param {string} [message]
   */
  const fail = (response, status, type, message) =>
    response
      .writeHead(status, {
        "content-type": "application/x-amz-json-1.1",
        "x-amzn-errortype": `${type}:http://internal.amazon.com/coral/com.amazonaws.textract/`,
        "x-amzn-requestid": crypto.randomUUID(),
      })
      .end(JSON.stringify({ __type: type, Code: type, Message: message ?? MESSAGES[type] ?? `${type}.` }));

  const server = createServer(async (request, response) => {
    const received = await control.receive(request, response);
    if (!received) return;
    const { pathname, state, raw } = received;

    const target = typeof request.headers["x-amz-target"] === "string" ? request.headers["x-amz-target"] : null;
    const operation = target?.startsWith("Textract.") ? target.slice("Textract.".length) : null;
    const authorization = request.headers.authorization;
    const credential = SIGV4.exec(authorization ?? "")?.[1] ?? null;
    /** @type {any} */
    let body = null;
    try {
      body = JSON.parse(raw);
    } catch {}
    const base64 = typeof body?.Document?.Bytes === "string" ? body.Document.Bytes : null;
    const bytes = base64 !== null && /^[A-Za-z0-9+/]*={0,2}$/.test(base64) ? Buffer.from(base64, "base64") : null;
    const kind = bytes && bytes.length <= MAX_BYTES ? kindOf(bytes) : null;
    const pages = kind === "pdf" && bytes ? await pdfPages(bytes) : kind ? 1 : null;
    const featureTypes = Array.isArray(body?.FeatureTypes) ? body.FeatureTypes.map(String) : null;
    /** @type {ReceivedRequest} */
    const record = {
      target,
      bytes: bytes?.length ?? null,
      kind,
      pages,
      featureTypes,
      credential,
      headers: Object.keys(request.headers).sort(),
      left: false,
    };
    state.received.push(record);
    response.on("close", () => {
      if (!response.writableEnded) record.left = true;
    });

    if (request.method !== "POST" || pathname !== "/") {
      return fail(response, 404, "UnknownOperationException", `Unknown operation ${request.method} ${pathname}`);
    }
    const json11 = request.headers["content-type"]?.startsWith("application/x-amz-json-1.1") === true;
    if (!json11 || !operation || !OPERATIONS.has(operation)) {
      return fail(response, 400, "UnknownOperationException", `Unknown operation ${target ?? "(no X-Amz-Target)"}`);
    }
    if (authorization === undefined) {
      return fail(response, 403, "MissingAuthenticationTokenException", "Missing Authentication Token");
    }
    if (credential === null) {
      return fail(response, 403, "InvalidSignatureException", "The request signature is missing or malformed.");
    }
    if (!body || typeof body !== "object") {
      return fail(response, 400, "SerializationException", "The request body is not valid JSON.");
    }
    if (body.Document?.S3Object) {
      return fail(response, 400, "InvalidS3ObjectException", "The fake reads documents sent as bytes only.");
    }
    if (!bytes || bytes.length === 0) return fail(response, 400, "InvalidParameterException");
    if (
      operation === "AnalyzeDocument" &&
      (!featureTypes || featureTypes.length === 0 || !featureTypes.every((type) => FEATURE_TYPES.has(type)))
    ) {
      return fail(response, 400, "InvalidParameterException");
    }
    if (bytes.length > MAX_BYTES) return fail(response, 400, "DocumentTooLargeException");
    if (!kind) return fail(response, 400, "UnsupportedDocumentException");
    if (pages === null) return fail(response, 400, "BadDocumentException");
    if (pages !== 1) return fail(response, 400, "UnsupportedDocumentException");

    const next = state.takeScript(undefined);
    if (next?.hangMs) {
      await hang(next.hangMs, response);
      if (response.destroyed || response.writableEnded) return;
    }
    if (next?.type || (next?.status && next.status >= 400)) {
      const type = next.type ?? typeOfStatus(/** @type {number} */ (next.status));
      return fail(response, next.status ?? (type === "InternalServerError" ? 500 : 400), type, next.message);
    }

    const analyze = operation === "AnalyzeDocument";
    response
      .writeHead(200, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": crypto.randomUUID() })
      .end(
        JSON.stringify({
          DocumentMetadata: { Pages: 1 },
          Blocks: pageBlocks(next, analyze && featureTypes?.includes("TABLES") === true),
          ...(analyze ? { AnalyzeDocumentModelVersion: "1.0" } : { DetectDocumentTextModelVersion: "1.0" }),
        }),
      );
  });
  return control.listen(server, port);
};
