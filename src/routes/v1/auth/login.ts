import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { loginUser } from "../../../services/auth/accounts.js";
import { problemResponses } from "../../problem-schema.js";
import { setRefreshCookie } from "./refresh-cookie.js";
import { AuthResultSchema, LoginBodySchema } from "./schemas.js";

export const loginRoute = createRoute({
  method: "post",
  path: "/auth/login",
  tags: ["auth"],
  summary: "Sign in",
  description:
    "Trades email and password for a token pair. A wrong email and a wrong password answer alike (401 `INVALID_CREDENTIALS`); repeated failures per account or IP answer 429. The refresh token is also set as the HttpOnly cookie `ape_refresh` (Path=/api/v1/auth, SameSite=Strict), for browsers.",
  middleware: [rateLimit("auth")] as const,
  request: { body: { required: true, content: { "application/json": { schema: LoginBodySchema } } } },
  responses: {
    200: { description: "The user and a token pair.", content: { "application/json": { schema: AuthResultSchema } } },
    ...problemResponses(400, 401, 413, 415, 429, 503),
  },
});

export const registerLogin = (app: App) =>
  app.openapi(loginRoute, async (c) => {
    const result = await loginUser({ ctx: c.var.ctx, input: c.req.valid("json") });
    setRefreshCookie(c, result.tokens.refresh_token, result.tokens.refresh_expires_in);
    return c.json(result, 200);
  });
