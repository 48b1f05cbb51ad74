import type { ExtractionValidationRules } from "../../db/schema/extraction-jobs.js";
import { compileUserPattern, type UserPattern } from "../../lib/user-pattern.js";
import { type ColumnSpec, normaliseValue } from "./values.js";

/** Rules one column's values must pass, as the seed's `validation_rules` give them. */
export type ColumnRules = ExtractionValidationRules[string];

/** The rule a value broke: its column's type, `required`, or one of {@link ColumnRules}. */
export type RuleName = "type" | "required" | keyof ColumnRules;

/** One broken rule: which row (0-based), column and rule, and why, for people. */
export type RowError = { row: number; column: string; rule: RuleName; message: string };

/** A row as validated: its normalised values, whether it passed, and what it broke. */
export type ValidatedRow = { values: Record<string, unknown>; valid: boolean; errors: RowError[] };

const compare = (value: unknown, bound: number | string) =>
  typeof value === "number" && typeof bound === "number" ? value - bound : String(value).localeCompare(String(bound));

const lengthOf = (value: unknown) => [...String(value)].length;

/**
 * Normalises and checks rows against their columns and rules: one code path for `POST /extraction/validate`
 * and for every row a job extracts, with no model. Values are normalised first (ISO dates, numbers, checked
 * URLs and emails), then each rule is applied to the normalised value; `unique` is checked across the rows
 * given. A value that cannot be read as its type keeps its raw form and a `type` error.
 * @example
 * const { rows, valid } = validateRows({ columns, rules: { price: { min: 0 } }, rows: [{ price: "$12" }] });
 */
export const validateRows = ({
  columns,
  rules = {},
  rows,
  offset = 0,
}: {
  columns: ColumnSpec[];
  rules?: Record<string, ColumnRules>;
  rows: Array<Record<string, unknown>>;
  /** The index of the first row, for error messages of a page of a larger set. */
  offset?: number;
}) => {
  const compiled = new Map<string, UserPattern>();
  for (const [name, rule] of Object.entries(rules)) {
    if (rule.pattern) compiled.set(name, compileUserPattern(rule.pattern));
  }
  const seen = new Map<string, Map<string, number>>();
  const validated: ValidatedRow[] = rows.map((raw, index) => {
    const row = offset + index;
    const values: Record<string, unknown> = {};
    const errors: RowError[] = [];
    for (const column of columns) {
      const fail = (rule: RuleName, message: string) => errors.push({ row, column: column.name, rule, message });
      const normalised = normaliseValue(column, raw[column.name]);
      if (!normalised.ok) {
        values[column.name] = raw[column.name] ?? null;
        fail("type", `${column.name}: ${normalised.message} (expected ${column.type})`);
        continue;
      }
      const value = normalised.value;
      values[column.name] = value;
      if (value === null) {
        if (column.required) fail("required", `${column.name} is required`);
        continue;
      }
      const rule = rules[column.name];
      if (!rule) continue;
      const pattern = compiled.get(column.name);
      if (pattern && !pattern.test(String(value))) fail("pattern", `${column.name} does not match ${rule.pattern}`);
      if (rule.min !== undefined && compare(value, rule.min) < 0) fail("min", `${column.name} is below ${rule.min}`);
      if (rule.max !== undefined && compare(value, rule.max) > 0) fail("max", `${column.name} is above ${rule.max}`);
      if (rule.min_length !== undefined && lengthOf(value) < rule.min_length) {
        fail("min_length", `${column.name} is shorter than ${rule.min_length} characters`);
      }
      if (rule.max_length !== undefined && lengthOf(value) > rule.max_length) {
        fail("max_length", `${column.name} is longer than ${rule.max_length} characters`);
      }
      if (rule.enum && !rule.enum.some((allowed) => String(allowed) === String(value))) {
        fail("enum", `${column.name} is not one of ${rule.enum.join(", ")}`);
      }
      if (rule.unique) {
        const key = typeof value === "string" ? value.toLowerCase() : String(value);
        const byValue = seen.get(column.name) ?? new Map<string, number>();
        seen.set(column.name, byValue);
        const first = byValue.get(key);
        if (first !== undefined) fail("unique", `${column.name} repeats row ${first}'s value`);
        else byValue.set(key, row);
      }
    }
    return { values, valid: errors.length === 0, errors };
  });
  return { rows: validated, valid: validated.filter((row) => row.valid).length };
};
