import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { attachReport } from "../../../services/research/attach-document.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { DocumentSchema } from "../documents/schemas.js";
import { SessionParamsSchema } from "./schemas.js";

export const attachDocumentRoute = createRoute({
  method: "post",
  path: "/research/sessions/{id}/document",
  tags: ["research"],
  summary: "Keep a report as a document",
  description:
    "Stores a completed session's report as one of your documents (Markdown), ingested like an upload, so a conversation can name it in `document_ids` and answer follow-up questions over it. 201 with the new document; 200 with the same one when it was attached before. Before the session completes: 409 `CONFLICT`. API keys need the `research` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("research"), rateLimit("default")] as const,
  request: { params: SessionParamsSchema },
  responses: {
    200: { description: "Attached before.", content: { "application/json": { schema: DocumentSchema } } },
    201: {
      description: "Stored and queued for ingestion.",
      content: { "application/json": { schema: DocumentSchema } },
    },
    ...problemResponses(401, 403, 404, 409, 413, 429, 503),
  },
});

export const registerAttachDocument = (app: App) =>
  app.openapi(attachDocumentRoute, async (c) => {
    const { document, created } = await attachReport({ ctx: c.var.ctx, id: c.req.valid("param").id });
    return created ? c.json(document, 201) : c.json(document, 200);
  });
