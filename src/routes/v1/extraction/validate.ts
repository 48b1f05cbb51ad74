import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { validateExtractionRows } from "../../../services/extraction/validate-rows.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { ValidateBodySchema, ValidateResultSchema } from "./schemas.js";

export const validateRowsRoute = createRoute({
  method: "post",
  path: "/extraction/validate",
  tags: ["extraction"],
  summary: "Validate rows against a schema",
  description:
    "Normalises and checks rows with the same code extraction jobs use, with no model: each value is read as its column's type (ISO 8601 dates, parsed numbers and amounts, checked URLs and emails), then the schema's `required` and the `validation_rules` (pattern, min, max, min_length, max_length, enum, unique) are applied. Answers every broken rule as `{row, column, rule, message}` and the counts. API keys need the `extraction` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("extraction"), rateLimit("default")] as const,
  request: { body: { required: true, content: { "application/json": { schema: ValidateBodySchema } } } },
  responses: {
    200: { description: "The rows, checked.", content: { "application/json": { schema: ValidateResultSchema } } },
    ...problemResponses(400, 401, 403, 413, 415, 429),
  },
});

export const registerValidateRows = (app: App) =>
  app.openapi(validateRowsRoute, async (c) =>
    c.json(validateExtractionRows({ ctx: c.var.ctx, input: c.req.valid("json") }), 200),
  );
