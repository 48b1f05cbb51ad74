import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { getDocument } from "../../../services/documents/documents.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { DocumentParamsSchema, DocumentSchema } from "./schemas.js";

export const getDocumentRoute = createRoute({
  method: "get",
  path: "/documents/{id}",
  tags: ["documents"],
  summary: "Get a document",
  description:
    "A document's status and what was read from it: pages, characters, passages, OCR pages, and the error if it failed. API keys need the `documents` or `read` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("documents"), rateLimit("default")] as const,
  request: { params: DocumentParamsSchema },
  responses: {
    200: { description: "The document.", content: { "application/json": { schema: DocumentSchema } } },
    ...problemResponses(401, 403, 404, 429),
  },
});

export const registerGetDocument = (app: App) =>
  app.openapi(getDocumentRoute, async (c) =>
    c.json(await getDocument({ ctx: c.var.ctx, id: c.req.valid("param").id }), 200),
  );
