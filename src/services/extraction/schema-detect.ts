import { asc, eq } from "drizzle-orm";
import { z } from "zod";
import { documentPages } from "../../db/schema/index.js";
import { safeFetchFromEnv } from "../../integrations/safe-fetch.js";
import { createWebReader, WebReadError } from "../../integrations/web-reader.js";
import { ApiError } from "../../lib/errors.js";
import { jsonSchemaFormat } from "../../llm/json-answer.js";
import { untrusted, untrustedDataRule } from "../../llm/prompts.js";
import type { ServiceContext } from "../context.js";
import { requireDocument } from "../documents/documents.js";
import { parseCsv, type Table } from "../documents/extract/tabular.js";
import { decodeText } from "../documents/extract/text.js";
import { completeForCaller } from "../llm/call-model.js";
import { detectContentType, inferColumns, sampleData } from "./detect-schema.js";
import { tablesFromHtml } from "./tabular.js";
import { validateRows } from "./validate.js";
import { columnTypes } from "./values.js";

/** How much of a page the model is shown to suggest a schema: its start says what it holds. */
const MODEL_SAMPLE_CHARS = 8_000;

type Source = { kind: "csv" | "xlsx" | "html" | "text"; tables: Table[]; text: string };

const readInput = async (
  ctx: ServiceContext,
  input: { url?: string | undefined; document_id?: string | undefined; text?: string | undefined },
): Promise<Source> => {
  if (input.document_id) {
    const doc = await requireDocument({ ctx, id: input.document_id });
    if (doc.status !== "ready") throw new ApiError("DOCUMENT_NOT_READY", `Document ${doc.id} is ${doc.status}.`);
    const pages = await ctx.db
      .select({ text: documentPages.text })
      .from(documentPages)
      .where(eq(documentPages.documentId, doc.id))
      .orderBy(asc(documentPages.page))
      .limit(20);
    const text = pages.map((page) => page.text).join("\n\n");
    if (doc.kind === "csv" || doc.kind === "xlsx" || doc.kind === "html") {
      const object = await ctx.env.FILES.get(doc.objectKey);
      const bytes = object ? new Uint8Array(await object.arrayBuffer()) : new Uint8Array();
      if (doc.kind === "csv") return { kind: "csv", tables: [parseCsv(decodeText(bytes))], text };
      if (doc.kind === "html") return { kind: "html", tables: tablesFromHtml(decodeText(bytes)), text };
      const { readWorkbook } = await import("../documents/extract/workbook.js");
      return { kind: "xlsx", tables: readWorkbook(bytes), text };
    }
    return { kind: "text", tables: [], text };
  }
  if (input.url) {
    try {
      const page = await createWebReader({ safeFetch: safeFetchFromEnv(ctx.env) }).read(input.url);
      return { kind: "html", tables: page.html ? tablesFromHtml(page.html) : [], text: page.markdown };
    } catch (error) {
      if (error instanceof WebReadError) {
        throw new ApiError("VALIDATION_FAILED", `body.url: the page could not be read (${error.message}).`, {
          cause: error,
        });
      }
      throw error;
    }
  }
  const text = input.text ?? "";
  // Pasted text that parses as a table of two or more columns is a table.
  const table = parseCsv(text);
  const tabular =
    table.headers.length >= 2 &&
    table.rows.length >= 1 &&
    table.rows.every((row) => row.length === table.headers.length);
  return { kind: tabular ? "csv" : "text", tables: tabular ? [table] : [], text };
};

const Suggestion = z.object({
  detected_content_type: z.string().min(1).max(60),
  columns: z
    .array(
      z.object({
        name: z.string().min(1).max(100),
        type: z.enum(columnTypes),
        required: z.boolean().default(false),
        description: z.string().max(500).optional(),
      }),
    )
    .min(1)
    .max(50),
  sample_data: z.array(z.record(z.string(), z.unknown())).max(10).default([]),
});

const SUGGEST_SYSTEM = [
  "You look at the start of a web page or document and suggest the columns of a table someone would extract from it.",
  `Answer with JSON: {"detected_content_type": "<e.g. product_listing, job_listing, article, contact_list>", "columns": [{"name", "type" (one of ${columnTypes.join(", ")}), "required", "description"}], "sample_data": [<up to 5 rows as objects keyed by column name, values copied from the text>]}.`,
  untrustedDataRule("page_text"),
].join(" ");

/**
 * `POST /extraction/schema/detect`: a suggested schema for a URL, a document or pasted text. Tables are typed by
 * code (each column's type from how many of its values agree, that share its confidence), with no model; other
 * input goes to the fast tier, and the sample it suggests is re-validated against its own schema by code, so
 * the confidence says how well the model's sample fits what it proposed.
 * @example
 * const detected = await detectSchema({ ctx, input: { document_id: "doc_…" } });
 */
export const detectSchema = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { url?: string | undefined; document_id?: string | undefined; text?: string | undefined };
}) => {
  if (!ctx.caller) throw new ApiError("UNAUTHENTICATED");
  const source = await readInput(ctx, input);
  const table = source.tables
    .filter((candidate) => candidate.headers.length > 0)
    .sort((a, b) => b.rows.length - a.rows.length)[0];
  if (table && table.rows.length > 0) {
    const inferred = inferColumns(table);
    return {
      detected_content_type: detectContentType({ kind: source.kind, tables: source.tables.length }),
      confidence: Number(inferred.confidence.toFixed(3)),
      suggested_schema: {
        columns: inferred.columns.map(({ name, type, required, values, header, confidence }) => ({
          name,
          type,
          required,
          ...(values ? { values } : {}),
          description: `From the column "${header}" (${Math.round(confidence * 100)}% of values agree).`,
        })),
      },
      sample_data: sampleData(table, inferred.columns),
      method: "code" as const,
    };
  }
  if (!source.text.trim()) throw new ApiError("BAD_REQUEST", "There is no text to detect a schema from.");
  const answer = await completeForCaller({
    ctx,
    call: {
      service: "extraction",
      model: "fast",
      apeSystemPrompts: true,
      request: {
        messages: [
          { role: "system", content: SUGGEST_SYSTEM },
          { role: "user", content: untrusted("page_text", source.text.slice(0, MODEL_SAMPLE_CHARS)) },
        ],
        responseFormat: jsonSchemaFormat("extraction_schema", Suggestion),
        temperature: 0,
        maxTokens: 1_200,
      },
    },
  });
  let parsed: z.infer<typeof Suggestion>;
  try {
    parsed = Suggestion.parse(JSON.parse(answer.text));
  } catch (error) {
    throw new ApiError(
      "MODEL_OUTPUT_INVALID",
      "The model's schema suggestion was not in the expected shape; try again.",
      {
        cause: error,
      },
    );
  }
  const checked = validateRows({ columns: parsed.columns, rows: parsed.sample_data });
  const confidence = parsed.sample_data.length === 0 ? 0.5 : checked.valid / parsed.sample_data.length;
  return {
    detected_content_type: parsed.detected_content_type,
    confidence: Number(confidence.toFixed(3)),
    suggested_schema: { columns: parsed.columns },
    sample_data: checked.rows.filter((row) => row.valid).map((row) => row.values),
    method: "model" as const,
  };
};
