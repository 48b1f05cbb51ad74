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

/** A raw DEFLATE stream of `size` zero bytes, made a mebibyte at a time so the zeros are never held whole. */
const deflatedZeros = async (size: number) => {
  const step = 1024 * 1024;
  let left = size;
  const zeros = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (left <= 0) return controller.close();
      const part = Math.min(step, left);
      left -= part;
      controller.enqueue(new Uint8Array(part));
    },
  });
  return new Uint8Array(await new Response(zeros.pipeThrough(new CompressionStream("deflate-raw"))).arrayBuffer());
};

type ZipEntry = { name: string; data: Uint8Array; size: number; crc: number; deflated: boolean };

const le16 = (value: number) => new Uint8Array([value & 255, (value >>> 8) & 255]);
const le32 = (value: number) =>
  new Uint8Array([value & 255, (value >>> 8) & 255, (value >>> 16) & 255, (value >>> 24) & 255]);

/** A ZIP of the given entries, each declaring the size it is given (which a test may make a lie). */
const writeZip = (entries: ZipEntry[]) => {
  const parts: Uint8Array[] = [];
  const directory: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = new TextEncoder().encode(entry.name);
    const method = le16(entry.deflated ? 8 : 0);
    const sizes = concat([le32(entry.crc), le32(entry.data.length), le32(entry.size)]);
    const local = concat([
      le32(0x04034b50),
      le16(20),
      le16(0),
      method,
      le32(0),
      sizes,
      le16(name.length),
      le16(0),
      name,
    ]);
    directory.push(
      concat([
        le32(0x02014b50),
        le16(20),
        le16(20),
        le16(0),
        method,
        le32(0),
        sizes,
        le16(name.length),
        le16(0),
        le16(0),
        le16(0),
        le16(0),
        le32(0),
        le32(offset),
        name,
      ]),
    );
    parts.push(local, entry.data);
    offset += local.length + entry.data.length;
  }
  const central = concat(directory);
  const end = concat([
    le32(0x06054b50),
    le16(0),
    le16(0),
    le16(entries.length),
    le16(entries.length),
    le32(central.length),
    le32(offset),
    le16(0),
  ]);
  return concat([...parts, central, end]);
};

/**
 * A real one-sheet XLSX with one more entry, `xl/media/padding.bin`, of `inflatesTo` zero bytes: a ZIP bomb of
 * a few hundred kilobytes. `declares` is the size its headers give for that entry (the truth by default; a
 * smaller number makes the headers lie). Its CRC is left 0: nothing APE uses checks it.
 * @example
 * const bomb = await makeXlsxBomb({ inflatesTo: 300 * 1024 * 1024 }); // ~300 kB
 */
export const makeXlsxBomb = async (options: { inflatesTo: number; declares?: number }) => {
  const { unzipSync } = await import("fflate");
  const base = unzipSync(await makeXlsx({ Sheet1: [["name"], ["Ada"]] }));
  const entries: ZipEntry[] = Object.entries(base).map(([name, data]) => ({
    name,
    data,
    size: data.length,
    crc: crc32(data),
    deflated: false,
  }));
  entries.push({
    name: "xl/media/padding.bin",
    data: await deflatedZeros(options.inflatesTo),
    size: options.declares ?? options.inflatesTo,
    crc: 0,
    deflated: true,
  });
  return writeZip(entries);
};
