import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { streamSessionEvents } from "../../../services/research/event-stream.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { SSE_HEADERS } from "../chat/send-message.js";
import { EVENTS_DESCRIPTION, EventsHeadersSchema, SessionParamsSchema } from "./schemas.js";

export const sessionEventsRoute = createRoute({
  method: "get",
  path: "/research/sessions/{id}/events",
  tags: ["research"],
  summary: "Follow a research session's progress",
  description:
    "The session's progress as server-sent events, from the first or, with `Last-Event-ID`, after that one; the stream ends with `done` once the session is completed, failed or cancelled. API keys need the `research` or `read` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("research"), rateLimit("default")] as const,
  request: { params: SessionParamsSchema, headers: EventsHeadersSchema },
  responses: {
    200: {
      description: "The event stream.",
      content: { "text/event-stream": { schema: { type: "string", description: EVENTS_DESCRIPTION } } },
    },
    ...problemResponses(400, 401, 403, 404, 429),
  },
});

export const registerSessionEvents = (app: App) =>
  app.openapi(sessionEventsRoute, async (c) => {
    const stream = await streamSessionEvents({
      ctx: c.var.ctx,
      id: c.req.valid("param").id,
      lastEventId: Number(c.req.valid("header")["last-event-id"] ?? 0),
    });
    return new Response(stream, { status: 200, headers: SSE_HEADERS });
  });
