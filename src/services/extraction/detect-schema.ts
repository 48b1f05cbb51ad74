import type { Table } from "../documents/extract/tabular.js";
import { type ColumnSpec, type ColumnType, normaliseValue, parseCurrency, parseDate, parseDateTime } from "./values.js";

/** A column as detection suggests it: a safe name, the header it came from, its type and how sure that is. */
export type InferredColumn = {
  /** snake_case of the header, unique within the table (`Unit Price (EUR)` → `unit_price_eur`). */
  name: string;
  /** The header as the table wrote it. */
  header: string;
  type: ColumnType;
  /** No sampled value was blank. */
  required: boolean;
  /** The share of non-blank sampled values the type reads, 0 to 1 (see {@link inferColumns}). */
  confidence: number;
  /** For `enum`: the values seen, in order of first appearance. */
  values?: string[];
};

/** What detection suggests for a table: its columns, in header order, and the mean of their confidences. */
export type InferredSchema = { columns: InferredColumn[]; confidence: number };

/** What a source looked like, for the seed's `detected_content_type`. */
export type DetectedContentType = "tabular" | "listing" | "article" | "unknown";

/** A type is chosen when at least this share of a column's values reads as it (else the column is a string). */
const MIN_AGREEMENT = 0.8;
/** An enum needs this many values to tell a repeated value from chance... */
const ENUM_MIN_VALUES = 20;
/** ...and has at most this many distinct ones. */
const ENUM_MAX_DISTINCT = 10;
/** Longer text is prose, not a category, however often it repeats. */
const ENUM_MAX_LENGTH = 200;

/**
 * Currency codes detection believes. parseCurrency reads any three capitals as a code, which is right for a
 * column already typed currency but would make `12 PCS` money when guessing.
 */
const CURRENCY_CODES = new Set(
  [
    "AED ARS AUD BGN BRL CAD CHF CLP CNY COP CZK DKK EGP EUR GBP HKD HUF IDR ILS INR ISK JPY KRW",
    "MXN MYR NGN NOK NZD PEN PHP PKR PLN RON RUB SAR SEK SGD THB TRY TWD UAH USD VND ZAR",
  ]
    .join(" ")
    .split(" "),
);

/**
 * Whether a number-like value is a quantity and not a code: leading zeros (`007`, zip codes) and digits split
 * by spaces other than thousands (`+1 555 123 4567`) are identifiers, kept as text, though parseNumber reads them.
 */
const quantityLike = (text: string) =>
  !/^[-+]?0\d/.test(text) &&
  (!/\d\s+\d/.test(text) || /^[-+]?\d{1,3}(?:[\s\u00a0\u202f]\d{3})+(?:[.,]\d+)?%?$/.test(text));

const reads = (type: ColumnType, text: string) => normaliseValue({ name: "value", type }, text).ok;

/** The per-value tests, in the order types are tried; enum and string are decided for the column as a whole. */
const VALUE_TESTS: Array<[ColumnType, (text: string) => boolean]> = [
  ["boolean", (text) => reads("boolean", text)],
  ["integer", (text) => quantityLike(text) && reads("integer", text)],
  ["number", (text) => quantityLike(text) && reads("number", text)],
  [
    "currency",
    (text) => {
      const amount = parseCurrency(text);
      return amount !== null && (amount.currency === null || CURRENCY_CODES.has(amount.currency));
    },
  ],
  // A value with a time of day is a datetime, though parseDate reads its day.
  ["date", (text) => parseDate(text) !== null && !/\d{1,2}:\d{2}/.test(text)],
  ["datetime", (text) => parseDateTime(text) !== null],
  ["url", (text) => reads("url", text)],
  ["email", (text) => reads("email", text)],
];

const hasCurrencySign = (text: string) => {
  const amount = parseCurrency(text);
  return amount?.currency !== null && amount?.currency !== undefined && CURRENCY_CODES.has(amount.currency);
};

/** The values that repeat, when few enough to be categories, and the share of the column they cover. */
const enumOf = (values: string[]): { share: number; values: string[] } | null => {
  if (values.length < ENUM_MIN_VALUES) return null;
  const counts = new Map<string, { value: string; count: number }>();
  for (const value of values) {
    const key = value.toLowerCase();
    const seen = counts.get(key);
    if (seen) seen.count += 1;
    else counts.set(key, { value, count: 1 });
  }
  const repeated = [...counts.values()].filter((entry) => entry.count >= 2 && entry.value.length <= ENUM_MAX_LENGTH);
  if (repeated.length === 0 || repeated.length > ENUM_MAX_DISTINCT) return null;
  let covered = 0;
  for (const entry of repeated) covered += entry.count;
  return { share: covered / values.length, values: repeated.map((entry) => entry.value) };
};

/**
 * One column's type from its non-blank values: the type, among those at least {@link MIN_AGREEMENT} of the
 * values read as, that reads the most, ties going to the earlier (narrower) in the order tried.
 */
