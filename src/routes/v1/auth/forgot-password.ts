import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { requestPasswordReset } from "../../../services/auth/accounts.js";
import { problemResponses } from "../../problem-schema.js";
import { AcceptedSchema, ForgotPasswordBodySchema } from "./schemas.js";

export const forgotPasswordRoute = createRoute({
  method: "post",
  path: "/auth/forgot-password",
  tags: ["auth"],
  summary: "Ask for a password reset",
  description:
    "Mails a single-use reset link, valid 30 minutes, when the account exists. Answers 202 either way, so it reveals nothing about which emails have accounts.",
  middleware: [rateLimit("auth")] as const,
  request: { body: { required: true, content: { "application/json": { schema: ForgotPasswordBodySchema } } } },
  responses: {
    202: { description: "Accepted.", content: { "application/json": { schema: AcceptedSchema } } },
    ...problemResponses(400, 413, 415, 429, 503),
  },
});

export const registerForgotPassword = (app: App) =>
  app.openapi(forgotPasswordRoute, async (c) => {
    await requestPasswordReset({ ctx: c.var.ctx, input: c.req.valid("json") });
    return c.json({ message: "If an account exists for this email, a reset link is on its way." }, 202);
  });
