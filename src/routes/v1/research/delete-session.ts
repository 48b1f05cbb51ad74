import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { deleteSession } from "../../../services/research/sessions.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { SessionParamsSchema } from "./schemas.js";

export const deleteSessionRoute = createRoute({
  method: "delete",
  path: "/research/sessions/{id}",
  tags: ["research"],
  summary: "Delete a research session",
  description:
    "Deletes a session that is not running, with its events, source texts and index. A pending or running one is 409 `CONFLICT` (cancel it first). A report attached as a document stays until that document is deleted. API keys need the `research` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("research"), rateLimit("default")] as const,
  request: { params: SessionParamsSchema },
  responses: {
    204: { description: "Deleted." },
    ...problemResponses(401, 403, 404, 409, 429),
  },
});

export const registerDeleteSession = (app: App) =>
  app.openapi(deleteSessionRoute, async (c) => {
    await deleteSession({ ctx: c.var.ctx, id: c.req.valid("param").id });
    return c.body(null, 204);
  });