const inferType = (values: string[]): Pick<InferredColumn, "type" | "confidence" | "values"> => {
  if (values.length === 0) return { type: "string", confidence: 0 };
  const shares: Array<{ type: ColumnType; share: number; values?: string[] }> = [];
  for (const [type, test] of VALUE_TESTS) {
    if (type === "currency" && !values.some(hasCurrencySign)) continue;
    let agree = 0;
    for (const value of values) if (test(value)) agree += 1;
    shares.push({ type, share: agree / values.length });
  }
  const categories = enumOf(values);
  if (categories) shares.push({ type: "enum", share: categories.share, values: categories.values });
  let best: (typeof shares)[number] | undefined;
  for (const candidate of shares) {
    if (candidate.share >= MIN_AGREEMENT && (!best || candidate.share > best.share)) best = candidate;
  }
  if (best) {
    return best.values
      ? { type: best.type, confidence: best.share, values: best.values }
      : { type: best.type, confidence: best.share };
  }
  // Every value is a string, but a column most of whose values are numbers (say) is less surely text.
  let contender = 0;
  for (const candidate of shares) contender = Math.max(contender, candidate.share);
  return { type: "string", confidence: 1 - contender };
};

/** A header as a safe column name: snake_case words, `#` as "number", never empty nor starting with a digit. */
const snakeName = (header: string, index: number) => {
  const name = header
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replaceAll("#", " number ")
    .replaceAll("%", " percent ")
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .join("_")
    .slice(0, 60)
    .replace(/_+$/, "");
  if (!name) return `column_${index + 1}`;
  return /^\p{N}/u.test(name) ? `column_${name}` : name;
};

const uniqueNames = (headers: string[]) => {
  const used = new Set<string>();
  return headers.map((header, index) => {
    const base = snakeName(header, index);
    let name = base;
    for (let n = 2; used.has(name); n += 1) name = `${base}_${n}`;
    used.add(name);
    return name;
  });
};

/** Up to `size` rows spread evenly over the table, so a sorted table's tail is seen too. */
const sampleOf = (rows: string[][], size: number) => {
  if (rows.length <= size) return rows;
  return Array.from({ length: size }, (_, i) => rows[Math.floor((i * rows.length) / size)] ?? []);
};

/**
 * Suggests a schema for a table read by code (CSV, a sheet, an HTML table), with no model: for each header, the
 * type its values read as with the parsers validation uses, tried in order (boolean, integer, number, currency
 * when a symbol or code is written, date, datetime, url, email, enum: few values that repeat, string). A
 * column's confidence is the share of its non-blank values the type reads: 95% integers and 5% "n/a" is an
 * integer at 0.95. A string column's is the share no other type reads (1 for free text), and a column with no
 * values is a string at 0. Numbers with leading zeros are codes, not integers. `required` when no sampled value
 * is blank. The schema's confidence is the mean of its columns'.
 * @example
 * inferColumns(parseCsv("id,price\n1,$12.50\n2,$3"));
 * // { columns: [{ name: "id", type: "integer", … }, { name: "price", type: "currency", … }], confidence: 1 }
 */
export function inferColumns(table: Table, options: { sampleRows?: number } = {}): InferredSchema {
  const sample = sampleOf(table.rows, Math.max(1, options.sampleRows ?? 200));
  const names = uniqueNames(table.headers);
  const columns = table.headers.map((header, index): InferredColumn => {
    const values: string[] = [];
    let blank = false;
    for (const row of sample) {
      const value = (row[index] ?? "").trim();
      if (value) values.push(value);
      else blank = true;
    }
    const inferred = inferType(values);
    return { name: names[index] ?? `column_${index + 1}`, header, ...inferred, required: values.length > 0 && !blank };
  });
  let total = 0;
  for (const column of columns) total += column.confidence;
  return { columns, confidence: columns.length === 0 ? 0 : total / columns.length };
}

/**
 * The first rows of a table as objects keyed by the inferred names, each value normalised to its column's type
 * (`$12.50` → 12.5, a written date → ISO 8601); a value its type cannot read is kept as written, a blank is null.
 * `columns` are the table's in header order, as {@link inferColumns} returns them.
 * @example
 * sampleData(table, inferColumns(table).columns, 3); // [{ id: 1, price: 12.5 }, …]
 */
export function sampleData(
  table: Table,
  columns: Array<Pick<InferredColumn, "name" | "type" | "values">>,
  n = 5,
): Array<Record<string, unknown>> {
  return table.rows.slice(0, Math.max(0, n)).map((row) => {
    const record: Record<string, unknown> = {};
    columns.forEach((column, index) => {
      const raw = row[index] ?? "";
      const spec: ColumnSpec = { name: column.name, type: column.type, values: column.values };
      const normalised = normaliseValue(spec, raw);
      record[column.name] = normalised.ok ? normalised.value : raw;
    });
    return record;
  });
}

/**
 * What a source holds, for `detected_content_type`: `tabular` when code can read rows from its tables (a CSV,
 * a workbook, a page with a data table), `listing` for a page of repeated items without a table (cards,
 * list entries: a model reads them), `article` for prose, `unknown` otherwise. `tables` counts data tables
 * (for a page, those of `tablesFromHtml` worth reading); `items` (repeated elements of a page) and `words`
 * sharpen the guess when the caller has them.
 * @example
 * detectContentType({ kind: "html", tables: 0, items: 24 }); // "listing"
 */
export function detectContentType(input: {
  kind: "csv" | "xlsx" | "html" | "text";
  tables: number;
  items?: number;
  words?: number;
}): DetectedContentType {
  switch (input.kind) {
    case "csv":
    case "xlsx":
      return input.tables > 0 ? "tabular" : "unknown";
    case "html":
      if (input.tables > 0) return "tabular";
      if ((input.items ?? 0) >= 5) return "listing";
      return (input.words ?? 0) >= 150 ? "article" : "unknown";
    case "text":
      return input.words === undefined || input.words >= 50 ? "article" : "unknown";
  }
}
