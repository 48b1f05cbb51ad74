import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { registerUser } from "../../../services/auth/accounts.js";
import { problemResponses } from "../../problem-schema.js";
import { setRefreshCookie } from "./refresh-cookie.js";
import { AuthResultSchema, RegisterBodySchema } from "./schemas.js";

export const registerRoute = createRoute({
  method: "post",
  path: "/auth/register",
  tags: ["auth"],
  summary: "Create an account",
  description:
    "Creates an account and signs it in. The email must be new (409 `EMAIL_TAKEN`); the password must be 8 to 128 characters and not a common one (400 `WEAK_PASSWORD`). Like sign-in, it sets the `ape_refresh` cookie.",
  middleware: [rateLimit("auth")] as const,
  request: { body: { required: true, content: { "application/json": { schema: RegisterBodySchema } } } },
  responses: {
    201: {
      description: "The account and a token pair.",
      content: { "application/json": { schema: AuthResultSchema } },
    },
    ...problemResponses(400, 409, 413, 415, 429, 503),
  },
});

export const registerRegister = (app: App) =>
  app.openapi(registerRoute, async (c) => {
    const result = await registerUser({ ctx: c.var.ctx, input: c.req.valid("json") });
    setRefreshCookie(c, result.tokens.refresh_token, result.tokens.refresh_expires_in);
    return c.json(result, 201);
  });
