import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { refreshSession } from "../../../services/auth/sessions.js";
import { problemResponses } from "../../problem-schema.js";
import { RefreshBodySchema, TokenPairSchema } from "./schemas.js";

export const refreshRoute = createRoute({
  method: "post",
  path: "/auth/refresh",
  tags: ["auth"],
  summary: "Refresh the token pair",
  description:
    "Trades a refresh token for a new pair; the old one stops working. Presenting a refresh token a second time ends its whole session (401 `REFRESH_TOKEN_REUSED`), since it means a copy exists.",
  middleware: [rateLimit("auth")] as const,
  request: { body: { required: true, content: { "application/json": { schema: RefreshBodySchema } } } },
  responses: {
    200: { description: "A new token pair.", content: { "application/json": { schema: TokenPairSchema } } },
    ...problemResponses(400, 401, 413, 415, 429, 503),
  },
});

export const registerRefresh = (app: App) =>
  app.openapi(refreshRoute, async (c) =>
    c.json(await refreshSession({ ctx: c.var.ctx, refreshToken: c.req.valid("json").refresh_token }), 200),
  );
