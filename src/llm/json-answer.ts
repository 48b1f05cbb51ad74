import { z } from "zod";
import type { ResponseFormat } from "./types.js";

/** A model's JSON answer: the validated value, or what was wrong with it (field paths and reasons). */
export type JsonAnswer<T> = { ok: true; value: T } | { ok: false; problems: string[] };

// Enough to say what to fix; a model that gets everything wrong would otherwise produce a page of complaints.
const MAX_PROBLEMS = 12;

const FENCED = /^\s*```[\w-]*[ \t]*\r?\n([\s\S]*?)\r?\n?```\s*$/;

/**
 * The JSON inside a model's answer: the text of a ```json fence if the whole answer is one, else the text
 * from its first `{` to its last `}` when there is chatter around the object.
 */
export const jsonTextOf = (answer: string): string => {
  const fenced = answer.match(FENCED)?.[1];
  const text = (fenced ?? answer).trim();
  if (text.startsWith("{")) return text;
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  return start >= 0 && end > start ? text.slice(start, end + 1) : text;
};

/** `findings[0].line_end` from zod's `["findings", 0, "line_end"]`. */
export const issuePath = (path: readonly PropertyKey[]) =>
  path
    .map((part, index) => (typeof part === "number" ? `[${part}]` : `${index > 0 ? "." : ""}${String(part)}`))
    .join("") || "(the whole answer)";

/**
 * Parses and validates a model's JSON answer. Problems name field paths and reasons only, never the answer's
 * text, so they are safe to show a client and to send back to the model for a repair.
 * @example
 * const parsed = parseJsonAnswer(answer.text, ReviewSchema);
 * if (!parsed.ok) console.log(parsed.problems); // ["findings[0].severity: Invalid option: …"]
 */
export const parseJsonAnswer = <S extends z.ZodType>(
  answer: string,
  schema: S,
  options: { prepare?: (value: unknown) => unknown } = {},
): JsonAnswer<z.output<S>> => {
  let value: unknown;
  try {
    value = JSON.parse(jsonTextOf(answer));
  } catch {
    // The parser's message quotes the answer, so it is not passed on.
    return { ok: false, problems: ["(the whole answer): is not valid JSON; answer with one JSON object"] };
  }
  if (options.prepare) value = options.prepare(value);
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  const problems = result.error.issues.map((issue) => `${issuePath(issue.path)}: ${issue.message}`);
  return {
    ok: false,
    problems:
      problems.length > MAX_PROBLEMS
        ? [...problems.slice(0, MAX_PROBLEMS), `…and ${problems.length - MAX_PROBLEMS} more`]
        : problems,
  };
};

// Schemas are module constants, so each is converted once per isolate (a WeakMap: nothing is kept alive by it).
const converted = new WeakMap<z.ZodType, Record<string, unknown>>();

/**
 * Asks for an answer in the shape of a zod schema (or of a JSON Schema built by hand, as extraction builds one
 * from a job's columns): the schema as JSON Schema in `json_schema` mode where the model takes one, and
 * `json_object` with the schema in the system prompt where it does not (`fallback`). Not strict: strict mode
 * wants every property required, which optional fields are not; the answer is validated by code in any case
 * ({@link parseJsonAnswer}).
 * @example
 * const request = { messages, temperature: 0, responseFormat: jsonSchemaFormat("code_review", ReviewSchema) };
 */
export const jsonSchemaFormat = (name: string, schema: z.ZodType | Record<string, unknown>): ResponseFormat => {
  if (!(schema instanceof z.ZodType)) {
    return { type: "json_schema", name, schema, strict: false, fallback: "json_object" };
  }
  let json = converted.get(schema);
  if (!json) {
    // What the model writes is the schema's input (before defaults and transforms); `$schema` is left out,
    // as providers' schema subsets do not list it.
    const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
    json = rest;
    converted.set(schema, json);
  }
  return { type: "json_schema", name, schema: json, strict: false, fallback: "json_object" };
};
