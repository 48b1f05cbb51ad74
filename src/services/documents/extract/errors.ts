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
  | "DOCUMENT_TOO_LARGE";

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
