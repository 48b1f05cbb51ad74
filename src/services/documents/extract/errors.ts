/**
 * The codes extraction itself throws. Callers may add their own (ingestion throws FILE_MISSING), so
 * `DocumentError.code` is a string; these are the ones to expect from this module.
 */
export type ExtractionErrorCode =
  /** The bytes claim a format but cannot be parsed as it. */
  | "CORRUPT_DOCUMENT"
  /** The file is password protected, or encrypted so that its scanned pages cannot be cut out. */
  | "ENCRYPTED_DOCUMENT"
  /** A page or image has no text layer and needs OCR, but no OCR provider is configured. */
  | "OCR_NOT_CONFIGURED"
  /** More than extraction holds in a Worker's memory (a sheet with too many rows). */
  | "DOCUMENT_TOO_LARGE"
  /** A ZIP (XLSX) that would inflate past DOCUMENT_MAX_UNCOMPRESSED_BYTES or DOCUMENT_MAX_COMPRESSION_RATIO. */
  | "ARCHIVE_TOO_LARGE"
  /** More pages (PDF) or sheets (XLSX) than DOCUMENT_MAX_PAGES. */
  | "TOO_MANY_PAGES"
  /** More pages needing OCR than DOCUMENT_MAX_OCR_PAGES. */
  | "TOO_MANY_OCR_PAGES"
  /** OCR or embeddings would be paid past the owner's monthly budget; raise it and retry the document. */
  | "BUDGET_EXCEEDED";

/**
 * The one error type of the documents module. Libraries' exceptions that mean "this file is bad" are wrapped
 * into it (kept as `cause`); anything else (a bug, the OCR provider failing) propagates unchanged.
 * `retryable` tells a queue consumer whether the same file can fare better later: a corrupt, encrypted or
 * too-large file stays so, and OCR stays unconfigured until someone changes the settings.
 * @example
 * throw new DocumentError("CORRUPT_DOCUMENT", "The PDF cannot be parsed: Invalid PDF structure.", false, { cause });
 */
export class DocumentError extends Error {
  readonly code: ExtractionErrorCode | (string & {});
  readonly retryable: boolean;

  constructor(
    code: ExtractionErrorCode | (string & {}),
    message: string,
    retryable = false,
    options: { cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "DocumentError";
    this.code = code;
    this.retryable = retryable;
  }
}

/**
 * The error for a page or image that needs OCR when none is configured; it names the settings to set.
 * @example
 * if (!ocr) throw ocrNotConfigured("Page 3 of the PDF has no text layer");
 */
export const ocrNotConfigured = (what: string): DocumentError =>
  new DocumentError(
    "OCR_NOT_CONFIGURED",
    `${what} and needs OCR, which is not configured: set AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY ` +
      "to read it with Amazon Textract.",
  );

/** The message of anything thrown, for wrapping a library's exception into a DocumentError. */
export const describeError = (error: unknown): string =>
  error instanceof Error ? error.message : typeof error === "string" ? error : "unknown error";

/** The error for a document over `DOCUMENT_MAX_PAGES`. */
export const tooManyPages = (pages: number, limit: number, what = "pages") =>
  new DocumentError("TOO_MANY_PAGES", `The document has ${pages} ${what}; at most ${limit} are read.`);

/** The error for a document with more pages to OCR than `DOCUMENT_MAX_OCR_PAGES`. */
export const tooManyOcrPages = (pages: number, limit: number) =>
  new DocumentError(
    "TOO_MANY_OCR_PAGES",
    `The document has ${pages} pages without a text layer that need OCR; at most ${limit} are sent to OCR.`,
  );
