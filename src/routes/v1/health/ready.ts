import { createRoute } from "@hono/zod-openapi";
import type { App } from "../../../lib/app.js";
import { ApiError } from "../../../lib/errors.js";
import { rateLimit } from "../../../middleware/rate-limit.js";
import { cachedReadiness } from "../../../services/health/check-readiness.js";
import { problemResponses } from "../../problem-schema.js";
import { ReadinessSchema } from "./schemas.js";

export const readyRoute = createRoute({
  method: "get",
  path: "/health/ready",
  tags: ["health"],
  summary: "Readiness",
  description:
    "Checks Postgres, Redis, R2 and the queue bindings, and lists which LLM providers are configured. " +
    "Answers 503 `NOT_READY` naming each dependency that is down, with every check in `checks`. " +
    "The result is kept for a few seconds (`HEALTH_READY_CACHE_SECONDS`), so a flood of probes checks nothing more, " +
    "and each IP may ask 60 times a minute (`RATE_LIMIT_HEALTH_PER_MINUTE`; 429 `RATE_LIMITED` with `Retry-After`).",
  middleware: [rateLimit("health")] as const,
  responses: {
    200: { description: "Every dependency is up.", content: { "application/json": { schema: ReadinessSchema } } },
    ...problemResponses(429, 503),
  },
});

export const registerReady = (app: App) =>
  app.openapi(readyRoute, async (c) => {
    const readiness = await cachedReadiness({ ctx: c.var.ctx });
    if (!readiness.ready) {
      const down = Object.entries(readiness.checks)
        .filter(([, check]) => check.status === "down")
        .map(([name]) => name);
      throw new ApiError("NOT_READY", `Down: ${down.join(", ")}.`, {
        extensions: { down, checks: readiness.checks, providers: readiness.providers },
        headers: { "retry-after": "5" },
      });
    }
    return c.json({ status: "ready" as const, checks: readiness.checks, providers: readiness.providers }, 200);
  });
