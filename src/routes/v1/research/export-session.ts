import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { exportSession } from "../../../services/research/export.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { ExportQuerySchema, SessionParamsSchema } from "./schemas.js";

export const exportSessionRoute = createRoute({
  method: "get",
  path: "/research/sessions/{id}/export",
  tags: ["research"],
  summary: "Export a research session",
  description:
    "A completed session as a file with its content type and a `Content-Disposition` file name: the report as Markdown (`md`) or Word (`docx`), everything as JSON, or the sources (n, url, title, quote, accessed_at) as CSV or XLSX. Before it completes: 409 `CONFLICT`. API keys need the `research` or `read` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("research"), rateLimit("default")] as const,
  request: { params: SessionParamsSchema, query: ExportQuerySchema },
  responses: {
    200: {
      description: "The file.",
      content: {
        "text/markdown": { schema: { type: "string" } },
        "application/json": { schema: { type: "string" } },
        "text/csv": { schema: { type: "string" } },
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
          schema: { type: "string", format: "binary" },
        },
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {
          schema: { type: "string", format: "binary" },
        },
      },
    },
    ...problemResponses(400, 401, 403, 404, 409, 429),
  },
});

export const registerExportSession = (app: App) =>
  app.openapi(exportSessionRoute, async (c) => {
    const file = await exportSession({
      ctx: c.var.ctx,
      id: c.req.valid("param").id,
      format: c.req.valid("query").format,
    });
    return new Response(file.stream, {
      status: 200,
      headers: { "content-type": file.contentType, "content-disposition": `attachment; filename="${file.filename}"` },
    });
  });
