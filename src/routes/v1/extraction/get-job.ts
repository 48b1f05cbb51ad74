import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { getJob } from "../../../services/extraction/jobs.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { JobParamsSchema, JobSchema } from "./schemas.js";

export const getJobRoute = createRoute({
  method: "get",
  path: "/extraction/jobs/{id}",
  tags: ["extraction"],
  summary: "Get an extraction job",
  description:
    "A job with its progress (stage, pages fetched and expected, rows so far), counts and error. API keys need the `extraction` or `read` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("extraction"), rateLimit("default")] as const,
  request: { params: JobParamsSchema },
  responses: {
    200: { description: "The job.", content: { "application/json": { schema: JobSchema } } },
    ...problemResponses(401, 403, 404, 429),
  },
});

export const registerGetJob = (app: App) =>
  app.openapi(getJobRoute, async (c) => c.json(await getJob({ ctx: c.var.ctx, id: c.req.valid("param").id }), 200));
