import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { createSession } from "../../../services/research/sessions.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { JobWebhookSchema } from "../webhooks/schemas.js";
import { CreateSessionBodySchema, SessionSchema } from "./schemas.js";

const CreatedSessionSchema = SessionSchema.extend({ webhook: JobWebhookSchema }).openapi("CreatedResearchSession");

export const createSessionRoute = createRoute({
  method: "post",
  path: "/research/sessions",
  tags: ["research"],
  summary: "Start a research session",
  description:
    "Queues research on the question: it is split into sub-questions, each searched on the web (within `include_domains`, away from `exclude_domains`; Firecrawl or SearXNG), in your documents (their hybrid search), or both, as `sources` says, the sources read and ranked, and a report written whose every `[n]` is checked by code to point at a read source whose quote occurs in it. Answers 202 with the session; follow it at `GET /research/sessions/{id}` or its `/events`. The same question by you within 24 h answers the earlier report (200, `cached_from`) unless `fresh`. 503 `SEARCH_NOT_CONFIGURED` for `web` or `both` without a search provider (neither `FIRECRAWL_API_KEY` nor `SEARXNG_URL`; `documents` needs none), `NO_PROVIDER_CONFIGURED` without a model. A `webhook_url` receives the session's `research.completed` or `research.failed` event, signed (Standard Webhooks); a URL new to the account becomes one of its endpoints, and its secret is in `webhook.secret` this once. API keys need the `research` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("research"), rateLimit("default")] as const,
  request: { body: { required: true, content: { "application/json": { schema: CreateSessionBodySchema } } } },
  responses: {
    200: {
      description: "Answered from an earlier report of the same question.",
      content: { "application/json": { schema: CreatedSessionSchema } },
    },
    202: { description: "Queued.", content: { "application/json": { schema: CreatedSessionSchema } } },
    ...problemResponses(400, 401, 403, 413, 415, 429, 503),
  },
});

export const registerCreateSession = (app: App) =>
  app.openapi(createSessionRoute, async (c) => {
    const { session, cached, webhook } = await createSession({ ctx: c.var.ctx, input: c.req.valid("json") });
    return cached ? c.json({ ...session, webhook }, 200) : c.json({ ...session, webhook }, 202);
  });
