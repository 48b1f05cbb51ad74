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

/** Throws 429 when any of the guards has no attempts left. */
export const assertAttemptsLeft = async (ctx: ServiceContext, checks: GuardCheck[]) => {
  for (const [guard, identifier] of checks) {
    if (!identifier) continue;
    let remaining: { remaining: number; reset: number };
    try {
      remaining = await limiterFor(ctx, guard).getRemaining(identifier);
    } catch (error) {
      throw unavailable(error);
    }
    if (remaining.remaining <= 0) throw tooMany(remaining.reset);
  }
};

/** Counts one failed attempt against each guard. */
export const recordFailedAttempt = async (ctx: ServiceContext, checks: GuardCheck[]) => {
  try {
    await Promise.all(
      checks
        .filter(([, identifier]) => identifier)
        .map(([guard, identifier]) => limiterFor(ctx, guard).limit(identifier as string)),
    );
  } catch (error) {
    throw unavailable(error);
  }
};

/** Counts an attempt and throws 429 when it was one too many (for routes where every attempt counts). */
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
