import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { cancelTurn } from "../../../services/chat/turns.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { ConversationParamsSchema } from "./schemas.js";
import { CancelAnswerSchema } from "./turn-schemas.js";

export const cancelRoute = createRoute({
  method: "post",
  path: "/chat/conversations/{id}/cancel",
  tags: ["chat"],
  summary: "Cancel the running turn",
  description:
    "Stops the model call of the running turn at once, before or after its first token. Answers once the partial answer is stored with status `cancelled` (the tokens spent are recorded), so the next message can be sent right away. `cancelled: false` when no turn was running.",
  security: sessionOrApiKey,
  middleware: [requireAuth("chat"), rateLimit("default")] as const,
  request: { params: ConversationParamsSchema },
  responses: {
    200: {
      description: "Whether a turn was stopped.",
      content: { "application/json": { schema: CancelAnswerSchema } },
    },
    ...problemResponses(401, 403, 404, 429),
  },
});

export const registerCancel = (app: App) =>
  app.openapi(cancelRoute, async (c) =>
    c.json(await cancelTurn({ ctx: c.var.ctx, conversationId: c.req.valid("param").id }), 200),
  );
