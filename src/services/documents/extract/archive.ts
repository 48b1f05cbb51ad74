import { Inflate } from "fflate";
import { DocumentError } from "./errors.js";

/** What a ZIP may inflate to before anything opens it. */
export type ArchiveLimits = {
  /** The most all entries together may inflate to, in bytes (`DOCUMENT_MAX_UNCOMPRESSED_BYTES`). */
  maxUncompressedBytes: number;
  /** The most the archive may inflate to per byte of file (`DOCUMENT_MAX_COMPRESSION_RATIO`). */
  maxRatio: number;
};

/** The settings' defaults, for callers without an environment at hand. */
export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = { maxUncompressedBytes: 64 * 1024 * 1024, maxRatio: 100 };

/** Entries one archive may hold: an XLSX has a few dozen, and SheetJS copies the rest of the file per entry. */
export const MAX_ARCHIVE_ENTRIES = 1_000;

/** Below this, a high ratio is harmless (a tiny sheet of one repeated value compresses 500 times). */
const RATIO_FLOOR_BYTES = 1024 * 1024;

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const ZIP64_SIZE = 0xffffffff;
const DEFLATE = 8;

/** What measuring found: entries and the bytes they inflate to, all together. */
export type ArchiveMeasure = { entries: number; uncompressedBytes: number; compressedBytes: number };

const corrupt = (why: string) => new DocumentError("CORRUPT_DOCUMENT", `The file is not a readable ZIP: ${why}.`);

const tooLarge = (why: string) =>
  new DocumentError("ARCHIVE_TOO_LARGE", `The file inflates to more than APE opens: ${why}.`, false);

/**
 * Measures a ZIP (XLSX, DOCX, any zipped format) before anything opens it, and refuses it with
 * `ARCHIVE_TOO_LARGE` when its entries add up past `maxUncompressedBytes`, inflate more than `maxRatio` times
 * the file's size, or number more than {@link MAX_ARCHIVE_ENTRIES}. First the central directory, read the way
 * SheetJS reads it (the last end-of-directory record, then each entry's local header, whose size SheetJS
 * trusts): each entry counts at the larger of the sizes it declares, so an honest bomb is refused without a
 * byte inflated. Then, since a header may lie (SheetJS grows its buffer without bound for a declared size of
 * 0, and decodes the whole stream whatever the size says), each deflated entry is inflated here, its output
 * counted and thrown away, stopping the moment the total passes the allowance: memory stays at one window and
 * the CPU spent is bounded by the allowance, not by what the file could inflate to.
 * @example
 * measureArchive(bytes, { maxUncompressedBytes: 64 * 1024 * 1024, maxRatio: 100 }); // throws on a ZIP bomb
 */
