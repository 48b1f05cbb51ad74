import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { LivenessSchema } from "./schemas.js";

export const liveRoute = createRoute({
  method: "get",
  path: "/health",
  tags: ["health"],
  summary: "Liveness",
  description: "Answers as long as the Worker runs. Touches no dependency.",
  responses: {
    200: { description: "The Worker is alive.", content: { "application/json": { schema: LivenessSchema } } },
  },
});

export const registerLive = (app: App) =>
  app.openapi(liveRoute, (c) => c.json({ status: "ok" as const, time: new Date().toISOString() }, 200));
