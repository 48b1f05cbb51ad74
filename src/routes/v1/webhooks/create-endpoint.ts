import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { createEndpoint } from "../../../services/webhooks/endpoints.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOnly } from "../../security.js";
import { CreateEndpointBodySchema, EndpointWithSecretSchema } from "./schemas.js";

export const createEndpointRoute = createRoute({
  method: "post",
  path: "/users/me/webhooks",
  tags: ["webhooks"],
  summary: "Create a webhook endpoint",
  description:
    "Registers an endpoint for the given events and answers it with its signing secret (Standard Webhooks `whsec_…`), shown only this once. The URL must resolve only to public addresses (a private one is 400) and use https outside development. One endpoint per URL (409 `WEBHOOK_EXISTS`), at most 20 per account. Needs a signed-in session.",
  security: sessionOnly,
  middleware: [requireAuth("session"), rateLimit("account")] as const,
  request: { body: { required: true, content: { "application/json": { schema: CreateEndpointBodySchema } } } },
  responses: {
    201: {
      description: "The endpoint, with its secret.",
      content: { "application/json": { schema: EndpointWithSecretSchema } },
    },
    ...problemResponses(400, 401, 403, 409, 413, 415, 429),
  },
});

export const registerCreateEndpoint = (app: App) =>
  app.openapi(createEndpointRoute, async (c) =>
    c.json(await createEndpoint({ ctx: c.var.ctx, input: c.req.valid("json") }), 201),
  );
