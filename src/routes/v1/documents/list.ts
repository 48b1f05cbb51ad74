import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { listDocuments } from "../../../services/documents/documents.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { DocumentListQuerySchema, DocumentPageSchema } from "./schemas.js";

export const listDocumentsRoute = createRoute({
  method: "get",
  path: "/documents",
  tags: ["documents"],
  summary: "List documents",
  description:
    "The caller's documents, newest first, optionally only those of one `status` or `kind`. API keys need the `documents` or `read` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("documents"), rateLimit("default")] as const,
  request: { query: DocumentListQuerySchema },
  responses: {
    200: { description: "A page of documents.", content: { "application/json": { schema: DocumentPageSchema } } },
    ...problemResponses(400, 401, 403, 429),
  },
});

export const registerListDocuments = (app: App) =>
  app.openapi(listDocumentsRoute, async (c) =>
    c.json(await listDocuments({ ctx: c.var.ctx, input: c.req.valid("query") }), 200),
  );
