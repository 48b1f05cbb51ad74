import { ApiError } from "../../lib/errors.js";
import type { ServiceContext } from "../context.js";
import { type ColumnRules, validateRows } from "./validate.js";
import type { ColumnSpec } from "./values.js";

/**
 * `POST /extraction/validate`: the caller's rows checked by the code jobs use. Needs a caller (the route's
 * scope check) and touches no data.
 * @example
 * validateExtractionRows({ ctx, input: { rows, schema: { columns }, validation_rules: {} } });
 */
export const validateExtractionRows = ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: {
    rows: Array<Record<string, unknown>>;
    schema: { columns: ColumnSpec[] };
    validation_rules: Record<string, ColumnRules>;
  };
}) => {
  if (!ctx.caller) throw new ApiError("UNAUTHENTICATED");
  const { rows, valid } = validateRows({
    columns: input.schema.columns,
    rules: input.validation_rules,
    rows: input.rows,
  });
  return {
    rows_total: rows.length,
    rows_valid: valid,
    rows_invalid: rows.length - valid,
    rows: rows.map((row) => ({ values: row.values, valid: row.valid })),
    errors: rows.flatMap((row) => row.errors),
  };
};
