import { z } from "zod";
import { ApiError } from "../../lib/errors.js";
import { jsonSchemaFormat, parseJsonAnswer } from "../../llm/json-answer.js";
import { untrusted, untrustedDataRule } from "../../llm/prompts.js";
import type { ChatMessage, FinishReason, LlmRequest } from "../../llm/types.js";
import type { ServiceContext } from "../context.js";
import { chunkPages as chunkMarkdown } from "../documents/chunk.js";
import { completeForCaller, type ModelCall } from "../llm/call-model.js";
import { type ColumnSpec, type ColumnType, normaliseValue } from "./values.js";

/** A column to extract: its type and rules as validation sees them, and what it means, for the model. */
export type ExtractionColumn = ColumnSpec & { description?: string | undefined };

/** One page of text to extract from: where it came from, and its text as Markdown. */
export type ExtractionPage = {
  /** The URL or document id the text came from. */
  source: string;
  /** The 1-based page of a document, or null for a web page. */
  page: number | null;
  text: string;
};

/** Where a row came from. `quote` is the model's, checked against the text, or the best line of the text. */
export type RowProvenance = {
  source: string;
  page: number | null;
  /** The line or sentence the row came from; null when no line of the text holds any of its values. */
  quote: string | null;
  /** True when the model's quote occurs in the text; false when it did not, and `quote` was picked by code. */
  quote_verified: boolean;
};

/** One extracted row: the values as the model wrote them, where it came from, and a confidence per value. */
export type ExtractedRow = {
  values: Record<string, unknown>;
  provenance: RowProvenance;
  /**
   * Per non-empty value: 1 when its text occurs in the text it came from, 0.7 when a different writing of the
   * same value does (a date or number written otherwise), 0.3 when neither does. Empty values have none.
   */
  confidence: Record<string, number>;
};

/** How far an extraction has got, after each chunk. */
export type ExtractionProgress = { chunksDone: number; chunksTotal: number; rowsSoFar: number };

/** A piece of a page's text, sized for one model call: the `part`-th (1-based) of the page's `parts`. */
export type TextChunk = { source: string; page: number | null; text: string; part: number; parts: number };

export type ChunkOptions = {
  /** A chunk is at most this many characters, a table header repeated in front included. Default 6,000. */
  size?: number;
  /** Up to this many characters at the end of a chunk of prose start the next chunk too. Default 600. */
  overlap?: number;
};

const CHUNK_SIZE = 6_000;
const CHUNK_OVERLAP = 600;
const CONCURRENCY = 3;

/**
 * Cuts a page's text into chunks of at most `size` characters with the one Markdown chunker documents use
 * (documents/chunk.ts): packed to about nine tenths of `size`, so the heading above and the overlap fit;
 * cut at headings and blank lines, a long paragraph or list at sentence ends, then lines, then words; a
 * table never mid-row, with its header row repeated at the top of each chunk that carries part of it. Prose
 * chunks of one section start up to `overlap` characters before the previous one ended, on a line of their
 * own where one starts within that reach, so an item at a chunk's edge is whole in at least one chunk.
 * @example
 * chunkText(markdown); // ["# Products\n\n- Widget …", "- Gadget …", …]
 */
export const chunkText = (text: string, options: ChunkOptions = {}): string[] => {
  const size = options.size ?? CHUNK_SIZE;
  const overlap = options.overlap ?? CHUNK_OVERLAP;
  if (!Number.isInteger(size) || size < 100) throw new RangeError("size must be an integer ≥ 100");
  if (!Number.isInteger(overlap) || overlap < 0 || overlap > size / 4) {
    throw new RangeError("overlap must be an integer between 0 and a quarter of size");
  }
  const chunks = chunkMarkdown([{ page: 1, text }], {
    targetChars: Math.floor(size * 0.9),
    maxChars: size,
    overlapChars: overlap,
  });
  return chunks.map((chunk) => chunk.content);
};

/**
 * Pages cut into chunks for the model, in page order.
 * @example
 * chunkPages([{ source: "https://shop.example/list", page: null, text }]);
 */
export const chunkPages = (pages: ExtractionPage[], options: ChunkOptions = {}): TextChunk[] =>
  pages.flatMap((page) => {
    const texts = chunkText(page.text, options);
    return texts.map((text, index) => ({
      source: page.source,
      page: page.page,
      text,
      part: index + 1,
      parts: texts.length,
    }));
  });

// Amounts stay strings, as written with their sign or code: the model copies, code normalises.
const jsonTypeOf = (type: ColumnType) =>
  type === "number" || type === "integer" ? "number" : type === "boolean" ? "boolean" : "string";

