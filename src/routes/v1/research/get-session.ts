import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { getSession } from "../../../services/research/sessions.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { SessionParamsSchema, SessionSchema } from "./schemas.js";

export const getSessionRoute = createRoute({
  method: "get",
  path: "/research/sessions/{id}",
  tags: ["research"],
  summary: "Get a research session",
  description:
    "A session with its progress (stage, sub-questions, sources found and read, percent), and once completed its report, summary, cited sources, skipped sources, the citation check and usage. API keys need the `research` or `read` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("research"), rateLimit("default")] as const,
  request: { params: SessionParamsSchema },
  responses: {
    200: { description: "The session.", content: { "application/json": { schema: SessionSchema } } },
    ...problemResponses(401, 403, 404, 429),
  },
});

export const registerGetSession = (app: App) =>
  app.openapi(getSessionRoute, async (c) =>
    c.json(await getSession({ ctx: c.var.ctx, id: c.req.valid("param").id }), 200),
  );
