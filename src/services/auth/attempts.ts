import { slidingWindowLimiter } from "../../integrations/ratelimit.js";
import { ApiError } from "../../lib/errors.js";
import type { ServiceContext } from "../context.js";

/**
 * Brute-force guards for login and password reset. Failures are counted per account (the normalised email,
 * whether or not it exists, so a lockout says nothing about existence) and per IP. The guard fails closed:
 * with Redis down, these routes refuse rather than let guessing run unchecked.
 */
const guards = {
  "login:account": { limit: 5, window: "15 m" },
  "login:ip": { limit: 30, window: "15 m" },
  "reset:account": { limit: 3, window: "15 m" },
  "reset:ip": { limit: 20, window: "15 m" },
} as const;

type Guard = keyof typeof guards;

/** A guard and who it counts against (an email or an IP; null skips it, e.g. when the IP is unknown). */
export type GuardCheck = [Guard, string | null];

const limiterFor = (ctx: ServiceContext, guard: Guard) =>
  slidingWindowLimiter({
    redis: ctx.redis,
    prefix: `ratelimit:${guard}`,
    limit: guards[guard].limit,
    window: guards[guard].window,
  });

const tooMany = (reset: number) =>
  new ApiError("RATE_LIMITED", "Too many attempts. Wait a while and try again.", {
    headers: { "retry-after": String(Math.max(1, Math.ceil((reset - Date.now()) / 1000))) },
  });

const unavailable = (error: unknown) =>
  new ApiError("RATE_LIMIT_UNAVAILABLE", "Sign-in is paused for a moment; try again shortly.", { cause: error });

/**
 * Takes one attempt from each guard before the work it guards, and throws 429 when none was left. Taking and
 * checking are one atomic step in Redis, so concurrent attempts cannot all pass a check made before any was
 * counted: twenty guesses at once get at most the guard's limit of password checks.
 */
export const consumeAttempt = async (ctx: ServiceContext, checks: GuardCheck[]) => {
  for (const [guard, identifier] of checks) {
    if (!identifier) continue;
    let result: { success: boolean; reset: number };
    try {
      result = await limiterFor(ctx, guard).limit(identifier);
    } catch (error) {
      throw unavailable(error);
    }
    if (!result.success) throw tooMany(result.reset);
  }
};

/**
 * Gives back the attempts {@link consumeAttempt} took, when they turned out not to be failures (a good
 * password), so signing in often is not a lockout. Best effort: a lost refund only costs an attempt.
 */
export const refundAttempt = async (ctx: ServiceContext, checks: GuardCheck[]) => {
  await Promise.all(
    checks
      .filter(([, identifier]) => identifier)
      .map(([guard, identifier]) =>
        limiterFor(ctx, guard)
          .limit(identifier as string, { rate: -1 })
          .catch((error: unknown) => ctx.log.warn("attempt refund failed", { guard, error })),
      ),
  );
};
