import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { listDeliveries } from "../../../services/webhooks/deliveries.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOnly } from "../../security.js";
import { DeliveryPageSchema, DeliveryQuerySchema, EndpointParamsSchema } from "./schemas.js";

export const listDeliveriesRoute = createRoute({
  method: "get",
  path: "/users/me/webhooks/{id}/deliveries",
  tags: ["webhooks"],
  summary: "List an endpoint's deliveries",
  description:
    "The endpoint's deliveries, newest first, each with every attempt: status code, latency, the start of the answer, the error and when the next attempt is due. Needs a signed-in session.",
  security: sessionOnly,
  middleware: [requireAuth("session"), rateLimit("account")] as const,
  request: { params: EndpointParamsSchema, query: DeliveryQuerySchema },
  responses: {
    200: { description: "A page of deliveries.", content: { "application/json": { schema: DeliveryPageSchema } } },
    ...problemResponses(400, 401, 403, 404, 429),
  },
});

export const registerListDeliveries = (app: App) =>
  app.openapi(listDeliveriesRoute, async (c) =>
    c.json(
      await listDeliveries({ ctx: c.var.ctx, endpointId: c.req.valid("param").id, input: c.req.valid("query") }),
      200,
    ),
  );
