/**
 * Text as every extractor hands it on: no byte-order mark, no NUL, LF line ends. Offsets the chunker records
 * point into this form, so it must be applied once, before chunking, and never again.
 * @example
 * normaliseText("\uFEFFa\r\nb\0") // "a\nb"
 */
export const normaliseText = (text: string): string =>
  text
    .replace(/^\uFEFF/, "")
    .replace(/\r\n?/g, "\n")
    .replaceAll("\0", "");

const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: false });

/** Bytes already known to be UTF-8 text (detectKind checked them), as normalised text. */
export const decodeText = (bytes: Uint8Array): string => normaliseText(utf8.decode(bytes));
