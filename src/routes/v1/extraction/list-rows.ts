import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { listJobRows } from "../../../services/extraction/jobs.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { JobParamsSchema, RowsPageSchema, RowsQuerySchema } from "./schemas.js";

export const listRowsRoute = createRoute({
  method: "get",
  path: "/extraction/jobs/{id}/rows",
  tags: ["extraction"],
  summary: "Read a job's rows",
  description:
    "A completed job's rows in order, each with its errors, provenance and per-value confidence; `valid` keeps only valid or invalid ones. Before it completes: 409 `CONFLICT`. API keys need the `extraction` or `read` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("extraction"), rateLimit("default")] as const,
  request: { params: JobParamsSchema, query: RowsQuerySchema },
  responses: {
    200: { description: "A page of rows.", content: { "application/json": { schema: RowsPageSchema } } },
    ...problemResponses(400, 401, 403, 404, 409, 429),
  },
});

export const registerListRows = (app: App) =>
  app.openapi(listRowsRoute, async (c) =>
    c.json(await listJobRows({ ctx: c.var.ctx, id: c.req.valid("param").id, input: c.req.valid("query") }), 200),
  );
