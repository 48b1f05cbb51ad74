import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { getUsageReport } from "../../../services/usage/usage-report.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { UsageQuerySchema, UsageReportSchema } from "./schemas.js";

export const getUsageRoute = createRoute({
  method: "get",
  path: "/users/me/usage",
  tags: ["users"],
  summary: "The caller's model usage and cost",
  description:
    "Requests, tokens, cost and cache hits over a range of UTC days (both included; the last 30 days by default, at most 366), grouped by day, service, model or provider, with totals. API keys need the `read` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("read"), rateLimit("default")] as const,
  request: { query: UsageQuerySchema },
  responses: {
    200: { description: "The usage report.", content: { "application/json": { schema: UsageReportSchema } } },
    ...problemResponses(400, 401, 403, 429),
  },
});

export const registerGetUsage = (app: App) =>
  app.openapi(getUsageRoute, async (c) =>
    c.json(await getUsageReport({ ctx: c.var.ctx, input: c.req.valid("query") }), 200),
  );
