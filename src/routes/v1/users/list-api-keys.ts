import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { listApiKeys } from "../../../services/api-keys/api-keys.js";
import { PageQuerySchema } from "../../pagination.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOnly } from "../../security.js";
import { ApiKeyPageSchema } from "./schemas.js";

export const listApiKeysRoute = createRoute({
  method: "get",
  path: "/users/me/api-keys",
  tags: ["api keys"],
  summary: "List API keys",
  description:
    "The caller's keys, newest first, revoked ones included: prefix, name, scopes, last use and expiry, never the key. Needs a signed-in session.",
  security: sessionOnly,
  middleware: [requireAuth("session"), rateLimit("account")] as const,
  request: { query: PageQuerySchema },
  responses: {
    200: { description: "A page of keys.", content: { "application/json": { schema: ApiKeyPageSchema } } },
    ...problemResponses(400, 401, 403, 429),
  },
});

export const registerListApiKeys = (app: App) =>
  app.openapi(listApiKeysRoute, async (c) =>
    c.json(await listApiKeys({ ctx: c.var.ctx, input: c.req.valid("query") }), 200),
  );
