import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { searchDocuments } from "../../../services/documents/search.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { SearchBodySchema, SearchResultSchema } from "./schemas.js";

export const searchDocumentsRoute = createRoute({
  method: "post",
  path: "/documents/search",
  tags: ["documents"],
  summary: "Search documents",
  description:
    "Finds the passages of your ready documents that best match `query`: Postgres full-text search always (no model needed), fused by reciprocal rank with vector search when `EMBEDDING_MODEL` is set. Each result names its document, page, character offsets and a quote. API keys need the `documents` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("documents"), rateLimit("default")] as const,
  request: { body: { required: true, content: { "application/json": { schema: SearchBodySchema } } } },
  responses: {
    200: { description: "The best passages.", content: { "application/json": { schema: SearchResultSchema } } },
    ...problemResponses(400, 401, 403, 404, 413, 415, 429, 502),
  },
});

export const registerSearchDocuments = (app: App) =>
  app.openapi(searchDocumentsRoute, async (c) =>
    c.json(await searchDocuments({ ctx: c.var.ctx, input: c.req.valid("json") }), 200),
  );
