import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { listConversations } from "../../../services/chat/conversations.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { ConversationListQuerySchema, ConversationPageSchema } from "./schemas.js";

export const listConversationsRoute = createRoute({
  method: "get",
  path: "/chat/conversations",
  tags: ["chat"],
  summary: "List conversations",
  description:
    "The caller's conversations, newest first; `q` keeps those whose title contains it (ignoring case). API keys need the `chat` or `read` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("chat"), rateLimit("default")] as const,
  request: { query: ConversationListQuerySchema },
  responses: {
    200: {
      description: "A page of conversations.",
      content: { "application/json": { schema: ConversationPageSchema } },
    },
    ...problemResponses(400, 401, 403, 429),
  },
});

export const registerListConversations = (app: App) =>
  app.openapi(listConversationsRoute, async (c) =>
    c.json(await listConversations({ ctx: c.var.ctx, input: c.req.valid("query") }), 200),
  );
