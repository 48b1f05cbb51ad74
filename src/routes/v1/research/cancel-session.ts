import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { cancelSession } from "../../../services/research/sessions.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { SessionParamsSchema, SessionSchema } from "./schemas.js";

export const cancelSessionRoute = createRoute({
  method: "post",
  path: "/research/sessions/{id}/cancel",
  tags: ["research"],
  summary: "Cancel a research session",
  description:
    "Stops a pending or running session; its run writes nothing more. Another status is 409 `CONFLICT`. API keys need the `research` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("research"), rateLimit("default")] as const,
  request: { params: SessionParamsSchema },
  responses: {
    200: { description: "The session.", content: { "application/json": { schema: SessionSchema } } },
    ...problemResponses(401, 403, 404, 409, 429),
  },
});

export const registerCancelSession = (app: App) =>
  app.openapi(cancelSessionRoute, async (c) =>
    c.json(await cancelSession({ ctx: c.var.ctx, id: c.req.valid("param").id }), 200),
  );
