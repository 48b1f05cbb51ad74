import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { sendTestEvent } from "../../../services/webhooks/endpoints.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOnly } from "../../security.js";
import { EndpointParamsSchema, QueuedDeliverySchema } from "./schemas.js";

export const sendTestRoute = createRoute({
  method: "post",
  path: "/users/me/webhooks/{id}/test",
  tags: ["webhooks"],
  summary: "Send a test event",
  description:
    "Queues a `webhook.test` event to this endpoint only, signed and retried like every event; follow it in the delivery log. A disabled endpoint is 409. Needs a signed-in session.",
  security: sessionOnly,
  middleware: [requireAuth("session"), rateLimit("account")] as const,
  request: { params: EndpointParamsSchema },
  responses: {
    202: { description: "Queued.", content: { "application/json": { schema: QueuedDeliverySchema } } },
    ...problemResponses(401, 403, 404, 409, 429),
  },
});

export const registerSendTest = (app: App) =>
  app.openapi(sendTestRoute, async (c) =>
    c.json(await sendTestEvent({ ctx: c.var.ctx, id: c.req.valid("param").id }), 202),
  );
