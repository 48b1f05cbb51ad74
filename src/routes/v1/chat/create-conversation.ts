import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { createConversation } from "../../../services/chat/conversations.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { ConversationDetailSchema, CreateConversationBodySchema } from "./schemas.js";

export const createConversationRoute = createRoute({
  method: "post",
  path: "/chat/conversations",
  tags: ["chat"],
  summary: "Start a conversation",
  description:
    "Starts an empty conversation with an optional title, model (`auto` by default), system prompt and grounding documents. A model no configured provider answers to is 400 `UNKNOWN_MODEL`. API keys need the `chat` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("chat"), rateLimit("default")] as const,
  request: { body: { required: true, content: { "application/json": { schema: CreateConversationBodySchema } } } },
  responses: {
    201: {
      description: "The new conversation.",
      content: { "application/json": { schema: ConversationDetailSchema } },
    },
    ...problemResponses(400, 401, 403, 413, 415, 429),
  },
});

export const registerCreateConversation = (app: App) =>
  app.openapi(createConversationRoute, async (c) =>
    c.json(await createConversation({ ctx: c.var.ctx, input: c.req.valid("json") }), 201),
  );
