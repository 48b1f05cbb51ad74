import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { revokeApiKey } from "../../../services/api-keys/api-keys.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOnly } from "../../security.js";
import { ApiKeyParamsSchema } from "./schemas.js";

export const revokeApiKeyRoute = createRoute({
  method: "delete",
  path: "/users/me/api-keys/{id}",
  tags: ["api keys"],
  summary: "Revoke an API key",
  description:
    "The key stops working at once. Revoking a revoked key changes nothing; another user's key answers 404. Needs a signed-in session.",
  security: sessionOnly,
  middleware: [requireAuth("session"), rateLimit("account")] as const,
  request: { params: ApiKeyParamsSchema },
  responses: { 204: { description: "Revoked." }, ...problemResponses(401, 403, 404, 429) },
});

export const registerRevokeApiKey = (app: App) =>
  app.openapi(revokeApiKeyRoute, async (c) => {
    await revokeApiKey({ ctx: c.var.ctx, id: c.req.valid("param").id });
    return c.body(null, 204);
  });
