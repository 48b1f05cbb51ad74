import { fileTypeFromBuffer } from "file-type";

/** What a stored document is, as far as extraction is concerned. */
export type DocumentKind = "pdf" | "image" | "csv" | "xlsx" | "html" | "markdown" | "text";

/** The outcome of {@link detectKind}: the kind, and the media type to store with the file. */
export type DetectedKind = { kind: DocumentKind; mediaType: string };

/** Formats with magic bytes that we extract, by the media type file-type reports. */
const binaryKinds: Record<string, DocumentKind> = {
  "application/pdf": "pdf",
  "image/png": "image",
  "image/jpeg": "image",
  "image/tiff": "image",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
};

const textMediaTypes: Record<"html" | "csv" | "markdown" | "text", string> = {
  html: "text/html",
  csv: "text/csv",
  markdown: "text/markdown",
  text: "text/plain",
};

const csvTypes = new Set(["text/csv", "application/csv", "text/comma-separated-values", "text/tab-separated-values"]);
const markdownTypes = new Set(["text/markdown", "text/x-markdown"]);
const htmlTypes = new Set(["text/html", "application/xhtml+xml"]);

/**
 * What the start of a text file looks like when it is HTML: an optional XML declaration and comments, then a
 * doctype or one of the tags a page or fragment usually opens with.
 */
const htmlStart =
  /^(?:<\?xml[^>]*>\s*)?(?:<!--[\s\S]*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|link|style|script|div|p|h[1-6]|table|article|section|main|header|nav|span|ul|ol|a|br|img|form)[\s/>]/i;

/** How many of a file's first bytes are enough to tell what it is (file-type reads at most a few KiB). */
export const SNIFF_BYTES = 64 * 1024;

/**
 * Decides what a file is from its bytes, never from its name: magic bytes pick PDF, PNG/JPEG/TIFF and XLSX; a
 * file without magic bytes must be valid UTF-8 with no NUL to count as text, and only then do the declared
 * type and the extension choose between CSV, Markdown and plain text. Any other binary format gives null
 * (the caller answers 415). `bytes` may be only the file's start (`SNIFF_BYTES` of it, with `complete: false`):
 * then a character cut off at its end is no fault, and for a text kind the rest must pass {@link textCheck}
 * as it streams by.
 * @example
 * const detected = await detectKind({ bytes, filename: "report.pdf", declaredType: "application/pdf" });
 * if (!detected) throw new ApiError("UNSUPPORTED_MEDIA_TYPE", "Send a PDF, an image, CSV, XLSX, HTML or text.");
 */
export async function detectKind(input: {
  bytes: Uint8Array;
  filename?: string | undefined;
  declaredType?: string | undefined;
  /** Whether `bytes` is the whole file (default) or only its start. */
  complete?: boolean;
}): Promise<DetectedKind | null> {
  const { bytes, complete = true } = input;
  const found = await fileTypeFromBuffer(bytes);
  if (found) {
    const kind = binaryKinds[found.mime];
    if (kind) return { kind, mediaType: found.mime };
    // file-type also recognises a few text formats by their first line (XML, iCalendar, vCard, WebVTT):
    // those are still text, so they go on to the text checks below; any other magic is a format we refuse.
    if (!isTextMediaType(found.mime)) return null;
  }

  const text = strictUtf8(bytes, complete);
  if (text === null) return null;

  const declared = normaliseMediaType(input.declaredType);
  const extension = extensionOf(input.filename);
  const kind = textKind({ text, declared, extension });
  return { kind, mediaType: textMediaTypes[kind] };
}

function textKind(input: { text: string; declared: string; extension: string }): "html" | "csv" | "markdown" | "text" {
  const { text, declared, extension } = input;
  // The name decides between kinds of text before sniffing for HTML: a README.md that opens with
  // `<p align="center">` is Markdown, and turning it into Markdown again would escape its syntax.
  if (csvTypes.has(declared) || extension === "csv" || extension === "tsv") return "csv";
  if (markdownTypes.has(declared) || extension === "md" || extension === "markdown") return "markdown";
  const start = text
    .slice(0, 2048)
    .replace(/^\uFEFF/, "")
    .trimStart();
  if (htmlStart.test(start)) return "html";
  if ((htmlTypes.has(declared) || extension === "html" || extension === "htm") && /<[a-z][^>]*>/i.test(start)) {
    return "html";
  }
  return "text";
}

/** The bytes as a string when they are valid UTF-8 without NUL bytes, else null (then they are binary). */
function strictUtf8(bytes: Uint8Array, complete: boolean): string | null {
  if (bytes.includes(0)) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes, { stream: !complete });
  } catch {
    return null;
  }
}

/** Whether a kind is text, whose every byte must be checked ({@link textCheck}), not only its start. */
export const isTextKind = (kind: DocumentKind) =>
  kind === "csv" || kind === "markdown" || kind === "html" || kind === "text";

/**
 * Checks, a chunk at a time, that a file is what a text kind must be: valid UTF-8 with no NUL byte. `push`
 * answers false at the first chunk that breaks the rule; `end` answers whether the file ended cleanly (not
 * inside a character). Holds nothing but a few bytes of a character cut between chunks.
 * @example
 * const check = textCheck();
 * for await (const chunk of stream) if (!check.push(chunk)) throw notText();
 * if (!check.end()) throw notText();
 */
export const textCheck = () => {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  const attempt = (run: () => void) => {
    try {
      run();
      return true;
    } catch {
      return false;
    }
  };
  return {
    push: (chunk: Uint8Array) => !chunk.includes(0) && attempt(() => decoder.decode(chunk, { stream: true })),
    end: () => attempt(() => decoder.decode()),
  };
};

function isTextMediaType(mediaType: string): boolean {
  return mediaType.startsWith("text/") || mediaType === "application/xml" || mediaType.endsWith("+xml");
}

function normaliseMediaType(declared: string | undefined): string {
  return (declared ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

function extensionOf(filename: string | undefined): string {
  if (!filename) return "";
  const base = filename.split(/[\\/]/).pop() ?? "";
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : "";
}
