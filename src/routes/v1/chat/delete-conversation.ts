import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { deleteConversation } from "../../../services/chat/conversations.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { ConversationParamsSchema } from "./schemas.js";

export const deleteConversationRoute = createRoute({
  method: "delete",
  path: "/chat/conversations/{id}",
  tags: ["chat"],
  summary: "Delete a conversation",
  description:
    "Deletes the conversation, its messages and any stored answer stream, for good. API keys need the `chat` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("chat"), rateLimit("default")] as const,
  request: { params: ConversationParamsSchema },
  responses: { 204: { description: "Deleted." }, ...problemResponses(401, 403, 404, 429) },
});

export const registerDeleteConversation = (app: App) =>
  app.openapi(deleteConversationRoute, async (c) => {
    await deleteConversation({ ctx: c.var.ctx, id: c.req.valid("param").id });
    return c.body(null, 204);
  });