const typeHints: Record<ColumnType, string> = {
  string: "text",
  number: "a number",
  integer: "a whole number",
  boolean: "true or false",
  date: "a date, as written in the text",
  datetime: "a date and time, as written in the text",
  url: "a URL",
  email: "an email address",
  currency: "an amount of money, as written, with its currency sign or code",
  enum: "one of the allowed values",
};

/**
 * The JSON Schema of the answer for these columns: `{ rows: [{ <column>…, _quote }] }`.
 * @example
 * rowsJsonSchema([{ name: "price", type: "currency", required: true }]);
 */
export const rowsJsonSchema = (columns: ExtractionColumn[]) => ({
  type: "object",
  properties: {
    rows: {
      type: "array",
      items: {
        type: "object",
        properties: {
          ...Object.fromEntries(
            columns.map((column) => {
              const allowed = column.type === "enum" && column.values?.length ? ` (${column.values.join(", ")})` : "";
              const hint = `${typeHints[column.type]}${allowed}`;
              return [
                column.name,
                {
                  type: jsonTypeOf(column.type),
                  description: column.description ? `${column.description}; ${hint}` : hint,
                },
              ];
            }),
          ),
          _quote: { type: "string", description: "the exact sentence or line of the text the row came from" },
        },
        required: [...columns.filter((column) => column.required).map((column) => column.name), "_quote"],
      },
    },
  },
  required: ["rows"],
});

const RowsAnswer = z.object({ rows: z.array(z.record(z.string(), z.unknown())) });

const systemPrompt = (columns: ExtractionColumn[]) =>
  [
    "You extract structured rows from text for a data extraction job: each item the text describes (a product, a person, an event, a line of a table…) becomes one row with the columns below.",
    untrustedDataRule("page_text"),
    `Answer with one JSON object that matches this JSON Schema, and nothing else (no Markdown, no comments):\n${JSON.stringify(rowsJsonSchema(columns))}`,
    [
      "Rules:",
      "- List EVERY item in the text, not a sample: a list of 40 items is 40 rows. Do not skip items that look alike or repeat.",
      "- Copy each value as it is written in the text: the same words, spelling, number format and date format. Do not translate, convert, round, complete or guess a value. Leave a column out when the text does not give it.",
      "- `_quote` is the exact sentence or line of the text the row came from, copied character for character.",
      "- The text may be a part of a longer page and start or end mid-way: extract the items it shows.",
      '- When the text holds no such item, answer {"rows": []}.',
    ].join("\n"),
  ].join("\n\n");

const userPrompt = (chunk: TextChunk) =>
  [
    "Extract the rows from this text.",
    untrusted("page_text", chunk.text, {
      source: chunk.source,
      page: chunk.page ?? undefined,
      part: chunk.parts > 1 ? `${chunk.part} of ${chunk.parts}` : undefined,
    }),
  ].join("\n\n");

const repairPrompt = (problems: string[]) =>
  [
    "Your answer does not match the required JSON shape:",
    ...problems.map((problem) => `- ${problem}`),
    'Answer again with the corrected JSON object only: {"rows": [...]} as the system message describes, keeping what was right, with no text or Markdown around it.',
  ].join("\n");

const validate = (text: string, finishReason: FinishReason) => {
  // A bare array of rows is the right answer in the wrong wrapping: taken as it is rather than repaired.
  const parsed = parseJsonAnswer(text, RowsAnswer, {
    prepare: (value) => (Array.isArray(value) ? { rows: value } : value),
  });
  if (parsed.ok || finishReason !== "length") return parsed;
  return {
    ok: false as const,
    problems: ["(the whole answer): was cut off at the output token limit", ...parsed.problems],
  };
};

const squash = (text: string) => text.replace(/\s+/g, " ").trim();

const isBlank = (value: unknown) =>
  value === null || value === undefined || (typeof value === "string" && value.trim() === "");

const textOf = (value: unknown) =>
  typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);

