import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { startTurn } from "../../../services/chat/turns.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { ConversationParamsSchema } from "./schemas.js";
import { SendMessageBodySchema, TURN_EVENTS_DESCRIPTION, TurnAnswerSchema } from "./turn-schemas.js";

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
};

export const sendMessageRoute = createRoute({
  method: "post",
  path: "/chat/conversations/{id}/messages",
  tags: ["chat"],
  summary: "Send a message",
  description: [
    "Stores the user message, then answers it. By default the answer is JSON once the turn ends; with `Accept: text/event-stream` or `stream: true` it is a stream.",
    TURN_EVENTS_DESCRIPTION,
    "One turn at a time per conversation: a second send while one runs answers 409 `TURN_IN_PROGRESS`. The turn goes on if the client disconnects. A failed turn keeps the user message and the error (the assistant message with status `failed`); send `retry: true` to answer it again. A message too large for the model's window answers 400 `MESSAGE_TOO_LONG`.",
  ].join("\n\n"),
  security: sessionOrApiKey,
  middleware: [requireAuth("chat"), rateLimit("default")] as const,
  request: {
    params: ConversationParamsSchema,
    body: { required: true, content: { "application/json": { schema: SendMessageBodySchema } } },
  },
  responses: {
    200: {
      description: "The stored assistant message and its context report (JSON), or the turn's events (SSE).",
      content: {
        "application/json": { schema: TurnAnswerSchema },
        "text/event-stream": { schema: { type: "string", description: TURN_EVENTS_DESCRIPTION } },
      },
    },
    ...problemResponses(400, 401, 402, 403, 404, 409, 413, 415, 422, 429, 502, 503),
  },
});

export const registerSendMessage = (app: App) =>
  app.openapi(sendMessageRoute, async (c) => {
    const ctx = c.var.ctx;
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const wantsStream = body.stream === true || (c.req.header("accept") ?? "").includes("text/event-stream");
    const turn = await startTurn({ ctx, conversationId: id, input: body, stream: wantsStream });
    if ("answer" in turn) return c.json(turn.answer, 200);
    return new Response(turn.stream, { status: 200, headers: { ...SSE_HEADERS, "x-request-id": ctx.requestId } });
  });
