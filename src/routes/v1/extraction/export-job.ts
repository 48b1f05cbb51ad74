import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { exportJob } from "../../../services/extraction/jobs.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { ExportQuerySchema, JobParamsSchema } from "./schemas.js";

export const exportJobRoute = createRoute({
  method: "get",
  path: "/extraction/jobs/{id}/export",
  tags: ["extraction"],
  summary: "Export a job's rows",
  description:
    "A completed job's rows as a streamed file: CSV (cells starting with =, +, -, @ escaped against formula injection), a JSON array, NDJSON, or XLSX, with its content type and a `Content-Disposition` file name. Before it completes: 409 `CONFLICT`. API keys need the `extraction` or `read` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("extraction"), rateLimit("default")] as const,
  request: { params: JobParamsSchema, query: ExportQuerySchema },
  responses: {
    200: {
      description: "The file.",
      content: {
        "text/csv": { schema: { type: "string" } },
        "application/json": { schema: { type: "string" } },
        "application/x-ndjson": { schema: { type: "string" } },
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
          schema: { type: "string", format: "binary" },
        },
      },
    },
    ...problemResponses(400, 401, 403, 404, 409, 429),
  },
});

export const registerExportJob = (app: App) =>
  app.openapi(exportJobRoute, async (c) => {
    const file = await exportJob({ ctx: c.var.ctx, id: c.req.valid("param").id, input: c.req.valid("query") });
    return new Response(file.stream, {
      status: 200,
      headers: { "content-type": file.contentType, "content-disposition": `attachment; filename="${file.filename}"` },
    });
  });