export function measureArchive(bytes: Uint8Array, limits: ArchiveLimits): ArchiveMeasure {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => {
    if (at < 0 || at + 2 > bytes.byteLength) throw corrupt("a header runs past the end of the file");
    return view.getUint16(at, true);
  };
  const u32 = (at: number) => {
    if (at < 0 || at + 4 > bytes.byteLength) throw corrupt("a header runs past the end of the file");
    return view.getUint32(at, true);
  };

  // SheetJS takes the last signature in the file, even one too close to the end to hold a record; so do we,
  // and refuse that case rather than guess what it would read there.
  let end = bytes.byteLength - 4;
  while (end >= 0 && view.getUint32(end, true) !== EOCD) end -= 1;
  if (end < 0) throw corrupt("it has no end-of-directory record");
  if (end + 22 > bytes.byteLength) throw corrupt("its end-of-directory record is cut short");
  const count = u16(end + 10);
  if (count > MAX_ARCHIVE_ENTRIES) throw tooLarge(`${count} entries, more than ${MAX_ARCHIVE_ENTRIES}`);

  const entries: { data: Uint8Array; declared: number; deflated: boolean }[] = [];
  let declaredTotal = 0;
  let compressedTotal = 0;
  let at = u32(end + 16);
  for (let index = 0; index < count; index++) {
    if (u32(at) !== CENTRAL) throw corrupt(`entry ${index + 1} of the directory is not where it says`);
    let compressed = u32(at + 20);
    let uncompressed = u32(at + 24);
    const nameLength = u16(at + 28);
    const extraLength = u16(at + 30);
    const commentLength = u16(at + 32);
    let localOffset = u32(at + 42);
    const zip64 = zip64Sizes(bytes, view, at + 46 + nameLength, extraLength, {
      uncompressed: uncompressed === ZIP64_SIZE,
      compressed: compressed === ZIP64_SIZE,
      offset: localOffset === ZIP64_SIZE,
    });
    uncompressed = zip64.uncompressed ?? uncompressed;
    compressed = zip64.compressed ?? compressed;
    localOffset = zip64.offset ?? localOffset;

    if (u32(localOffset) !== LOCAL) throw corrupt(`entry ${index + 1} has no local header`);
    const method = u16(localOffset + 8);
    const localUncompressed = u32(localOffset + 22);
    const dataStart = localOffset + 30 + u16(localOffset + 26) + u16(localOffset + 28);
    const declared = Math.max(uncompressed, localUncompressed === ZIP64_SIZE ? 0 : localUncompressed);
    declaredTotal += declared;
    compressedTotal += compressed;
    if (declaredTotal > limits.maxUncompressedBytes) {
      throw tooLarge(`its entries declare more than ${limits.maxUncompressedBytes} bytes`);
    }
    // A data descriptor leaves the local sizes at 0; the directory's compressed size is still the real one.
    const length = compressed > 0 ? compressed : bytes.byteLength - dataStart;
    entries.push({
      data: bytes.subarray(dataStart, Math.min(bytes.byteLength, dataStart + length)),
      declared,
      deflated: method === DEFLATE,
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  checkRatio(declaredTotal, bytes.byteLength, limits);

  let total = 0;
  for (const entry of entries) {
    const inflated = entry.deflated ? inflatedSize(entry.data, limits.maxUncompressedBytes - total) : 0;
    total += Math.max(entry.declared, inflated);
    if (total > limits.maxUncompressedBytes) {
      throw tooLarge(`its entries inflate to more than ${limits.maxUncompressedBytes} bytes`);
    }
  }
  checkRatio(total, bytes.byteLength, limits);
  return { entries: count, uncompressedBytes: total, compressedBytes: compressedTotal };
}

function checkRatio(total: number, size: number, limits: ArchiveLimits) {
  const ratio = total / Math.max(1, size);
  if (total > RATIO_FLOOR_BYTES && ratio > limits.maxRatio) {
    throw tooLarge(
      `it inflates ${Math.round(ratio)} times its size (${total} bytes from ${size}), more than ${limits.maxRatio}`,
    );
  }
}

/** The ZIP64 extra field's sizes, present (in this order) only for those the header set to 0xFFFFFFFF. */
function zip64Sizes(
  bytes: Uint8Array,
  view: DataView,
  start: number,
  length: number,
  wanted: { uncompressed: boolean; compressed: boolean; offset: boolean },
): { uncompressed?: number; compressed?: number; offset?: number } {
  if (!wanted.uncompressed && !wanted.compressed && !wanted.offset) return {};
  const stop = Math.min(start + length, bytes.byteLength);
  for (let at = start; at + 4 <= stop; ) {
    const id = view.getUint16(at, true);
    const size = view.getUint16(at + 2, true);
    if (id === 0x0001) {
      let field = at + 4;
      const next = () => {
        if (field + 8 > stop) throw corrupt("a ZIP64 size runs past its field");
        const value = Number(view.getBigUint64(field, true));
        field += 8;
        return value;
      };
      const found: { uncompressed?: number; compressed?: number; offset?: number } = {};
      if (wanted.uncompressed) found.uncompressed = next();
      if (wanted.compressed) found.compressed = next();
      if (wanted.offset) found.offset = next();
      return found;
    }
    at += 4 + size;
  }
  throw corrupt("an entry says its sizes are in a ZIP64 field it does not have");
}

/** Bytes a raw DEFLATE stream inflates to, counted and thrown away; stops (refusing) past `allowance`. */
function inflatedSize(stream: Uint8Array, allowance: number): number {
  let produced = 0;
  const inflate = new Inflate((chunk) => {
    produced += chunk.byteLength;
  });
  // Small pushes: DEFLATE can turn 2 KiB into 2 MiB, and each push's output is held until it is counted.
  const step = 2 * 1024;
  try {
    for (let at = 0; at < stream.byteLength; at += step) {
      const last = at + step >= stream.byteLength;
      inflate.push(stream.subarray(at, at + step), last);
      if (produced > allowance) throw tooLarge(`an entry inflates past the ${allowance} bytes left of the allowance`);
    }
  } catch (error) {
    if (error instanceof DocumentError) throw error;
    throw corrupt("an entry's compressed data is damaged");
  }
  return produced;
}
