import { describe, expect, it } from "vitest";
import { measureArchive } from "../../src/services/documents/extract/archive.js";
import { DocumentError } from "../../src/services/documents/extract/errors.js";
import { readWorkbook } from "../../src/services/documents/extract/workbook.js";
import { makeXlsx, makeXlsxBomb } from "../helpers/test-files.js";

// A ZIP is measured before SheetJS inflates it: by what its directory declares, and, since headers can lie,
// by inflating each entry here with the output counted and dropped.
const limits = { maxUncompressedBytes: 64 * 1024 * 1024, maxRatio: 100 };

const codeOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof DocumentError) return error.code;
    throw error;
  }
  return null;
};

describe("measuring a ZIP before it is opened", () => {
  it("passes a real workbook and reads it", async () => {
    const xlsx = await makeXlsx({
      Sales: [
        ["Region", "Q1"],
        ["EU", 12],
      ],
    });
    const measure = measureArchive(xlsx, limits);
    expect(measure.entries).toBeGreaterThan(3);
    expect(measure.uncompressedBytes).toBeGreaterThan(0);
    expect(readWorkbook(xlsx, limits)[0]).toMatchObject({ name: "Sales", headers: ["Region", "Q1"] });
  });

  it("refuses a workbook whose directory declares hundreds of MB", async () => {
    const bomb = await makeXlsxBomb({ inflatesTo: 200 * 1024 * 1024 });
    expect(bomb.byteLength).toBeLessThan(1024 * 1024);
    expect(codeOf(() => readWorkbook(bomb, limits))).toBe("ARCHIVE_TOO_LARGE");
  });

  it("refuses one whose headers lie about its size, by inflating it here and stopping at the allowance", async () => {
    const liar = await makeXlsxBomb({ inflatesTo: 100 * 1024 * 1024, declares: 1000 });
    expect(codeOf(() => measureArchive(liar, limits))).toBe("ARCHIVE_TOO_LARGE");
  });

  it("refuses one under the total that inflates more than the ratio allows", async () => {
    const dense = await makeXlsxBomb({ inflatesTo: 20 * 1024 * 1024 });
    expect(codeOf(() => measureArchive(dense, limits))).toBe("ARCHIVE_TOO_LARGE");
    expect(codeOf(() => measureArchive(dense, { ...limits, maxRatio: 10_000 }))).toBeNull();
  });

  it("calls a file that is no ZIP corrupt", () => {
    expect(codeOf(() => measureArchive(new TextEncoder().encode("not a zip at all, just text"), limits))).toBe(
      "CORRUPT_DOCUMENT",
    );
  });
});
