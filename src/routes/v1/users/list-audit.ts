import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { requireAuth } from "../../../middleware/auth.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { listMyAudit } from "../../../services/users/audit.js";
import { problemResponses } from "../../problem-schema.js";
import { sessionOrApiKey } from "../../security.js";
import { AuditPageSchema, AuditQuerySchema } from "./schemas.js";

export const listAuditRoute = createRoute({
  method: "get",
  path: "/users/me/audit",
  tags: ["users"],
  summary: "The caller's audit trail",
  description:
    "What happened on the account (sign-ins, failures, key and account changes, every state-changing request), newest first. Filter by `action` and time.",
  security: sessionOrApiKey,
  middleware: [requireAuth("read"), rateLimit("account")] as const,
  request: { query: AuditQuerySchema },
  responses: {
    200: { description: "A page of entries.", content: { "application/json": { schema: AuditPageSchema } } },
    ...problemResponses(400, 401, 403, 429),
  },
});

export const registerListAudit = (app: App) =>
  app.openapi(listAuditRoute, async (c) =>
    c.json(await listMyAudit({ ctx: c.var.ctx, input: c.req.valid("query") }), 200),
  );
