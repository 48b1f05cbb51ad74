import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { estimateSession } from "../../../services/research/sessions.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { EstimateBodySchema, EstimateSchema } from "./schemas.js";

export const estimateSessionRoute = createRoute({
  method: "post",
  path: "/research/sessions/estimate",
  tags: ["research"],
  summary: "Estimate a research session",
  description:
    "What a session of this question and depth would take, without running it: model calls, tokens, cost at the price of the model `auto` would pick, wall time, and the budget it would run under. API keys need the `research` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("research"), rateLimit("default")] as const,
  request: { body: { required: true, content: { "application/json": { schema: EstimateBodySchema } } } },
  responses: {
    200: { description: "The estimate.", content: { "application/json": { schema: EstimateSchema } } },
    ...problemResponses(400, 401, 403, 413, 415, 429),
  },
});

export const registerEstimateSession = (app: App) =>
  app.openapi(estimateSessionRoute, async (c) =>
    c.json(estimateSession({ ctx: c.var.ctx, input: c.req.valid("json") }), 200),
  );
