import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { resetPassword } from "../../../services/auth/accounts.js";
import { problemResponses } from "../../problem-schema.js";
import { ResetPasswordBodySchema } from "./schemas.js";

export const resetPasswordRoute = createRoute({
  method: "post",
  path: "/auth/reset-password",
  tags: ["auth"],
  summary: "Set a new password with a reset token",
  description:
    "Sets the new password and ends every session of the account. The token works once, for 30 minutes (400 `INVALID_RESET_TOKEN` otherwise).",
  middleware: [rateLimit("auth")] as const,
  request: { body: { required: true, content: { "application/json": { schema: ResetPasswordBodySchema } } } },
  responses: { 204: { description: "Password changed; sign in again." }, ...problemResponses(400, 413, 415, 429, 503) },
});

export const registerResetPassword = (app: App) =>
  app.openapi(resetPasswordRoute, async (c) => {
    await resetPassword({ ctx: c.var.ctx, input: c.req.valid("json") });
    return c.body(null, 204);
  });
