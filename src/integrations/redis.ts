import { Redis } from "@upstash/redis/cloudflare";

/**
 * The Upstash REST client. Upstash answers over HTTPS, so one client serves every request of an isolate
 * safely; it is still made per request here so tests can point a request at another Redis.
 * @example
 * const redis = createRedis({ url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN });
 * await redis.set("session:abc", "{}", { ex: 86400 });
 */
export const createRedis = (options: { url: string; token: string }) =>
  new Redis({
    url: options.url,
    token: options.token,
    enableTelemetry: false,
    // A couple of quick retries ride over a blip; more would hold a request for seconds while Redis is down.
    retry: { retries: 2, backoff: (attempt) => 50 * 2 ** attempt },
  });

export type { Redis };
