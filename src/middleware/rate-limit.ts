import { createMiddleware } from "hono/factory";
import { type RateLimitGroup, rateLimitGroups } from "../config/rate-limits.js";
import { slidingWindowLimiter } from "../integrations/ratelimit.js";
import { ApiError } from "../lib/errors.js";
import type { InitVariables } from "./init.js";

/**
 * Limits requests per caller with `@upstash/ratelimit` (sliding window), and says so in the headers of the IETF
 * httpapi draft on every answer: `RateLimit-Policy: "auth";q=20;w=60` and `RateLimit: "auth";r=19;t=42`.
 * Over the limit answers 429 `RATE_LIMITED` with `Retry-After`.
 * @example
 * createRoute({ ..., middleware: [rateLimit("auth")] })
 */
export const rateLimit = (group: RateLimitGroup) => {
  const { perMinute, failClosed, setting } = rateLimitGroups[group];
  const windowSeconds = 60;
  return createMiddleware<{ Variables: InitVariables }>(async (c, next) => {
    const ctx = c.var.ctx;
    const limit = ctx.env[setting] ?? perMinute;
    const caller = ctx.caller;
    const identifier = caller
      ? caller.kind === "api_key"
        ? `key:${caller.apiKeyId}`
        : `user:${caller.userId}`
      : `ip:${ctx.client.ip ?? "unknown"}`;
    const limiter = slidingWindowLimiter({
      redis: ctx.redis,
      prefix: `ratelimit:${group}`,
      limit,
      window: `${windowSeconds} s`,
    });
    let result: { success: boolean; remaining: number; reset: number };
    try {
      result = await limiter.limit(identifier);
    } catch (error) {
      if (failClosed) {
        throw new ApiError("RATE_LIMIT_UNAVAILABLE", "This route is paused while rate limiting is unavailable.", {
          cause: error,
        });
      }
      c.var.log.warn("rate limit unavailable, letting the request through", { group, error });
      return next();
    }
    const seconds = Math.max(0, Math.ceil((result.reset - Date.now()) / 1000));
    const headers = {
      "ratelimit-policy": `"${group}";q=${limit};w=${windowSeconds}`,
      ratelimit: `"${group}";r=${Math.max(0, result.remaining)};t=${seconds}`,
    };
    if (!result.success) {
      throw new ApiError("RATE_LIMITED", `More than ${limit} requests in ${windowSeconds} s.`, {
        headers: { ...headers, "retry-after": String(Math.max(1, seconds)) },
      });
    }
    await next();
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
  });
};
