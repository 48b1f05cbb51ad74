import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { updateEndpoint } from "../../../services/webhooks/endpoints.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOnly } from "../../security.js";
import { EndpointParamsSchema, EndpointSchema, UpdateEndpointBodySchema } from "./schemas.js";

export const updateEndpointRoute = createRoute({
  method: "patch",
  path: "/users/me/webhooks/{id}",
  tags: ["webhooks"],
  summary: "Update a webhook endpoint",
  description:
    "Changes the URL (checked again), description or events, or turns the endpoint off (`enabled: false`) or on again, which also clears a 410 or five-days-failing disable. Needs a signed-in session.",
  security: sessionOnly,
  middleware: [requireAuth("session"), rateLimit("account")] as const,
  request: {
    params: EndpointParamsSchema,
    body: { required: true, content: { "application/json": { schema: UpdateEndpointBodySchema } } },
  },
  responses: {
    200: { description: "The endpoint as changed.", content: { "application/json": { schema: EndpointSchema } } },
    ...problemResponses(400, 401, 403, 404, 409, 413, 415, 429),
  },
});

export const registerUpdateEndpoint = (app: App) =>
  app.openapi(updateEndpointRoute, async (c) =>
    c.json(await updateEndpoint({ ctx: c.var.ctx, id: c.req.valid("param").id, input: c.req.valid("json") }), 200),
  );
