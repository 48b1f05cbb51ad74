import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { getDocumentText } from "../../../services/documents/documents.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { DocumentParamsSchema, DocumentTextQuerySchema, DocumentTextSchema } from "./schemas.js";

export const getDocumentTextRoute = createRoute({
  method: "get",
  path: "/documents/{id}/text",
  tags: ["documents"],
  summary: "Read a document's text",
  description:
    "The text extracted from a ready document, page by page (tables as Markdown tables), `limit` pages from `from_page`. Before it is ready: 409 `DOCUMENT_NOT_READY`. API keys need the `documents` or `read` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("documents"), rateLimit("default")] as const,
  request: { params: DocumentParamsSchema, query: DocumentTextQuerySchema },
  responses: {
    200: { description: "Pages of text.", content: { "application/json": { schema: DocumentTextSchema } } },
    ...problemResponses(400, 401, 403, 404, 409, 429),
  },
});

export const registerGetDocumentText = (app: App) =>
  app.openapi(getDocumentTextRoute, async (c) =>
    c.json(await getDocumentText({ ctx: c.var.ctx, id: c.req.valid("param").id, input: c.req.valid("query") }), 200),
  );
