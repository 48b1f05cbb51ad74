import { describe, expect, it } from "vitest";
import { validateRows } from "../../src/services/extraction/validate.js";
import { normaliseValue, parseDate, parseNumber } from "../../src/services/extraction/values.js";

// The code every extracted value passes through, before anyone sees it: what a written value becomes, and
// which rules a row breaks.
describe("normalising values by column type", () => {
  it("reads written dates as ISO 8601, and refuses what is not a date", () => {
    expect(parseDate("2024-03-05")).toBe("2024-03-05");
    expect(parseDate("5 March 2024")).toBe("2024-03-05");
    expect(parseDate("March 5th, 2024")).toBe("2024-03-05");
    expect(parseDate("05.03.2024")).toBe("2024-03-05");
    expect(parseDate("03/05/2024")).toBe("2024-03-05");
    expect(parseDate("2024-02-30")).toBeNull();
    expect(parseDate("next Tuesday")).toBeNull();
    expect(normaliseValue({ name: "at", type: "datetime" }, "2024-03-05 14:30:00+02:00")).toEqual({
      ok: true,
      value: "2024-03-05T12:30:00.000Z",
    });
  });

  it("parses numbers and money in their written forms", () => {
    expect(parseNumber("1,234.5")).toBe(1234.5);
    expect(parseNumber("1.234,5")).toBe(1234.5);
    expect(parseNumber("(12)")).toBe(-12);
    expect(parseNumber("12 apples")).toBeNull();
    expect(normaliseValue({ name: "p", type: "currency" }, "$1,299.00")).toEqual({ ok: true, value: 1299 });
    expect(normaliseValue({ name: "p", type: "currency" }, "EUR 12,50")).toEqual({ ok: true, value: 12.5 });
    expect(normaliseValue({ name: "n", type: "integer" }, "12.5")).toMatchObject({ ok: false });
  });

  it("checks URLs, emails, booleans and enums", () => {
    expect(normaliseValue({ name: "u", type: "url" }, "https://example.com/a b")).toEqual({
      ok: true,
      value: "https://example.com/a%20b",
    });
    expect(normaliseValue({ name: "u", type: "url" }, "javascript:alert(1)")).toMatchObject({ ok: false });
    expect(normaliseValue({ name: "e", type: "email" }, " Ana@Example.COM ")).toEqual({
      ok: true,
      value: "ana@example.com",
    });
    expect(normaliseValue({ name: "e", type: "email" }, "ana@")).toMatchObject({ ok: false });
    expect(normaliseValue({ name: "b", type: "boolean" }, "Yes")).toEqual({ ok: true, value: true });
    expect(normaliseValue({ name: "s", type: "enum", values: ["In stock", "Sold out"] }, "sold OUT")).toEqual({
      ok: true,
      value: "Sold out",
    });
  });
});

describe("validating rows", () => {
  const columns = [
    { name: "sku", type: "string" as const, required: true },
    { name: "price", type: "currency" as const, required: true },
    { name: "listed", type: "date" as const },
  ];

  it("names the row, column and rule of every failure", () => {
    const { rows, valid } = validateRows({
      columns,
      rules: {
        sku: { pattern: "^[A-Z]{3}-\\d+$", unique: true },
        price: { min: 0, max: 1000 },
        listed: { min: "2020-01-01" },
      },
      rows: [
        { sku: "ABC-1", price: "$10", listed: "1 June 2024" },
        { sku: "abc", price: "-5", listed: "2019-12-31" },
        { sku: "ABC-1", price: "", listed: "soon" },
      ],
    });
    expect(valid).toBe(1);
    expect(rows[0]).toEqual({ values: { sku: "ABC-1", price: 10, listed: "2024-06-01" }, valid: true, errors: [] });
    expect(rows[1]?.errors.map((error) => [error.row, error.column, error.rule])).toEqual([
      [1, "sku", "pattern"],
      [1, "price", "min"],
      [1, "listed", "min"],
    ]);
    expect(rows[2]?.errors.map((error) => [error.row, error.column, error.rule])).toEqual([
      [2, "sku", "unique"],
      [2, "price", "required"],
      [2, "listed", "type"],
    ]);
    // A value that is not of its type is kept as given, so nothing the source said is lost.
    expect(rows[2]?.values.listed).toBe("soon");
  });
});
