import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { deleteMe } from "../../../services/users/me.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOnly } from "../../security.js";
import { DeleteMeBodySchema } from "./schemas.js";

export const deleteMeRoute = createRoute({
  method: "delete",
  path: "/users/me",
  tags: ["users"],
  summary: "Delete the caller's account",
  description:
    "Deletes the account and everything it owns, after the password (403 `INVALID_PASSWORD` when wrong). Every session ends. Needs a signed-in session.",
  security: sessionOnly,
  middleware: [requireAuth("session"), rateLimit("account")] as const,
  request: { body: { required: true, content: { "application/json": { schema: DeleteMeBodySchema } } } },
  responses: { 204: { description: "Deleted." }, ...problemResponses(400, 401, 403, 413, 415, 429) },
});

export const registerDeleteMe = (app: App) =>
  app.openapi(deleteMeRoute, async (c) => {
    await deleteMe({ ctx: c.var.ctx, input: c.req.valid("json") });
    return c.body(null, 204);
  });
