import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { createApiKey } from "../../../services/api-keys/api-keys.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOnly } from "../../security.js";
import { CreateApiKeyBodySchema, CreatedApiKeySchema } from "./schemas.js";

export const createApiKeyRoute = createRoute({
  method: "post",
  path: "/users/me/api-keys",
  tags: ["api keys"],
  summary: "Create an API key",
  description:
    "Creates a key with the given scopes and optional expiry. The answer holds the key itself, shown only this once; APE keeps only its hash. Needs a signed-in session.",
  security: sessionOnly,
  middleware: [requireAuth("session"), rateLimit("account")] as const,
  request: { body: { required: true, content: { "application/json": { schema: CreateApiKeyBodySchema } } } },
  responses: {
    201: { description: "The key, with its secret.", content: { "application/json": { schema: CreatedApiKeySchema } } },
    ...problemResponses(400, 401, 403, 413, 415, 429),
  },
});

export const registerCreateApiKey = (app: App) =>
  app.openapi(createApiKeyRoute, async (c) =>
    c.json(await createApiKey({ ctx: c.var.ctx, input: c.req.valid("json") }), 201),
  );
