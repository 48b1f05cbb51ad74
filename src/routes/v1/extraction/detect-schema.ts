import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { detectSchema } from "../../../services/extraction/schema-detect.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { DetectBodySchema, DetectResultSchema } from "./schemas.js";

export const detectSchemaRoute = createRoute({
  method: "post",
  path: "/extraction/schema/detect",
  tags: ["extraction"],
  summary: "Suggest a schema",
  description:
    "Suggests columns for a URL, one of your documents, or pasted text. Tables (CSV, XLSX, HTML tables) are typed by code with no model: each column's type is what most of its values read as, its confidence how many agree. Other text goes to the fast model tier, and its sample rows are checked against its own schema by code. API keys need the `extraction` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("extraction"), rateLimit("default")] as const,
  request: { body: { required: true, content: { "application/json": { schema: DetectBodySchema } } } },
  responses: {
    200: { description: "The suggestion.", content: { "application/json": { schema: DetectResultSchema } } },
    ...problemResponses(400, 401, 403, 404, 409, 413, 415, 429, 502, 503),
  },
});

export const registerDetectSchema = (app: App) =>
  app.openapi(detectSchemaRoute, async (c) =>
    c.json(await detectSchema({ ctx: c.var.ctx, input: c.req.valid("json") }), 200),
  );
