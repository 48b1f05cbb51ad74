import { type PDFContext, PDFDict, PDFDocument, PDFName, PDFStream } from "pdf-lib";
import { extractText, getDocumentProxy } from "unpdf";
import { DocumentError, describeError, ocrNotConfigured, tooManyOcrPages, tooManyPages } from "./errors.js";
import type { ExtractedPage, ExtractionLimits, Ocr } from "./pages.js";

/**
 * A page whose text layer has fewer non-space characters than this is treated as a scan: a real page of text
 * has far more, and a scanner's OCR layer, when there is one, is usually either full or absent.
 */
export const MIN_TEXT_LAYER_CHARS = 20;

/** Scanned pages sent to OCR at once: enough to overlap the provider's latency, few enough to stay polite. */
const OCR_CONCURRENCY = 4;

type PdfProxy = Awaited<ReturnType<typeof getDocumentProxy>>;

/**
 * Every page of a PDF as text. The file is parsed once (PDF.js through unpdf) and each page's text layer read
 * from that one parse. A page with (almost) no text layer that draws an image is a scan: it is cut out as a
 * one-page PDF (pdf-lib, which also parses the file only once) and sent to `ocr`. A near-empty page without
 * images is simply a blank or sparse page and keeps its text, so a blank separator page needs no OCR.
 * @example
 * const pages = await extractPdfPages({ bytes, ocr: null }); // [{ page: 1, text: "…" }, …]
 */
export async function extractPdfPages(input: {
  bytes: Uint8Array;
  ocr: Ocr | null;
  limits: ExtractionLimits;
}): Promise<ExtractedPage[]> {
  const texts = await readTextLayers(input.bytes, input.limits.maxPages);
  const pages: ExtractedPage[] = texts.map((text, index) => ({ page: index + 1, text: tidyPdfText(text) }));

  const sparse = pages.filter((page) => countNonSpace(page.text) < MIN_TEXT_LAYER_CHARS);
  if (sparse.length === 0) return pages;

  const source = await loadForCutting(input.bytes);
  const sourcePages = source.getPages();
  const scanned = sparse.filter((page) => {
    const sourcePage = sourcePages[page.page - 1];
    return sourcePage !== undefined && resourcesDrawImages(source.context, sourcePage.node.Resources(), 0);
  });
  if (scanned.length === 0) return pages;

  const { ocr } = input;
  if (!ocr) throw ocrNotConfigured(`Page ${scanned[0]?.page} of the PDF has no text layer`);
  // Before the first call: every OCR page is paid for, so a PDF of thousands of scans is refused whole.
  if (scanned.length > input.limits.maxOcrPages) throw tooManyOcrPages(scanned.length, input.limits.maxOcrPages);
  if (source.isEncrypted) {
    throw new DocumentError(
      "ENCRYPTED_DOCUMENT",
      "The PDF is encrypted, so its scanned pages cannot be cut out for OCR; remove the encryption and upload it again.",
    );
  }

  await forEachLimit(scanned, OCR_CONCURRENCY, async (page) => {
    const bytes = await cutPage(source, page.page - 1);
    const recognised = tidyPdfText(await ocr({ bytes, page: page.page }));
    // A photo with a caption: the caption is in the text layer and the OCR repeats it; if OCR finds nothing,
    // keep what the text layer had.
    page.text = recognised || page.text;
    page.ocr = true;
  });
  return pages;
}

/** Each page's text layer, from one parse of the file; more than `maxPages` pages is refused before any is read. */
async function readTextLayers(bytes: Uint8Array, maxPages: number): Promise<string[]> {
  let pdf: PdfProxy;
  try {
    // PDF.js may detach the buffer it is given, so it gets a copy and the caller's bytes stay usable.
    pdf = await getDocumentProxy(bytes.slice(), {
      // Workers have no FontFace and no system fonts; text extraction needs neither.
      disableFontFace: true,
      useSystemFonts: false,
      verbosity: 0,
    });
  } catch (error) {
    throw pdfError(error);
  }
  try {
    if (pdf.numPages > maxPages) throw tooManyPages(pdf.numPages, maxPages);
    const { text } = await extractText(pdf, { mergePages: false });
    return text;
  } catch (error) {
    throw error instanceof DocumentError ? error : pdfError(error);
  } finally {
    await pdf.loadingTask.destroy();
  }
}

function pdfError(error: unknown): DocumentError {
  if (error instanceof Error && error.name === "PasswordException") {
    return new DocumentError(
      "ENCRYPTED_DOCUMENT",
      "The PDF is password protected; upload it without the password.",
      false,
      {
        cause: error,
      },
    );
  }
  return new DocumentError("CORRUPT_DOCUMENT", `The PDF cannot be parsed: ${describeError(error)}.`, false, {
    cause: error,
  });
}

async function loadForCutting(bytes: Uint8Array): Promise<PDFDocument> {
  try {
    // ignoreEncryption: PDF.js read the text of an encrypted file with an empty user password; pdf-lib can still
    // tell whether its pages are images, and refuses to cut them later (see isEncrypted above).
    return await PDFDocument.load(bytes, {
      ignoreEncryption: true,
      updateMetadata: false,
      throwOnInvalidObject: false,
    });
  } catch (error) {
    throw new DocumentError(
      "CORRUPT_DOCUMENT",
      `The PDF has pages without a text layer, and it cannot be parsed to send them to OCR: ${describeError(error)}.`,
      false,
      { cause: error },
    );
  }
}

/** Whether a page's resources hold an image XObject, directly or in form XObjects a few levels deep. */
function resourcesDrawImages(context: PDFContext, resources: PDFDict | undefined, depth: number): boolean {
  if (!resources || depth > 4) return false;
  try {
    const xObjects = resources.lookupMaybe(PDFName.of("XObject"), PDFDict);
    if (!xObjects) return false;
    for (const [, reference] of xObjects.entries()) {
      const object = context.lookup(reference);
      const dict = object instanceof PDFStream ? object.dict : object instanceof PDFDict ? object : undefined;
      if (!dict) continue;
      const subtype = dict.lookupMaybe(PDFName.of("Subtype"), PDFName);
      if (subtype === PDFName.of("Image")) return true;
      if (subtype === PDFName.of("Form")) {
        const nested = dict.lookupMaybe(PDFName.of("Resources"), PDFDict);
        if (resourcesDrawImages(context, nested, depth + 1)) return true;
      }
    }
  } catch {
    // A malformed resource dictionary: PDF.js read the page, so count it as drawing nothing rather than fail.
  }
  return false;
}

/** One page of the document as a PDF of its own, for OCR. */
async function cutPage(source: PDFDocument, index: number): Promise<Uint8Array> {
  try {
    const single = await PDFDocument.create({ updateMetadata: false });
    const [copied] = await single.copyPages(source, [index]);
    if (!copied) throw new Error(`page ${index + 1} is missing`);
    single.addPage(copied);
    return await single.save();
  } catch (error) {
    throw new DocumentError(
      "CORRUPT_DOCUMENT",
      `Page ${index + 1} of the PDF cannot be cut out for OCR: ${describeError(error)}.`,
      false,
      { cause: error },
    );
  }
}

/** Spaces collapsed, lines trimmed and runs of blank lines cut to one, so paragraphs stay visible. */
const tidyPdfText = (text: string): string =>
  text
    .replace(/\r\n?/g, "\n")
    .replaceAll("\0", "")
    .replace(/[^\S\n]+/g, " ")
    .replace(/ ?\n ?/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();

const countNonSpace = (text: string): number => text.replace(/\s+/g, "").length;

async function forEachLimit<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
