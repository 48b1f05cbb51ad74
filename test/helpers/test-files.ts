/**
 * Real files the document tests make for themselves: PDFs with a text layer (pdf-lib), a scanned page (an image
 * with no text), PNGs, a two-sheet XLSX (SheetJS), CSV and HTML. Nothing is read from disk.
 */
// pdf-lib and SheetJS are imported when a test first makes such a file: large modules that every test file
// importing this one would otherwise load.
const pdfLib = () => import("pdf-lib");

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

const crc32 = (bytes: Uint8Array) => {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
};

const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};

const u32 = (value: number) => new Uint8Array([value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255]);

const chunk = (type: string, data: Uint8Array) => {
  const typed = concat([new TextEncoder().encode(type), data]);
  return concat([u32(data.length), typed, u32(crc32(typed))]);
};

const deflate = async (data: Uint8Array) =>
  new Uint8Array(
    await new Response(new Blob([data]).stream().pipeThrough(new CompressionStream("deflate"))).arrayBuffer(),
  );

/**
 * A valid greyscale PNG of the given size with a pattern seeded by `seed` (different seeds, different bytes),
 * standing in for a photographed or scanned page.
 */
export const makePng = async (width = 64, height = 48, seed = 1) => {
  const rows: Uint8Array[] = [];
  for (let y = 0; y < height; y++) {
    const row = new Uint8Array(width + 1); // filter byte 0, then one grey byte per pixel
    for (let x = 0; x < width; x++) row[x + 1] = ((x * seed + y * 7) % 5 === 0 ? 0 : 255) & 255;
    rows.push(row);
  }
  const header = concat([u32(width), u32(height), new Uint8Array([8, 0, 0, 0, 0])]);
  return concat([
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", await deflate(concat(rows))),
    chunk("IEND", new Uint8Array()),
  ]);
};

/** A PDF with a text layer: one page per entry, each line drawn as text. */
export const makeTextPdf = async (pages: string[][]) => {
  const { PDFDocument, StandardFonts } = await pdfLib();
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (const lines of pages) {
    const page = pdf.addPage([612, 792]);
    for (const [index, line] of lines.entries()) page.drawText(line, { x: 50, y: 740 - index * 18, size: 12, font });
  }
  return pdf.save();
};

/** A PDF whose pages are text pages (lines) or scans (`{ scan: true }`: an image and no text at all). */
export const makeMixedPdf = async (pages: Array<string[] | { scan: true; seed?: number }>) => {
  const { PDFDocument, StandardFonts } = await pdfLib();
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (const spec of pages) {
    const page = pdf.addPage([612, 792]);
    if (Array.isArray(spec)) {
      for (const [index, line] of spec.entries()) page.drawText(line, { x: 50, y: 740 - index * 18, size: 12, font });
    } else {
      const image = await pdf.embedPng(await makePng(120, 160, spec.seed ?? 3));
      page.drawImage(image, { x: 0, y: 0, width: 612, height: 792 });
    }
  }
  return pdf.save();
};

/** An XLSX workbook with one sheet per entry (name → rows, the first row the header). */
export const makeXlsx = async (sheets: Record<string, Array<Array<string | number>>>) => {
  const XLSX = await import("xlsx");
  const book = XLSX.utils.book_new();
  for (const [name, rows] of Object.entries(sheets))
    XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet(rows), name);
  return new Uint8Array(XLSX.write(book, { type: "array", bookType: "xlsx" }) as ArrayBuffer);
};

/** Bytes of UTF-8 text. */
export const utf8 = (text: string) => new TextEncoder().encode(text);
