import { and, eq, gte, lt, sql } from "drizzle-orm";
import { usageDaily, users } from "../../db/schema/index.js";
import { ApiError } from "../../lib/errors.js";
import type { ServiceContext } from "../context.js";
import { flushUsage } from "./record-usage.js";

// The month's spend and the budget live in Redis so the check before each model call is one round trip;
// either is rebuilt from Postgres when missing.
const NO_BUDGET = "none";
const BUDGET_TTL_SECONDS = 300;
const SPEND_TTL_SECONDS = 40 * 24 * 3600;

const month = (at: Date) => at.toISOString().slice(0, 7);
const budgetKey = (userId: string) => `budget:${userId}`;
const spendKey = (userId: string, at: Date) => `spend:${userId}:${month(at)}`;

const monthRange = (at: Date) => {
  const start = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
  const end = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
  return { start: start.toISOString().slice(0, 10), end: end.toISOString().slice(0, 10) };
};

/** Adds a call's cost to the month's running spend, if the spend is cached; a missing one is rebuilt. */
export const addMonthSpend = async ({
  ctx,
  userId,
  costUsd,
  at,
}: {
  ctx: ServiceContext;
  userId: string;
  costUsd: number;
  at: Date;
}) => {
  await ctx.redis.eval(
    "if redis.call('exists', KEYS[1]) == 1 then return redis.call('incrbyfloat', KEYS[1], ARGV[1]) end return nil",
    [spendKey(userId, at)],
    [costUsd.toFixed(8)],
  );
};

/** Forgets the cached budget after it changes, so the next check reads the new one. */
export const forgetBudget = async ({ ctx, userId }: { ctx: ServiceContext; userId: string }) => {
  await ctx.redis.del(budgetKey(userId));
};

/**
 * Refuses a model call with 402 `BUDGET_EXCEEDED` when the caller has a monthly budget and this month's spend
 * has reached it. Callers without a budget pass after one Redis read.
 * @example
 * await assertWithinBudget({ ctx, userId });
 */
export const assertWithinBudget = async ({ ctx, userId }: { ctx: ServiceContext; userId: string }) => {
  const now = new Date();
  const [cachedBudget, cachedSpend] = await ctx.redis.mget<[string | number | null, string | number | null]>(
    budgetKey(userId),
    spendKey(userId, now),
  );
  let budget = cachedBudget;
  if (budget === null) {
    const [row] = await ctx.db
      .select({ budget: users.monthlyBudgetUsd })
      .from(users)
      .where(eq(users.id, userId))
      .limit(1);
    budget = row?.budget ?? NO_BUDGET;
    await ctx.redis.set(budgetKey(userId), String(budget), { ex: BUDGET_TTL_SECONDS });
  }
  if (budget === NO_BUDGET) return;
  let spent = cachedSpend === null ? null : Number(cachedSpend);
  if (spent === null) {
    // Calls still waiting in the usage queue count too: write them before summing the month.
    await flushUsage({ ctx, wait: true }).catch((error) =>
      ctx.log.warn("usage flush before a budget check failed", { error }),
    );
    const { start, end } = monthRange(now);
    const [row] = await ctx.db
      .select({ spent: sql<string>`coalesce(sum(${usageDaily.costUsd}), 0)` })
      .from(usageDaily)
      .where(and(eq(usageDaily.userId, userId), gte(usageDaily.day, start), lt(usageDaily.day, end)));
    spent = Number(row?.spent ?? 0);
    await ctx.redis.set(spendKey(userId, now), spent.toFixed(8), { ex: SPEND_TTL_SECONDS, nx: true });
  }
  const limit = Number(budget);
  if (spent >= limit) {
    throw new ApiError(
      "BUDGET_EXCEEDED",
      `This month's spend of $${spent.toFixed(4)} has reached the monthly budget of $${limit.toFixed(2)}. Raise the budget in PUT /users/me or wait for the next month (UTC).`,
      { extensions: { budget_usd: limit, spent_usd: Number(spent.toFixed(6)) } },
    );
  }
};
