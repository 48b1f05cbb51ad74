import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { listSessions } from "../../../services/research/sessions.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { SessionListQuerySchema, SessionPageSchema } from "./schemas.js";

export const listSessionsRoute = createRoute({
  method: "get",
  path: "/research/sessions",
  tags: ["research"],
  summary: "List research sessions",
  description: "Your sessions, newest first, optionally of one `status`. API keys need the `research` or `read` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("research"), rateLimit("default")] as const,
  request: { query: SessionListQuerySchema },
  responses: {
    200: { description: "A page of sessions.", content: { "application/json": { schema: SessionPageSchema } } },
    ...problemResponses(400, 401, 403, 429),
  },
});

export const registerListSessions = (app: App) =>
  app.openapi(listSessionsRoute, async (c) =>
    c.json(await listSessions({ ctx: c.var.ctx, input: c.req.valid("query") }), 200),
  );
