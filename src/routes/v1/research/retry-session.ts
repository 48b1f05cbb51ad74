import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { retrySession } from "../../../services/research/sessions.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { SessionParamsSchema, SessionSchema } from "./schemas.js";

export const retrySessionRoute = createRoute({
  method: "post",
  path: "/research/sessions/{id}/retry",
  tags: ["research"],
  summary: "Retry a research session",
  description:
    "Runs a failed or cancelled session again, going on after the last step that finished (its plan, searches and sources read are kept). Another status is 409 `CONFLICT`. API keys need the `research` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("research"), rateLimit("default")] as const,
  request: { params: SessionParamsSchema },
  responses: {
    200: { description: "The session.", content: { "application/json": { schema: SessionSchema } } },
    ...problemResponses(401, 403, 404, 409, 429, 503),
  },
});

export const registerRetrySession = (app: App) =>
  app.openapi(retrySessionRoute, async (c) =>
    c.json(await retrySession({ ctx: c.var.ctx, id: c.req.valid("param").id }), 200),
  );
