import { z } from "@hono/zod-openapi";
import { columnTypes } from "../../../services/extraction/values.js";

export const MAX_COLUMNS = 100;
export const MAX_VALIDATE_ROWS = 10_000;
export const MAX_PATTERN_LENGTH = 200;

const compiles = (pattern: string) => {
  try {
    new RegExp(pattern, "u");
    return true;
  } catch {
    return false;
  }
};

export const ColumnSchema = z
  .object({
    name: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .openapi({ description: "The column's name, as rows and exports key it.", example: "price" }),
    type: z.enum(columnTypes).openapi({
      description:
        "What the column holds. Values are normalised by code: `date` to ISO 8601 (`2024-03-05`), `datetime` to ISO 8601 UTC, `number`/`integer`/`currency` parsed from written forms (`$1,299.00` → 1299), `url` (http/https) and `email` checked, `enum` matched to `values`.",
      example: "currency",
    }),
    required: z
      .boolean()
      .default(false)
      .openapi({ description: "Whether a row without it is invalid.", example: true }),
    description: z.string().max(500).optional().openapi({
      description: "What the column means, for the model that extracts it.",
      example: "The listed price including VAT.",
    }),
    values: z
      .array(z.string().min(1).max(200))
      .min(1)
      .max(200)
      .optional()
      .openapi({
        description: "For `enum`: the values it allows (matched ignoring case).",
        example: ["in stock", "sold out"],
      }),
  })
  .refine((column) => column.type !== "enum" || column.values, {
    message: "an enum column needs `values`",
    path: ["values"],
  })
  .openapi("ExtractionColumn");

export const ExtractionSchemaSchema = z
  .object({
    columns: z
      .array(ColumnSchema)
      .min(1)
      .max(MAX_COLUMNS)
      .refine(
        (columns) => new Set(columns.map((column) => column.name)).size === columns.length,
        "column names must be unique",
      )
      .openapi({
        description: `The columns of each row, 1 to ${MAX_COLUMNS}.`,
        example: [
          { name: "product", type: "string", required: true },
          { name: "price", type: "currency", required: true },
        ],
      }),
  })
  .openapi("ExtractionSchema");

export const ColumnRulesSchema = z
  .object({
    pattern: z
      .string()
      .min(1)
      .max(MAX_PATTERN_LENGTH)
      .refine(compiles, "is not a valid regular expression")
      .optional()
      .openapi({
        description: "A regular expression (Unicode mode) the value must match.",
        example: "^[A-Z]{3}-\\d+$",
      }),
    min: z
      .union([z.number(), z.string().max(100)])
      .optional()
      .openapi({
        description: "The least value: a number, or an ISO date for date columns.",
        example: 0,
      }),
    max: z
      .union([z.number(), z.string().max(100)])
      .optional()
      .openapi({
        description: "The greatest value: a number, or an ISO date for date columns.",
        example: 10000,
      }),
    min_length: z.number().int().min(0).optional().openapi({ description: "The fewest characters.", example: 1 }),
    max_length: z.number().int().min(1).optional().openapi({ description: "The most characters.", example: 200 }),
    enum: z
      .array(z.union([z.string(), z.number()]))
      .min(1)
      .max(500)
      .optional()
      .openapi({ description: "The only values allowed.", example: ["EUR", "USD"] }),
    unique: z.boolean().optional().openapi({ description: "No two rows may share the value.", example: true }),
  })
  .openapi("ColumnRules");

export const ValidationRulesSchema = z
  .record(z.string(), ColumnRulesSchema)
  .default({})
  .openapi({
    description: "Rules per column name; every name must be a column of the schema.",
    example: { price: { min: 0 }, sku: { pattern: "^[A-Z]{3}-\\d+$", unique: true } },
  });

export const RowErrorSchema = z
  .object({
    row: z.number().int().openapi({ description: "The row's index, from 0.", example: 3 }),
    column: z.string().openapi({ description: "The column.", example: "price" }),
    rule: z
      .enum(["type", "required", "pattern", "min", "max", "min_length", "max_length", "enum", "unique"])
      .openapi({ description: "The rule it broke: its type, `required`, or a validation rule.", example: "min" }),
    message: z.string().openapi({ description: "Why, for people.", example: "price is below 0" }),
  })
  .openapi("RowError");

export const ValidateBodySchema = z
  .object({
    rows: z
      .array(z.record(z.string(), z.unknown()))
      .max(MAX_VALIDATE_ROWS)
      .openapi({
        description: `Rows to check, as objects keyed by column name (at most ${MAX_VALIDATE_ROWS}).`,
        example: [
          { product: "Torque wrench", price: "$84.00" },
          { product: "", price: "-3" },
        ],
      }),
    schema: ExtractionSchemaSchema,
    validation_rules: ValidationRulesSchema,
  })
  .superRefine((body, issues) => {
    const names = new Set(body.schema.columns.map((column) => column.name));
    for (const name of Object.keys(body.validation_rules)) {
      if (!names.has(name)) {
        issues.addIssue({ code: "custom", path: ["validation_rules", name], message: `no column is named ${name}` });
      }
    }
  })
  .openapi("ValidateRequest");

export const ValidateResultSchema = z
  .object({
    rows_total: z.number().int().openapi({ description: "Rows checked.", example: 2 }),
    rows_valid: z.number().int().openapi({ description: "Rows that passed every rule.", example: 1 }),
    rows_invalid: z.number().int().openapi({ description: "Rows that broke at least one.", example: 1 }),
    rows: z
      .array(
        z.object({
          values: z.record(z.string(), z.unknown()).openapi({
            description: "The row's values, normalised (a value that is not of its type is kept as given).",
            example: { product: "Torque wrench", price: 84 },
          }),
          valid: z.boolean().openapi({ description: "Whether it passed every rule.", example: true }),
        }),
      )
      .openapi({
        description: "Each row, in order.",
        example: [{ values: { product: "Torque wrench", price: 84 }, valid: true }],
      }),
    errors: z.array(RowErrorSchema).openapi({
      description: "Every broken rule, by row and column.",
      example: [{ row: 1, column: "product", rule: "required", message: "product is required" }],
    }),
  })
  .openapi("ValidateResult");
