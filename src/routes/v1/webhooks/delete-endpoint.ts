import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { deleteEndpoint } from "../../../services/webhooks/endpoints.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOnly } from "../../security.js";
import { EndpointParamsSchema } from "./schemas.js";

export const deleteEndpointRoute = createRoute({
  method: "delete",
  path: "/users/me/webhooks/{id}",
  tags: ["webhooks"],
  summary: "Delete a webhook endpoint",
  description:
    "Deletes the endpoint and its delivery log; events on their way to it are not sent. Needs a signed-in session.",
  security: sessionOnly,
  middleware: [requireAuth("session"), rateLimit("account")] as const,
  request: { params: EndpointParamsSchema },
  responses: {
    204: { description: "Deleted." },
    ...problemResponses(401, 403, 404, 429),
  },
});

export const registerDeleteEndpoint = (app: App) =>
  app.openapi(deleteEndpointRoute, async (c) => {
    await deleteEndpoint({ ctx: c.var.ctx, id: c.req.valid("param").id });
    return c.body(null, 204);
  });
