import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { cancelJob } from "../../../services/extraction/jobs.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { JobParamsSchema, JobSchema } from "./schemas.js";

export const cancelJobRoute = createRoute({
  method: "post",
  path: "/extraction/jobs/{id}/cancel",
  tags: ["extraction"],
  summary: "Cancel an extraction job",
  description:
    "Stops a pending or running job; it writes no result. Another status is 409 `CONFLICT`. API keys need the `extraction` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("extraction"), rateLimit("default")] as const,
  request: { params: JobParamsSchema },
  responses: {
    200: { description: "The job.", content: { "application/json": { schema: JobSchema } } },
    ...problemResponses(401, 403, 404, 409, 429, 503),
  },
});

export const registerCancelJob = (app: App) =>
  app.openapi(cancelJobRoute, async (c) =>
    c.json(await cancelJob({ ctx: c.var.ctx, id: c.req.valid("param").id }), 200),
  );
