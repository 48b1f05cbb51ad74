import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { getEndpoint } from "../../../services/webhooks/endpoints.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOnly } from "../../security.js";
import { EndpointParamsSchema, EndpointSchema } from "./schemas.js";

export const getEndpointRoute = createRoute({
  method: "get",
  path: "/users/me/webhooks/{id}",
  tags: ["webhooks"],
  summary: "Get a webhook endpoint",
  description:
    "One endpoint: its URL, events, state and failure streak. Another user's id answers 404. Needs a signed-in session.",
  security: sessionOnly,
  middleware: [requireAuth("session"), rateLimit("account")] as const,
  request: { params: EndpointParamsSchema },
  responses: {
    200: { description: "The endpoint.", content: { "application/json": { schema: EndpointSchema } } },
    ...problemResponses(401, 403, 404, 429),
  },
});

export const registerGetEndpoint = (app: App) =>
  app.openapi(getEndpointRoute, async (c) =>
    c.json(await getEndpoint({ ctx: c.var.ctx, id: c.req.valid("param").id }), 200),
  );
