import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { updateConversation } from "../../../services/chat/conversations.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { ConversationDetailSchema, ConversationParamsSchema, UpdateConversationBodySchema } from "./schemas.js";

export const updateConversationRoute = createRoute({
  method: "patch",
  path: "/chat/conversations/{id}",
  tags: ["chat"],
  summary: "Update a conversation",
  description:
    "Changes the title, the model and/or the system prompt; fields left out stay as they are, and null clears the title or the prompt. The next message uses the new model and prompt. API keys need the `chat` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("chat"), rateLimit("default")] as const,
  request: {
    params: ConversationParamsSchema,
    body: { required: true, content: { "application/json": { schema: UpdateConversationBodySchema } } },
  },
  responses: {
    200: {
      description: "The updated conversation.",
      content: { "application/json": { schema: ConversationDetailSchema } },
    },
    ...problemResponses(400, 401, 403, 404, 413, 415, 429),
  },
});

export const registerUpdateConversation = (app: App) =>
  app.openapi(updateConversationRoute, async (c) =>
    c.json(await updateConversation({ ctx: c.var.ctx, id: c.req.valid("param").id, input: c.req.valid("json") }), 200),
  );
