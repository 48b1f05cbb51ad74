import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { followTurn } from "../../../services/chat/turns.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { ConversationParamsSchema } from "./schemas.js";
import { SSE_HEADERS } from "./send-message.js";
import { TURN_EVENTS_DESCRIPTION } from "./turn-schemas.js";

export const streamRoute = createRoute({
  method: "get",
  path: "/chat/conversations/{id}/stream",
  tags: ["chat"],
  summary: "Follow or resume a turn",
  description: [
    "The newest turn's events: from its start, or after the event named by `Last-Event-ID` (the header browsers' EventSource sends on reconnect, or the `last_event_id` query), then live until it ends. A finished turn can be replayed for 15 minutes.",
    TURN_EVENTS_DESCRIPTION,
    "404 when no turn ran recently.",
  ].join("\n\n"),
  security: sessionOrApiKey,
  middleware: [requireAuth("chat"), rateLimit("default")] as const,
  request: {
    params: ConversationParamsSchema,
    query: z.object({
      last_event_id: z.string().max(100).optional().openapi({
        description:
          "The last event id received, for clients that cannot set the `Last-Event-ID` header (the header wins when both are sent). Only later events are sent.",
        example: "trn_01JD8X3Q4W5E6R7T8Y9U0I1O2P.12",
      }),
    }),
  },
  responses: {
    200: {
      description: "The turn's events.",
      content: { "text/event-stream": { schema: { type: "string", description: TURN_EVENTS_DESCRIPTION } } },
    },
    ...problemResponses(401, 403, 404, 429),
  },
});

export const registerStream = (app: App) =>
  app.openapi(streamRoute, async (c) => {
    const ctx = c.var.ctx;
    const lastEventId = c.req.header("last-event-id") ?? c.req.valid("query").last_event_id;
    const stream = await followTurn({ ctx, conversationId: c.req.valid("param").id, lastEventId });
    return new Response(stream, { status: 200, headers: { ...SSE_HEADERS, "x-request-id": ctx.requestId } });
  });
