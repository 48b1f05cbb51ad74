import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { updateMe } from "../../../services/users/me.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOnly } from "../../security.js";
import { UserSchema } from "../auth/schemas.js";
import { UpdateMeBodySchema } from "./schemas.js";

export const updateMeRoute = createRoute({
  method: "put",
  path: "/users/me",
  tags: ["users"],
  summary: "Update the caller's account",
  description:
    "Changes the name, the email and/or the monthly budget. A new email needs `current_password` (403 `INVALID_PASSWORD` when wrong) and must be free (409 `EMAIL_TAKEN`). `monthly_budget_usd` caps a calendar month's (UTC) model spend; null removes the cap, and a change counts from the next call. Needs a signed-in session.",
  security: sessionOnly,
  middleware: [requireAuth("session"), rateLimit("account")] as const,
  request: { body: { required: true, content: { "application/json": { schema: UpdateMeBodySchema } } } },
  responses: {
    200: { description: "The updated account.", content: { "application/json": { schema: UserSchema } } },
    ...problemResponses(400, 401, 403, 409, 413, 415, 429),
  },
});

export const registerUpdateMe = (app: App) =>
  app.openapi(updateMeRoute, async (c) => c.json(await updateMe({ ctx: c.var.ctx, input: c.req.valid("json") }), 200));
