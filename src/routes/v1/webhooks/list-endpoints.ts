import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { listEndpoints } from "../../../services/webhooks/endpoints.js";
import { PageQuerySchema } from "../../pagination.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOnly } from "../../security.js";
import { EndpointPageSchema } from "./schemas.js";

export const listEndpointsRoute = createRoute({
  method: "get",
  path: "/users/me/webhooks",
  tags: ["webhooks"],
  summary: "List webhook endpoints",
  description:
    "The caller's endpoints, newest first, with whether each is enabled and why not; never their secrets. Needs a signed-in session.",
  security: sessionOnly,
  middleware: [requireAuth("session"), rateLimit("account")] as const,
  request: { query: PageQuerySchema },
  responses: {
    200: { description: "A page of endpoints.", content: { "application/json": { schema: EndpointPageSchema } } },
    ...problemResponses(400, 401, 403, 429),
  },
});

export const registerListEndpoints = (app: App) =>
  app.openapi(listEndpointsRoute, async (c) =>
    c.json(await listEndpoints({ ctx: c.var.ctx, input: c.req.valid("query") }), 200),
  );
