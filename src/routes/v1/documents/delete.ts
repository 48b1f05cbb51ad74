import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { deleteDocument } from "../../../services/documents/documents.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { DocumentParamsSchema } from "./schemas.js";

export const deleteDocumentRoute = createRoute({
  method: "delete",
  path: "/documents/{id}",
  tags: ["documents"],
  summary: "Delete a document",
  description:
    "Deletes the document for good: the stored file, its text, its passages and their vectors. API keys need the `documents` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("documents"), rateLimit("default")] as const,
  request: { params: DocumentParamsSchema },
  responses: { 204: { description: "Deleted." }, ...problemResponses(401, 403, 404, 429) },
});

export const registerDeleteDocument = (app: App) =>
  app.openapi(deleteDocumentRoute, async (c) => {
    await deleteDocument({ ctx: c.var.ctx, id: c.req.valid("param").id });
    return c.body(null, 204);
  });
