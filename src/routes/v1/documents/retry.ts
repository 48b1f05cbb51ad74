import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { retryDocument } from "../../../services/documents/documents.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { DocumentParamsSchema, DocumentSchema } from "./schemas.js";

export const retryDocumentRoute = createRoute({
  method: "post",
  path: "/documents/{id}/retry",
  tags: ["documents"],
  summary: "Retry a failed document",
  description:
    "Queues a failed document's reading again, from the start; answers 202 with it back in `pending`. A document that has not failed is 409 `CONFLICT`. API keys need the `documents` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("documents"), rateLimit("default")] as const,
  request: { params: DocumentParamsSchema },
  responses: {
    202: { description: "Queued again.", content: { "application/json": { schema: DocumentSchema } } },
    ...problemResponses(401, 403, 404, 409, 429),
  },
});

export const registerRetryDocument = (app: App) =>
  app.openapi(retryDocumentRoute, async (c) =>
    c.json(await retryDocument({ ctx: c.var.ctx, id: c.req.valid("param").id }), 202),
  );
