import { Ratelimit } from "@upstash/ratelimit";
import type { Redis } from "./redis.js";

type Duration = Parameters<typeof Ratelimit.slidingWindow>[1];

/**
 * A sliding-window limiter in Redis. The library's allow-on-timeout is turned off (timeout 0), so an
 * unreachable Redis raises and each caller decides whether that fails open or closed.
 * @example
 * const { success } = await slidingWindowLimiter({ redis, prefix: "ratelimit:auth", limit: 20, window: "60 s" }).limit(ip);
 */
export const slidingWindowLimiter = (options: { redis: Redis; prefix: string; limit: number; window: Duration }) =>
  new Ratelimit({
    redis: options.redis,
    prefix: options.prefix,
    limiter: Ratelimit.slidingWindow(options.limit, options.window),
    timeout: 0,
    analytics: false,
  });
