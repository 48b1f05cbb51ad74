import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { listMessages } from "../../../services/chat/conversations.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { ConversationParamsSchema, MessageListQuerySchema, MessagePageSchema } from "./schemas.js";

export const listMessagesRoute = createRoute({
  method: "get",
  path: "/chat/conversations/{id}/messages",
  tags: ["chat"],
  summary: "List a conversation's messages",
  description:
    "The conversation's messages, oldest first, with each answer's model, tokens and status (complete, cancelled or failed). Page on with `cursor`, the last id seen. API keys need the `chat` or `read` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("chat"), rateLimit("default")] as const,
  request: { params: ConversationParamsSchema, query: MessageListQuerySchema },
  responses: {
    200: { description: "A page of messages.", content: { "application/json": { schema: MessagePageSchema } } },
    ...problemResponses(400, 401, 403, 404, 429),
  },
});

export const registerListMessages = (app: App) =>
  app.openapi(listMessagesRoute, async (c) =>
    c.json(await listMessages({ ctx: c.var.ctx, id: c.req.valid("param").id, input: c.req.valid("query") }), 200),
  );
