import { ApiError } from "../../lib/errors.js";
import type { ServiceContext } from "../context.js";

/** Bad credentials one IP may present per minute before it is answered 429 without a look at them. */
export const DEFAULT_AUTH_FAILURES_PER_MINUTE = 60;
const WINDOW_SECONDS = 60;

const windowOf = (ctx: ServiceContext) => {
  const now = Date.now();
  const index = Math.floor(now / (WINDOW_SECONDS * 1000));
  return {
    key: `authfail:${ctx.client.ip ?? "unknown"}:${index}`,
    retryAfter: Math.max(1, Math.ceil(((index + 1) * WINDOW_SECONDS * 1000 - now) / 1000)),
    limit: ctx.env.RATE_LIMIT_AUTH_FAILURES_PER_MINUTE ?? DEFAULT_AUTH_FAILURES_PER_MINUTE,
  };
};

const tooMany = (limit: number, retryAfter: number) =>
  new ApiError("RATE_LIMITED", `More than ${limit} bad credentials from this address in ${WINDOW_SECONDS} s.`, {
    headers: { "retry-after": String(retryAfter) },
  });

/** Counts one against the IP's window, atomically, and answers the count (null when Redis cannot say). */
const count = async (ctx: ServiceContext, key: string) => {
  try {
    const [value] = await ctx.redis
      .multi()
      .incr(key)
      .expire(key, WINDOW_SECONDS * 2)
      .exec<[number, number]>();
    return value;
  } catch (error) {
    // Checking credentials goes on without the guard rather than refuse every API key while Redis is down.
    ctx.log.warn("credential failure count unavailable", { error });
    return null;
  }
};

/**
 * Counts a bad credential from the caller's IP; past the limit, the answer becomes 429 with `Retry-After`.
 * @example
 * if (!claims) await recordCredentialFailure(ctx); // throws 429 past the limit
 */
export const recordCredentialFailure = async (ctx: ServiceContext) => {
  const { key, limit, retryAfter } = windowOf(ctx);
  const failures = await count(ctx, key);
  if (failures !== null && failures > limit) throw tooMany(limit, retryAfter);
};

/**
 * Takes a place in the IP's failure window before credentials are looked up in the database, so a flood of
 * made-up keys (concurrent ones too: the count is one atomic INCR) is refused before it costs a query.
 * Past the limit this throws 429 at once. The place is a failure unless `release()` gives it back, which the
 * caller does when the credential turned out good.
 * @example
 * const check = await reserveCredentialCheck(ctx);
 * const found = await lookUp();
 * if (found) check.release();
 */
export const reserveCredentialCheck = async (ctx: ServiceContext) => {
  const { key, limit, retryAfter } = windowOf(ctx);
  const failures = await count(ctx, key);
  if (failures !== null && failures > limit) throw tooMany(limit, retryAfter);
  return {
    release: () => {
      if (failures === null) return;
      ctx.defer(ctx.redis.decr(key));
    },
  };
};
