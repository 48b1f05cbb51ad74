import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { getConversation } from "../../../services/chat/conversations.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { ConversationDetailSchema, ConversationParamsSchema } from "./schemas.js";

export const getConversationRoute = createRoute({
  method: "get",
  path: "/chat/conversations/{id}",
  tags: ["chat"],
  summary: "Get a conversation",
  description:
    "One of the caller's conversations, with how many messages it holds and the tokens they used. Another user's conversation answers 404. API keys need the `chat` or `read` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("chat"), rateLimit("default")] as const,
  request: { params: ConversationParamsSchema },
  responses: {
    200: { description: "The conversation.", content: { "application/json": { schema: ConversationDetailSchema } } },
    ...problemResponses(401, 403, 404, 429),
  },
});

export const registerGetConversation = (app: App) =>
  app.openapi(getConversationRoute, async (c) =>
    c.json(await getConversation({ ctx: c.var.ctx, id: c.req.valid("param").id }), 200),
  );
