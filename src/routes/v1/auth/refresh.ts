import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { ApiError } from "../../../lib/errors.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { refreshSession } from "../../../services/auth/sessions.js";
import { problemResponses } from "../../problem-schema.js";
import { clearRefreshCookie, readRefreshCookie, setRefreshCookie } from "./refresh-cookie.js";
import { RefreshBodySchema, RefreshResultSchema } from "./schemas.js";

export const refreshRoute = createRoute({
  method: "post",
  path: "/auth/refresh",
  tags: ["auth"],
  summary: "Refresh the token pair",
  description:
    "Trades a refresh token for a new pair; the old one stops working. Presenting a refresh token a second time ends its whole session (401 `REFRESH_TOKEN_REUSED`), since it means a copy exists. The token comes from the body or, when the body has none, from the `ape_refresh` cookie; a cookie refresh sets the next token in the cookie and leaves it out of the JSON, so page script never sees it.",
  middleware: [rateLimit("auth")] as const,
  request: { body: { required: true, content: { "application/json": { schema: RefreshBodySchema } } } },
  responses: {
    200: { description: "A new token pair.", content: { "application/json": { schema: RefreshResultSchema } } },
    ...problemResponses(400, 401, 413, 415, 429, 503),
  },
});

export const registerRefresh = (app: App) =>
  app.openapi(refreshRoute, async (c) => {
    const fromBody = c.req.valid("json").refresh_token;
    const refreshToken = fromBody ?? readRefreshCookie(c);
    if (!refreshToken)
      throw new ApiError("INVALID_REFRESH_TOKEN", "No refresh token in the body or the cookie; sign in.");
    try {
      const tokens = await refreshSession({ ctx: c.var.ctx, refreshToken });
      if (fromBody) return c.json(tokens, 200);
      setRefreshCookie(c, tokens.refresh_token, tokens.refresh_expires_in);
      const { refresh_token: _inCookie, ...rest } = tokens;
      return c.json(rest, 200);
    } catch (error) {
      if (!fromBody) clearRefreshCookie(c);
      throw error;
    }
  });
