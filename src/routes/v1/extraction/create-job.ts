import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { createJob } from "../../../services/extraction/jobs.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { JobWebhookSchema } from "../webhooks/schemas.js";
import { CreateJobBodySchema, IdempotencyHeaderSchema, JobSchema } from "./schemas.js";

const CreatedJobSchema = JobSchema.extend({ webhook: JobWebhookSchema }).openapi("CreatedExtractionJob");

export const createJobRoute = createRoute({
  method: "post",
  path: "/extraction/jobs",
  tags: ["extraction"],
  summary: "Start an extraction job",
  description:
    "Queues a job that turns a document, a web page or a crawl into rows of the given schema: tables whose headers match the schema are read by code (no model), other text by the model, and every row is normalised and validated by code, keeping its source, quote and per-value confidence. Answers 202 with the job; follow `progress` at `GET /extraction/jobs/{id}`. A URL on a private address is 400. A `webhook_url` receives the job's `extraction.completed` or `extraction.failed` event, signed (Standard Webhooks); a URL new to the account becomes one of its endpoints, and its secret is in `webhook.secret` this once. With `Idempotency-Key`, a repeat answers the first job (200). API keys need the `extraction` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("extraction"), rateLimit("default")] as const,
  request: {
    headers: IdempotencyHeaderSchema,
    body: { required: true, content: { "application/json": { schema: CreateJobBodySchema } } },
  },
  responses: {
    200: {
      description: "The job this Idempotency-Key started before.",
      content: { "application/json": { schema: JobSchema } },
    },
    202: { description: "Queued.", content: { "application/json": { schema: CreatedJobSchema } } },
    ...problemResponses(400, 401, 403, 404, 413, 415, 429, 503),
  },
});

export const registerCreateJob = (app: App) =>
  app.openapi(createJobRoute, async (c) => {
    const { job, repeated, webhook } = await createJob({
      ctx: c.var.ctx,
      input: c.req.valid("json"),
      idempotencyKey: c.req.valid("header")["idempotency-key"],
    });
    return repeated ? c.json(job, 200) : c.json({ ...job, webhook }, 202);
  });
