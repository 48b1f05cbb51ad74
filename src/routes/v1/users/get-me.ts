import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { getMe } from "../../../services/users/me.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { UserSchema } from "../auth/schemas.js";

export const getMeRoute = createRoute({
  method: "get",
  path: "/users/me",
  tags: ["users"],
  summary: "The caller's account",
  description: "Who the access token or API key belongs to. API keys need the `read` scope.",
  security: sessionOrApiKey,
  middleware: [requireAuth("read"), rateLimit("account")] as const,
  responses: {
    200: { description: "The account.", content: { "application/json": { schema: UserSchema } } },
    ...problemResponses(401, 403, 429),
  },
});

export const registerGetMe = (app: App) =>
  app.openapi(getMeRoute, async (c) => c.json(await getMe({ ctx: c.var.ctx }), 200));
