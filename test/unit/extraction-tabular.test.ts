import Papa from "papaparse";
import { describe, expect, it } from "vitest";
import { parseCsv } from "../../src/services/documents/extract/tabular.js";
import { detectContentType, inferColumns, sampleData } from "../../src/services/extraction/detect-schema.js";
import { mapHeaders, mapsToSchema, rowsFromTable, tablesFromHtml } from "../../src/services/extraction/tabular.js";
import { validateRows } from "../../src/services/extraction/validate.js";

// Sources whose rows code can read, with no model: tables of a page, mapped to the caller's schema, and a
// schema suggested from a table's own values.

const PAGE = `<!doctype html>
<html><head><title>Catalogue</title><style>td { color: red }</style></head>
<body>
  <h1>Tools</h1>
  <table id="tools">
    <thead><tr><th>Product name</th><th>Unit Price (EUR)</th><th>In stock?</th></tr></thead>
    <tbody>
      <tr><td>  Torque
        wrench </td><td>€84,00</td><td>yes</td></tr>
      <tr><td>Socket set &amp; case</td><td>€129,50</td><td>no</td></tr>
      <tr><td>Hex <b>keys</b><table><tr><td>a nested table, not a row</td></tr></table></td><td>€12,00</td><td>yes</td></tr>
    </tbody>
  </table>
  <p>Opening hours</p>
  <table>
    <tr><td>Day</td><td>Opens</td><td>Closes</td></tr>
    <tr><td>Monday</td><td colspan="2">closed</td></tr>
    <tr><td>Tuesday</td><td>09:00</td><td>18:00</td></tr>
  </table>
</body></html>`;

const SHOP_COLUMNS = [
  { name: "product", type: "string", required: true },
  { name: "price", type: "currency", required: true },
  { name: "in_stock", type: "boolean" },
] as const;

describe("reading the tables of a page", () => {
  it("finds every table, with th or the first row as headers, colspans repeated and nested tables ignored", () => {
    const tables = tablesFromHtml(PAGE);
    expect(tables).toEqual([
      {
        headers: ["Product name", "Unit Price (EUR)", "In stock?"],
        rows: [
          ["Torque wrench", "€84,00", "yes"],
          ["Socket set & case", "€129,50", "no"],
          ["Hex keys", "€12,00", "yes"],
        ],
      },
      {
        headers: ["Day", "Opens", "Closes"],
        rows: [
          ["Monday", "closed", "closed"],
          ["Tuesday", "09:00", "18:00"],
        ],
      },
    ]);
  });

  it("reads tables whose end tags were left out, as minified pages do, and stacked header rows", () => {
    const minified =
      "<table><thead><tr><th rowspan=2>Item<th colspan=2>Price<tr><th>EUR<th>USD<tbody>" +
      "<tr><td>Wrench<td>84<td>91<tr><td>Pliers<td>20<td>22</table><p>Footer text<table><tr><td>Next</table>";
    expect(tablesFromHtml(minified)).toEqual([
      {
        headers: ["Item", "Price EUR", "Price USD"],
        rows: [
          ["Wrench", "84", "91"],
          ["Pliers", "20", "22"],
        ],
      },
      { headers: ["Next"], rows: [] },
    ]);
  });

  it("survives a page nested thousands of elements deep, and drops a title row above the headers", () => {
    const deep = `<table><tr><th>Note</th></tr><tr><td>${"<span>".repeat(20_000)}deep</td></tr></table>`;
    expect(tablesFromHtml(deep)).toEqual([{ headers: ["Note"], rows: [["deep"]] }]);
    const titled =
      "<table><thead><tr><th colspan=2>Spring catalogue</th></tr><tr><th>Item</th><th>Price</th></tr></thead>" +
      "<tbody><tr><td>Wrench</td><td>$84</td></tr></tbody></table>";
    expect(tablesFromHtml(titled)).toEqual([{ headers: ["Item", "Price"], rows: [["Wrench", "$84"]] }]);
  });
});

describe("mapping a table's headers to the caller's schema", () => {
  it("maps product, price and in_stock to Product name, Unit Price (EUR) and In stock?", () => {
    const result = mapHeaders(["Product name", "Unit Price (EUR)", "In stock?"], [...SHOP_COLUMNS]);
    expect(result.mapping).toEqual({ product: 0, price: 1, in_stock: 2 });
    expect(result.unmapped).toEqual([]);
    expect(result.confidence).toBeGreaterThan(0.7);
    expect(mapsToSchema(result, [...SHOP_COLUMNS])).toBe(true);
  });

  it("matches exactly after normalising case, separators, punctuation and plurals", () => {
    const result = mapHeaders(
      ["UNIT-PRICES", "Product_Name", "Emails"],
      [
        { name: "productName", type: "string" },
        { name: "unit_price", type: "currency" },
        { name: "email", type: "email" },
      ],
    );
    expect(result).toEqual({ mapping: { productName: 1, unit_price: 0, email: 2 }, unmapped: [], confidence: 1 });
  });

  it("uses a column's description, and gives each header to one column only", () => {
    const result = mapHeaders(
      ["Company name", "Product name", "Qty"],
      [
        { name: "name", type: "string" },
        { name: "company", type: "string" },
        { name: "ordered", type: "integer", description: "The quantity ordered" },
      ],
    );
    expect(result.mapping).toEqual({ name: 1, company: 0, ordered: 2 });
  });

  it("does not map a table that lacks a required column", () => {
    const result = mapHeaders(["Product name", "In stock?", "Colour"], [...SHOP_COLUMNS]);
    expect(result.mapping).toEqual({ product: 0, in_stock: 1 });
    expect(result.unmapped).toEqual(["price"]);
    expect(mapsToSchema(result, [...SHOP_COLUMNS])).toBe(false);
    // Nothing shared at all: no mapping, even for a schema with no required column.
    const none = mapHeaders(["Day", "Opens"], [{ name: "price", type: "currency" }]);
    expect(none.unmapped).toEqual(["price"]);
    expect(mapsToSchema(none, [{ name: "price" }])).toBe(false);
  });

  it("gives rows keyed by column name with the cells' raw text, which validation then normalises", () => {
    const [table] = tablesFromHtml(PAGE);
    if (!table) throw new Error("expected a table");
    const { mapping } = mapHeaders(table.headers, [...SHOP_COLUMNS]);
    const rows = rowsFromTable(table, mapping, [...SHOP_COLUMNS]);
    expect(rows[0]).toEqual({ product: "Torque wrench", price: "€84,00", in_stock: "yes" });
    const { rows: validated, valid } = validateRows({
      columns: SHOP_COLUMNS.map((column) => ({ ...column })),
      rows,
    });
    expect(valid).toBe(3);
    expect(validated.map((row) => row.values)).toEqual([
      { product: "Torque wrench", price: 84, in_stock: true },
      { product: "Socket set & case", price: 129.5, in_stock: false },
      { product: "Hex keys", price: 12, in_stock: true },
    ]);
  });
});