// Written forms of numbers and amounts (`$1,299.00`, `(12)`, `1.234,5 EUR`) and of dates (`2024-03-05`,
// `05.03.2024`, `5th March 2024`, `March 5, 2024`): what a value's normalised form is compared against.
const numberLike = /\(?[-+]?(?:[A-Z]{3}\s?)?[$€£¥₹]?\s?\d(?:[\d.,'\u00a0\u202f ]*\d)?%?\)?(?:\s?[A-Z]{3}\b)?/g;
const dateLike = new RegExp(
  [
    String.raw`\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?`,
    String.raw`\d{4}/\d{2}/\d{2}`,
    String.raw`\d{1,2}[./]\d{1,2}[./]\d{4}`,
    String.raw`\d{1,2}(?:st|nd|rd|th)?\s+[A-Za-z]{3,9}\.?,?\s+\d{4}`,
    String.raw`[A-Za-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}`,
    String.raw`\b\d{8}\b`,
  ].join("|"),
  "g",
);

/** The written forms in the text a value of this type could have been read from. */
const candidatesOf = (type: ColumnType, text: string): string[] => {
  const pattern =
    type === "number" || type === "integer" || type === "currency"
      ? numberLike
      : type === "date" || type === "datetime"
        ? dateLike
        : null;
  if (!pattern) return [];
  return [...text.matchAll(pattern)].flatMap((match) => {
    const parts = match[0].trim().split(/\s+/);
    return parts.length > 1 ? [match[0].trim(), ...parts] : [match[0].trim()];
  });
};

/** Facts about one chunk's text, computed once for all its rows. */
type ChunkText = { squashed: string; lowered: string; candidates: Map<ColumnType, string[]> };

const readChunk = (text: string): ChunkText => {
  const squashed = squash(text);
  return { squashed, lowered: squashed.toLowerCase(), candidates: new Map() };
};

const sameNormalised = (a: unknown, b: unknown) =>
  a === b || (typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase());

/** 1, 0.7 or 0.3: how surely a value the model wrote is in the text (see {@link ExtractedRow.confidence}). */
const confidenceOf = (column: ExtractionColumn, raw: unknown, chunk: ChunkText) => {
  const written = squash(textOf(raw));
  if (written !== "" && chunk.squashed.includes(written)) return 1;
  const normalised = normaliseValue(column, raw);
  if (!normalised.ok || normalised.value === null) return 0.3;
  const target = normalised.value;
  if (chunk.lowered.includes(squash(String(target)).toLowerCase())) return 0.7;
  if (written !== "" && chunk.lowered.includes(written.toLowerCase())) return 0.7;
  let candidates = chunk.candidates.get(column.type);
  if (!candidates) {
    candidates = candidatesOf(column.type, chunk.squashed);
    chunk.candidates.set(column.type, candidates);
  }
  for (const candidate of candidates) {
    const read = normaliseValue(column, candidate);
    if (read.ok && sameNormalised(read.value, target)) return 0.7;
  }
  return 0.3;
};

/** The line of the chunk that holds the most of the row's values (the first of equals), or null if none does. */
const bestLineFor = (values: unknown[], text: string) => {
  const needles = values
    .filter((value) => !isBlank(value))
    .map((value) => squash(textOf(value)).toLowerCase())
    .filter((needle) => needle !== "");
  let best: { line: string; hits: number } | null = null;
  for (const line of text.split("\n")) {
    const lowered = squash(line).toLowerCase();
    if (lowered === "") continue;
    const hits = needles.filter((needle) => lowered.includes(needle)).length;
    if (hits > 0 && (!best || hits > best.hits)) best = { line: line.trim(), hits };
  }
  return best?.line ?? null;
};

/** A row the model gave, made into an {@link ExtractedRow}; null when it holds no value of any column. */
const toRow = (
  columns: ExtractionColumn[],
  answer: Record<string, unknown>,
  chunk: TextChunk,
  read: ChunkText,
): ExtractedRow | null => {
  const values: Record<string, unknown> = {};
  const confidence: Record<string, number> = {};
  for (const column of columns) {
    const raw = answer[column.name];
    values[column.name] = raw ?? null;
    if (!isBlank(raw)) confidence[column.name] = confidenceOf(column, raw, read);
  }
  if (Object.keys(confidence).length === 0) return null;
  const quoted = typeof answer._quote === "string" ? squash(answer._quote) : "";
  const verified = quoted !== "" && read.squashed.includes(quoted);
  return {
    values,
    provenance: {
      source: chunk.source,
      page: chunk.page,
      quote: verified ? (answer._quote as string).trim() : bestLineFor(Object.values(values), chunk.text),
      quote_verified: verified,
    },
    confidence,
  };
};

/** What makes two rows the same row: every column's normalised value (its raw text when it does not read). */
const rowKey = (columns: ExtractionColumn[], values: Record<string, unknown>) =>
  JSON.stringify(
    columns.map((column) => {
      const normalised = normaliseValue(column, values[column.name]);
      const value = normalised.ok ? normalised.value : squash(textOf(values[column.name]));
      return typeof value === "string" ? value.toLowerCase() : value;
    }),
  );

/**
 * Extracts rows from pages of text with the model: each page cut into chunks of at most 6,000 characters with
 * up to 600 characters of overlap (see {@link chunkText}), one JSON call a chunk (plus one repair round when
 * an answer does not fit the shape), at most 3 at a time. Rows are merged by their normalised values, the
 * first occurrence (in page and chunk order) kept with its provenance; quotes are checked against the text
 * and confidence is computed by code, never asked of the model. Usage is recorded per call with service
 * `extraction`; nothing else touches the database.
 * @throws ApiError `MODEL_OUTPUT_INVALID` when a chunk's answer is still invalid after the repair round;
 *   the signal's reason when `signal` aborts (checked between calls, and the call in flight is abandoned).
 * @example
 * const { rows, calls } = await extractRowsWithModel({
 *   ctx,
 *   columns: [{ name: "name", type: "string", required: true }, { name: "price", type: "currency" }],
 *   pages: [{ source: "https://shop.example/list", page: null, text: markdown }],
 *   onProgress: (progress) => saveProgress(jobId, progress),
 * });
 */
export const extractRowsWithModel = async ({
  ctx,
  columns,
  pages,
  model = "auto",
  signal,
  onProgress,
  concurrency = CONCURRENCY,
  chunking,
}: {
  ctx: ServiceContext;
  columns: ExtractionColumn[];
  pages: ExtractionPage[];
  /** `auto`, `fast`, `quality`, a provider id, `provider/model`, or a model id. */
  model?: string;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: ExtractionProgress) => void | Promise<void>) | undefined;
  /** How many chunk calls may be in flight at once. Default 3. */
  concurrency?: number;
  chunking?: ChunkOptions;
}): Promise<{ rows: ExtractedRow[]; calls: number; chunks: number }> => {
  if (columns.length === 0) throw new ApiError("VALIDATION_FAILED", "An extraction needs at least one column.");
  const chunks = chunkPages(pages, chunking);
  const system = systemPrompt(columns);
  // The rows' own schema (the columns as properties), not RowsAnswer's any-object rows, so a model held to
  // the schema it is sent answers with the job's columns.
  const answerSchema = rowsJsonSchema(columns);
  const found: ExtractedRow[][] = chunks.map(() => []);
  const keys = new Set<string>();
  let calls = 0;
  let done = 0;
  let next = 0;
  const failures: unknown[] = [];

  const ask = async (messages: ChatMessage[]) => {
    signal?.throwIfAborted();
    const request: LlmRequest = {
      messages,
      temperature: 0,
      responseFormat: jsonSchemaFormat("extraction_rows", answerSchema),
    };
    // Uncached: an answer that failed validation must not come back from cache when the job is retried.
    // The system prompt carries the caller's column names and descriptions, so the input guardrail checks it too.
    const call: ModelCall = {
      service: "extraction",
      model,
      request,
      cacheable: false,
      signal,
      apeSystemPrompts: false,
    };
    calls += 1;
    try {
      return await completeForCaller({ ctx, call });
    } catch (error) {
      // A call abandoned because the job was stopped fails as the stop, not as a provider failure.
      if (signal?.aborted) throw signal.reason;
      throw error;
    }
  };

  const extractChunk = async (index: number) => {
    const chunk = chunks[index];
    if (!chunk) return;
    const messages: ChatMessage[] = [
      { role: "system", content: system },
      { role: "user", content: userPrompt(chunk) },
    ];
    const first = await ask(messages);
    let parsed = validate(first.text, first.finishReason);
    if (!parsed.ok) {
      ctx.log.info("extraction answer invalid, asking for a repair", { chunk: index, problems: parsed.problems });
      const repair = await ask([
        ...messages,
        { role: "assistant", content: first.text },
        { role: "user", content: repairPrompt(parsed.problems) },
      ]);
      parsed = validate(repair.text, repair.finishReason);
      if (!parsed.ok) {
        const page = chunk.page === null ? "" : ` page ${chunk.page}`;
        const part = chunk.parts > 1 ? `, part ${chunk.part} of ${chunk.parts}` : "";
        throw new ApiError(
          "MODEL_OUTPUT_INVALID",
          `The model's rows for ${chunk.source}${page}${part} did not match the expected shape, even after a repair round: ${parsed.problems.join("; ")}. Retry the job, or choose another model.`,
        );
      }
    }
    const read = readChunk(chunk.text);
    const rows = parsed.value.rows.flatMap((answer) => toRow(columns, answer, chunk, read) ?? []);
    found[index] = rows;
    for (const row of rows) keys.add(rowKey(columns, row.values));
    done += 1;
    // The number of distinct rows so far is the same whichever order the chunks finish in.
    await onProgress?.({ chunksDone: done, chunksTotal: chunks.length, rowsSoFar: keys.size });
  };

  const worker = async () => {
    while (failures.length === 0 && next < chunks.length) {
      const index = next;
      next += 1;
      try {
        await extractChunk(index);
      } catch (error) {
        failures.push(error);
      }
    }
  };

  // Workers finish the call they are in before the first failure is thrown, so nothing runs on after it.
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, chunks.length)) }, worker));
  if (failures.length > 0) throw failures[0];

  const seen = new Set<string>();
  const rows: ExtractedRow[] = [];
  for (const row of found.flat()) {
    const key = rowKey(columns, row.values);
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push(row);
  }
  return { rows, calls, chunks: chunks.length };
};
