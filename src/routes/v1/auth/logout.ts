import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { logoutUser } from "../../../services/auth/accounts.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOnly } from "../../security.js";
import { clearRefreshCookie } from "./refresh-cookie.js";

export const logoutRoute = createRoute({
  method: "post",
  path: "/auth/logout",
  tags: ["auth"],
  summary: "Sign out",
  description:
    "Ends the caller's session at once: its access and refresh tokens stop working, and the `ape_refresh` cookie is cleared.",
  security: sessionOnly,
  middleware: [requireAuth("session"), rateLimit("auth")] as const,
  responses: { 204: { description: "Signed out." }, ...problemResponses(401, 403, 429, 503) },
});

export const registerLogout = (app: App) =>
  app.openapi(logoutRoute, async (c) => {
    await logoutUser({ ctx: c.var.ctx });
    clearRefreshCookie(c);
    return c.body(null, 204);
  });