/** A listing of 30 products as CSV, as a shop would export it; `dirty` puts "n/a" in three quantities. */
const productCsv = () => {
  const dates = ["2024-03-05", "5 March 2024", "March 6th, 2024", "07.03.2024", "03/08/2024", "Mar 9 2024"];
  const statuses = ["available", "reserved", "sold"];
  const rows = Array.from({ length: 30 }, (_, i) => {
    const n = i + 1;
    return [
      String(n),
      `$${(10 + n * 1.25).toFixed(2)}`,
      dates[i % dates.length] ?? "",
      n % 2 === 0 ? "yes" : "no",
      `buyer${n}@example.com`,
      `https://shop.example.com/p/${n}`,
      statuses[i % 3] ?? "",
      n === 5 ? "" : `Checked on visit ${n}, shelf ${(n % 6) + 1} looks tidy`,
      n % 10 === 0 ? "n/a" : String(n * 3),
    ];
  });
  const headers = ["ID", "Price", "Listed on", "Active?", "E-mail", "Product URL", "Status", "Note", "Qty"];
  return Papa.unparse([headers, ...rows]);
};

describe("suggesting a schema from a table's values", () => {
  const table = parseCsv(productCsv());
  const schema = inferColumns(table);
  const byName = Object.fromEntries(schema.columns.map((column) => [column.name, column]));

  it("names columns safely and reads each one's type from its values", () => {
    expect(schema.columns.map((column) => [column.name, column.type])).toEqual([
      ["id", "integer"],
      ["price", "currency"],
      ["listed_on", "date"],
      ["active", "boolean"],
      ["e_mail", "email"],
      ["product_url", "url"],
      ["status", "enum"],
      ["note", "string"],
      ["qty", "integer"],
    ]);
    expect(byName.status?.values).toEqual(["available", "reserved", "sold"]);
    expect(byName.listed_on?.header).toBe("Listed on");
  });

  it("is sure where every value agrees, and says the exact share where some do not", () => {
    for (const name of ["id", "price", "listed_on", "active", "e_mail", "product_url", "status", "note"]) {
      expect(byName[name]?.confidence, name).toBe(1);
    }
    // 27 of the 30 quantities are whole numbers; 3 are "n/a".
    expect(byName.qty?.confidence).toBe(27 / 30);
    expect(schema.confidence).toBeCloseTo((8 + 27 / 30) / 9, 10);
  });

  it("marks a column required only when none of its values is blank", () => {
    expect(byName.id?.required).toBe(true);
    expect(byName.qty?.required).toBe(true);
    expect(byName.note?.required).toBe(false);
  });

  it("keeps codes with leading zeros as text, sets a mostly numeric column's text apart, and names uniquely", () => {
    const codes = inferColumns({
      headers: ["Zip", "Zip", "#", "Model"],
      rows: [
        ["02134", "02134", "1", "A1"],
        ["10001", "10001", "2", "2000"],
        ["00501", "00501", "3", "3000"],
        ["94105", "94105", "4", "4000"],
      ],
    });
    expect(codes.columns.map((column) => column.name)).toEqual(["zip", "zip_2", "number", "model"]);
    expect(codes.columns[0]).toMatchObject({ type: "string", confidence: 0.5 });
    expect(codes.columns[3]).toMatchObject({ type: "string", confidence: 0.25 });
  });

  it("gives the first rows as samples keyed by the inferred names, normalised", () => {
    const [first, second] = sampleData(table, schema.columns, 2);
    expect(first).toEqual({
      id: 1,
      price: 11.25,
      listed_on: "2024-03-05",
      active: false,
      e_mail: "buyer1@example.com",
      product_url: "https://shop.example.com/p/1",
      status: "available",
      note: "Checked on visit 1, shelf 2 looks tidy",
      qty: 3,
    });
    expect(second).toMatchObject({ listed_on: "2024-03-05", active: true, status: "reserved" });
    expect(sampleData(table, schema.columns)).toHaveLength(5);
  });

  it("tells tabular sources from listings and articles", () => {
    expect(detectContentType({ kind: "csv", tables: 1 })).toBe("tabular");
    expect(detectContentType({ kind: "html", tables: 2 })).toBe("tabular");
    expect(detectContentType({ kind: "html", tables: 0, items: 24 })).toBe("listing");
    expect(detectContentType({ kind: "html", tables: 0, words: 900 })).toBe("article");
    expect(detectContentType({ kind: "xlsx", tables: 0 })).toBe("unknown");
  });
});
