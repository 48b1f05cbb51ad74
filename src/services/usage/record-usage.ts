import { sql } from "drizzle-orm";
import { isForeignKeyViolation } from "../../db/errors.js";
import { usageDaily, usageRecords } from "../../db/schema/index.js";
import type { UsageService } from "../../db/schema/usage-records.js";
import { shortTag } from "../../lib/crypto.js";
import { newId } from "../../lib/ids.js";
import type { ServiceContext } from "../context.js";
import { addMonthSpend } from "./budget.js";

/** One model call, as the LLM layer reports it. */
export type UsageEvent = {
  userId: string;
  service: UsageService;
  provider: string;
  model: string;
  tokensInput: number;
  tokensOutput: number;
  costUsd: number;
  latencyMs: number;
  ttftMs: number | null;
  cached: boolean;
  requestId: string;
  at?: Date;
};

/**
 * Where usage that could not reach Postgres waits (as JSON) until a later write takes it along: one list per
 * database, so deployments (or test databases) sharing a Redis never hand each other's rows around.
 */
const outboxKey = (ctx: ServiceContext) => `usage:outbox:${shortTag(ctx.env.DATABASE_URL)}`;
const OUTBOX_BATCH = 50;

const writeRows = async (ctx: ServiceContext, events: UsageEvent[]) => {
  await ctx.db.transaction(async (tx) => {
    await tx.insert(usageRecords).values(
      events.map((event) => ({
        id: newId("use"),
        userId: event.userId,
        service: event.service,
        provider: event.provider,
        model: event.model,
        tokensInput: event.tokensInput,
        tokensOutput: event.tokensOutput,
        costUsd: event.costUsd.toFixed(8),
        latencyMs: Math.round(event.latencyMs),
        ttftMs: event.ttftMs === null ? null : Math.round(event.ttftMs),
        cached: event.cached,
        requestId: event.requestId,
        createdAt: event.at ?? new Date(),
      })),
    );
    for (const event of events) {
      const day = (event.at ?? new Date()).toISOString().slice(0, 10);
      await tx
        .insert(usageDaily)
        .values({
          userId: event.userId,
          day,
          service: event.service,
          provider: event.provider,
          model: event.model,
          requests: 1,
          tokensInput: event.tokensInput,
          tokensOutput: event.tokensOutput,
          costUsd: event.costUsd.toFixed(8),
          cacheHits: event.cached ? 1 : 0,
        })
        .onConflictDoUpdate({
          target: [usageDaily.userId, usageDaily.day, usageDaily.service, usageDaily.provider, usageDaily.model],
          set: {
            requests: sql`${usageDaily.requests} + 1`,
            tokensInput: sql`${usageDaily.tokensInput} + excluded.tokens_input`,
            tokensOutput: sql`${usageDaily.tokensOutput} + excluded.tokens_output`,
            costUsd: sql`${usageDaily.costUsd} + excluded.cost_usd`,
            cacheHits: sql`${usageDaily.cacheHits} + excluded.cache_hits`,
          },
        });
    }
  });
};

/**
 * Writes one usage row and its daily rollup in one transaction, and adds the cost to the month's spend. Meant
 * to run after the response (`ctx.defer`): when Postgres cannot take the row, it waits in a Redis outbox and
 * the next write takes it along, so a call that was answered is never left unbilled.
 * @example
 * ctx.defer(recordUsage({ ctx, event }));
 */
export const recordUsage = async ({ ctx, event }: { ctx: ServiceContext; event: UsageEvent }) => {
  const stamped = { ...event, at: event.at ?? new Date() };
  let waiting: UsageEvent[] = [];
  try {
    const raw = await ctx.redis.lpop<UsageEvent[] | UsageEvent>(outboxKey(ctx), OUTBOX_BATCH);
    waiting = (Array.isArray(raw) ? raw : raw ? [raw] : []).map((item) => ({
      ...item,
      at: new Date(item.at ?? Date.now()),
    }));
  } catch (error) {
    ctx.log.warn("usage outbox unavailable", { error });
  }
  try {
    await writeRows(ctx, [...waiting, stamped]);
  } catch (error) {
    // One at a time, so one row that can never be written (its user deleted since) cannot hold up the rest.
    const kept: UsageEvent[] = [];
    for (const item of [...waiting, stamped]) {
      try {
        await writeRows(ctx, [item]);
      } catch (itemError) {
        if (isForeignKeyViolation(itemError)) {
          ctx.log.warn("usage dropped: its user no longer exists", { userId: item.userId });
        } else {
          kept.push(item);
        }
      }
    }
    if (kept.length > 0) {
      ctx.log.error("usage write failed; keeping it in the outbox", { error, count: kept.length });
      await ctx.redis.rpush(outboxKey(ctx), ...kept.map((item) => JSON.stringify(item)));
    }
  }
  if (stamped.costUsd > 0) {
    await addMonthSpend({ ctx, userId: stamped.userId, costUsd: stamped.costUsd, at: stamped.at });
  }
};
