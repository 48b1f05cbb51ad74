import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { deleteMessagesFrom } from "../../../services/chat/delete-messages.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { ConversationParamsSchema } from "./schemas.js";

const MessageParamsSchema = ConversationParamsSchema.extend({
  // No format rule: a malformed id answers 404 like an unknown one.
  message_id: z.string().openapi({
    param: { name: "message_id", in: "path" },
    description: "The first message to delete; every later message of the conversation goes with it.",
    example: "msg_01JD8Z7A2B3C4D5E6F7G8H9J0K",
  }),
});

export const deleteMessagesRoute = createRoute({
  method: "delete",
  path: "/chat/conversations/{id}/messages/{message_id}",
  tags: ["chat"],
  summary: "Delete a message and everything after it",
  description:
    "Takes the conversation back to before this message: it and every later message are deleted, and the next turn's context no longer holds them. Regenerating an answer is this from the last user message, then sending its text again; editing a message is the same with the new text. 409 `TURN_IN_PROGRESS` while a turn runs (cancel it first). API keys need the `chat` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("chat"), rateLimit("default")] as const,
  request: { params: MessageParamsSchema },
  responses: { 204: { description: "Deleted." }, ...problemResponses(401, 403, 404, 409, 429) },
});

export const registerDeleteMessages = (app: App) =>
  app.openapi(deleteMessagesRoute, async (c) => {
    const { id, message_id } = c.req.valid("param");
    await deleteMessagesFrom({ ctx: c.var.ctx, conversationId: id, messageId: message_id });
    return c.body(null, 204);
  });
