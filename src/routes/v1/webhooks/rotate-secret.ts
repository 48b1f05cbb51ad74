import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { rotateSecret } from "../../../services/webhooks/endpoints.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOnly } from "../../security.js";
import { EndpointParamsSchema, EndpointWithSecretSchema } from "./schemas.js";

export const rotateSecretRoute = createRoute({
  method: "post",
  path: "/users/me/webhooks/{id}/rotate",
  tags: ["webhooks"],
  summary: "Rotate an endpoint's signing secret",
  description:
    "Gives the endpoint a new secret, shown only this once. For 24 hours the previous secret signs too (`webhook-signature` carries both signatures), so receivers can switch over without missing an event. Needs a signed-in session.",
  security: sessionOnly,
  middleware: [requireAuth("session"), rateLimit("account")] as const,
  request: { params: EndpointParamsSchema },
  responses: {
    200: {
      description: "The endpoint, with its new secret.",
      content: { "application/json": { schema: EndpointWithSecretSchema } },
    },
    ...problemResponses(401, 403, 404, 429),
  },
});

export const registerRotateSecret = (app: App) =>
  app.openapi(rotateSecretRoute, async (c) =>
    c.json(await rotateSecret({ ctx: c.var.ctx, id: c.req.valid("param").id }), 200),
  );
