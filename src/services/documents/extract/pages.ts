import type { Env } from "../../../env.js";
import { type ArchiveLimits, DEFAULT_ARCHIVE_LIMITS } from "./archive.js";
import type { DocumentKind } from "./detect.js";
import { ocrNotConfigured, tooManyOcrPages, tooManyPages } from "./errors.js";
import { htmlToMarkdown } from "./html.js";
import { parseCsv, renderMarkdownTable } from "./tabular.js";
import { decodeText, normaliseText } from "./text.js";

/** One page of a document's text: a PDF page, a sheet of a workbook, or the whole of any other file. */
export type ExtractedPage = {
  /** 1-based: the PDF page, the sheet's position, or 1. */
  page: number;
  text: string;
  /** The sheet's name, for workbooks. */
  label?: string;
  /** Set when the text came from OCR rather than from the file. */
  ocr?: boolean;
};

/** What OCR is given: a single-page PDF cut from the document, or the uploaded image itself. */
export type OcrInput = { bytes: Uint8Array; page: number };

/** Recognises the text of one page or image (Amazon Textract in production). */
export type Ocr = (input: OcrInput) => Promise<string>;

/** How much of a document extraction takes on before it refuses it. */
export type ExtractionLimits = {
  /** Pages (PDF) or sheets (XLSX) at most: `DOCUMENT_MAX_PAGES`. */
  maxPages: number;
  /** Pages or images sent to OCR at most: `DOCUMENT_MAX_OCR_PAGES`. */
  maxOcrPages: number;
  /** What a zipped file may inflate to. */
  archive: ArchiveLimits;
};

/** The settings' defaults. */
export const DEFAULT_EXTRACTION_LIMITS: ExtractionLimits = {
  maxPages: 2000,
  maxOcrPages: 200,
  archive: DEFAULT_ARCHIVE_LIMITS,
};

/**
 * The limits the settings set.
 * @example
 * const pages = await extractPages({ kind, bytes, ocr, limits: extractionLimits(ctx.env) });
 */
export const extractionLimits = (env: Env): ExtractionLimits => ({
  maxPages: env.DOCUMENT_MAX_PAGES,
  maxOcrPages: env.DOCUMENT_MAX_OCR_PAGES,
  archive: { maxUncompressedBytes: env.DOCUMENT_MAX_UNCOMPRESSED_BYTES, maxRatio: env.DOCUMENT_MAX_COMPRESSION_RATIO },
});

/**
 * A document's text, page by page, for a kind `detectKind` decided. Pure: no network but `ocr`, which is null
 * when no OCR provider is configured (a scan then fails with OCR_NOT_CONFIGURED). Files that cannot be read
 * throw a `DocumentError` (CORRUPT_DOCUMENT, ENCRYPTED_DOCUMENT, DOCUMENT_TOO_LARGE); one past `limits` throws
 * ARCHIVE_TOO_LARGE, TOO_MANY_PAGES or TOO_MANY_OCR_PAGES before the work (or the OCR) that would cost it.
 * @example
 * const detected = await detectKind({ bytes, filename });
 * if (!detected) throw new ApiError("UNSUPPORTED_MEDIA_TYPE");
 * const pages = await extractPages({ kind: detected.kind, bytes, ocr: textract ?? null });
 */
export async function extractPages(input: {
  kind: DocumentKind;
  bytes: Uint8Array;
  ocr: Ocr | null;
  limits?: ExtractionLimits;
}): Promise<ExtractedPage[]> {
  const { kind, bytes, ocr, limits = DEFAULT_EXTRACTION_LIMITS } = input;
  switch (kind) {
    // The PDF libraries (pdf.js, pdf-lib) and SheetJS are megabytes of code: loaded when a file needs them.
    case "pdf":
      return (await import("./pdf.js")).extractPdfPages({ bytes, ocr, limits });
    case "image": {
      if (!ocr) throw ocrNotConfigured("The image has no text layer");
      if (limits.maxOcrPages < 1) throw tooManyOcrPages(1, limits.maxOcrPages);
      return [{ page: 1, text: normaliseText(await ocr({ bytes, page: 1 })).trim(), ocr: true }];
    }
    case "csv":
      return [{ page: 1, text: renderMarkdownTable(parseCsv(decodeText(bytes))) }];
    case "xlsx": {
      const sheets = (await import("./workbook.js")).readWorkbook(bytes, limits.archive);
      if (sheets.length > limits.maxPages) throw tooManyPages(sheets.length, limits.maxPages, "sheets");
      return sheets.map((sheet, index) => ({
        page: index + 1,
        label: sheet.name,
        text: renderMarkdownTable(sheet),
      }));
    }
    case "html":
      return [{ page: 1, text: htmlToMarkdown(decodeText(bytes)) }];
    case "markdown":
    case "text":
      return [{ page: 1, text: decodeText(bytes) }];
  }
}
