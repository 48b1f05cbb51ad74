import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { listJobs } from "../../../services/extraction/jobs.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { JobListQuerySchema, JobPageSchema } from "./schemas.js";

export const listJobsRoute = createRoute({
  method: "get",
  path: "/extraction/jobs",
  tags: ["extraction"],
  summary: "List extraction jobs",
  description:
    "Your jobs, newest first, optionally of one `status` or `source_type`. API keys need the `extraction` or `read` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("extraction"), rateLimit("default")] as const,
  request: { query: JobListQuerySchema },
  responses: {
    200: { description: "A page of jobs.", content: { "application/json": { schema: JobPageSchema } } },
    ...problemResponses(400, 401, 403, 429),
  },
});

export const registerListJobs = (app: App) =>
  app.openapi(listJobsRoute, async (c) => c.json(await listJobs({ ctx: c.var.ctx, input: c.req.valid("query") }), 200));
