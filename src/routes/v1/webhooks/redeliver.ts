import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { redeliver } from "../../../services/webhooks/deliveries.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOnly } from "../../security.js";
import { DeliveryParamsSchema, QueuedDeliverySchema } from "./schemas.js";

export const redeliverRoute = createRoute({
  method: "post",
  path: "/users/me/webhooks/deliveries/{id}/redeliver",
  tags: ["webhooks"],
  summary: "Redeliver an event",
  description:
    "Sends a delivered or given-up delivery again: the same event and `webhook-id` (receivers de-duplicate on it), with the retry schedule started afresh. A delivery still being attempted is 409 `DELIVERY_IN_PROGRESS`; one to a disabled endpoint is 409 `WEBHOOK_DISABLED`. Needs a signed-in session.",
  security: sessionOnly,
  middleware: [requireAuth("session"), rateLimit("account")] as const,
  request: { params: DeliveryParamsSchema },
  responses: {
    202: { description: "Queued.", content: { "application/json": { schema: QueuedDeliverySchema } } },
    ...problemResponses(401, 403, 404, 409, 429),
  },
});

export const registerRedeliver = (app: App) =>
  app.openapi(redeliverRoute, async (c) =>
    c.json(await redeliver({ ctx: c.var.ctx, id: c.req.valid("param").id }), 202),
  );
