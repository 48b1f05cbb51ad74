import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { retryJob } from "../../../services/extraction/jobs.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { JobParamsSchema, JobSchema } from "./schemas.js";

export const retryJobRoute = createRoute({
  method: "post",
  path: "/extraction/jobs/{id}/retry",
  tags: ["extraction"],
  summary: "Retry an extraction job",
  description:
    "Queues a failed or cancelled job again (202). Another status is 409 `CONFLICT`. API keys need the `extraction` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("extraction"), rateLimit("default")] as const,
  request: { params: JobParamsSchema },
  responses: {
    202: { description: "The job.", content: { "application/json": { schema: JobSchema } } },
    ...problemResponses(401, 403, 404, 409, 429, 503),
  },
});

export const registerRetryJob = (app: App) =>
  app.openapi(retryJobRoute, async (c) => c.json(await retryJob({ ctx: c.var.ctx, id: c.req.valid("param").id }), 202));
