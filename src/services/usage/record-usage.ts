import { sql } from "drizzle-orm";
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
  /** Of `tokensInput`, those the provider served from its prompt cache; 0 when it reported none. */
  tokensInputCached?: number | undefined;
  costUsd: number;
  latencyMs: number;
  ttftMs: number | null;
  cached: boolean;
  requestId: string;
  /** When the call was made; now unless given (backfills, tests). */
  at?: Date;
};

/** An event as it waits in the outbox: with its row id (so a retried flush never bills twice) and time. */
type QueuedEvent = Omit<UsageEvent, "at"> & { id: string; at: string };

// Usage waits in a Redis list and is written to Postgres in batches: one database connection per batch
// instead of one per call, which would otherwise cost every model call a connection's worth of CPU. One
// list per database, so deployments (or test databases) sharing a Redis never hand each other's rows around.
const outboxKey = (ctx: ServiceContext) => `usage:outbox:${shortTag(ctx.env.DATABASE_URL)}`;
const FLUSH_BATCH_MAX = 500;
const LOCK_MS = 30_000;
/** How long a reader (a usage report, a budget check) waits for another flusher to commit before reading. */
const WAIT_FOR_FLUSH_MS = 5_000;

type RollupKey = { userId: string; day: string; service: UsageService; provider: string; model: string };
type Rollup = RollupKey & {
  requests: number;
  tokensInput: number;
  tokensOutput: number;
  tokensInputCached: number;
  costUsd: number;
  cacheHits: number;
};

const rollUp = (events: QueuedEvent[]) => {
  const sums = new Map<string, Rollup>();
  for (const event of events) {
    const day = event.at.slice(0, 10);
    const id = JSON.stringify([event.userId, day, event.service, event.provider, event.model]);
    const sum = sums.get(id) ?? {
      userId: event.userId,
      day,
      service: event.service,
      provider: event.provider,
      model: event.model,
      requests: 0,
      tokensInput: 0,
      tokensOutput: 0,
      tokensInputCached: 0,
      costUsd: 0,
      cacheHits: 0,
    };
    sum.requests += 1;
    sum.tokensInput += event.tokensInput;
    sum.tokensOutput += event.tokensOutput;
    sum.tokensInputCached += event.tokensInputCached ?? 0;
    sum.costUsd += event.costUsd;
    sum.cacheHits += event.cached ? 1 : 0;
    sums.set(id, sum);
  }
  return [...sums.values()];
};

/**
 * Writes queued events in one transaction: the rows (ids already given, so a row written by an earlier
 * attempt is skipped) and the daily rollup of just the rows that were new. Events of users deleted since
 * are dropped.
 */
const writeBatch = async (ctx: ServiceContext, events: QueuedEvent[]) => {
  await ctx.db.transaction(async (tx) => {
    const users = [...new Set(events.map((event) => event.userId))];
    const existing = await tx.execute<{ id: string }>(
      sql`select id from users where id in (${sql.join(
        users.map((id) => sql`${id}`),
        sql`, `,
      )})`,
    );
    const alive = new Set(existing.rows.map((row) => row.id));
    const kept = events.filter((event) => alive.has(event.userId));
    if (kept.length < events.length)
      ctx.log.warn("usage dropped: its user no longer exists", { count: events.length - kept.length });
    if (kept.length === 0) return;
    const inserted = await tx
      .insert(usageRecords)
      .values(
        kept.map((event) => ({
          id: event.id,
          userId: event.userId,
          service: event.service,
          provider: event.provider,
          model: event.model,
          tokensInput: event.tokensInput,
          tokensOutput: event.tokensOutput,
          tokensInputCached: event.tokensInputCached ?? 0,
          costUsd: event.costUsd.toFixed(8),
          latencyMs: Math.round(event.latencyMs),
          ttftMs: event.ttftMs === null ? null : Math.round(event.ttftMs),
          cached: event.cached,
          requestId: event.requestId,
          createdAt: new Date(event.at),
        })),
      )
      .onConflictDoNothing({ target: usageRecords.id })
      .returning({ id: usageRecords.id });
    const fresh = new Set(inserted.map((row) => row.id));
    const sums = rollUp(kept.filter((event) => fresh.has(event.id)));
    if (sums.length === 0) return;
    await tx
      .insert(usageDaily)
      .values(sums.map((sum) => ({ ...sum, costUsd: sum.costUsd.toFixed(8) })))
      .onConflictDoUpdate({
        target: [usageDaily.userId, usageDaily.day, usageDaily.service, usageDaily.provider, usageDaily.model],
        set: {
          requests: sql`${usageDaily.requests} + excluded.requests`,
          tokensInput: sql`${usageDaily.tokensInput} + excluded.tokens_input`,
          tokensOutput: sql`${usageDaily.tokensOutput} + excluded.tokens_output`,
          tokensInputCached: sql`${usageDaily.tokensInputCached} + excluded.tokens_input_cached`,
          costUsd: sql`${usageDaily.costUsd} + excluded.cost_usd`,
          cacheHits: sql`${usageDaily.cacheHits} + excluded.cache_hits`,
        },
      });
  });
};

/**
 * Moves what waits in the outbox to Postgres, in batches, by one flusher at a time (a Redis lock). Items are
 * removed from the outbox only after their transaction committed; a flush that dies half-way leaves them to
 * the next, which skips the rows already written. With `wait`, a caller about to read usage (a report, a budget
 * check) that finds another flusher at work waits for it to commit first. Returns how many events were moved.
 * @example
 * await flushUsage({ ctx }); // from the scheduled handler
 * await flushUsage({ ctx, wait: true }); // before a usage report is read
 */
export const flushUsage = async ({ ctx, wait = false }: { ctx: ServiceContext; wait?: boolean }): Promise<number> => {
  const key = outboxKey(ctx);
  if ((await ctx.redis.llen(key)) === 0) return 0;
  const lock = `${key}:lock`;
  const token = newId("use");
  if ((await ctx.redis.set(lock, token, { nx: true, px: LOCK_MS })) !== "OK") {
    if (!wait) return 0;
    // Another flusher holds the batch it read and has not committed it yet: a reader that went on now would
    // miss those rows. Wait for that flusher (a batch is written in well under a second), then flush the rest.
    const until = Date.now() + WAIT_FOR_FLUSH_MS;
    while (Date.now() < until && (await ctx.redis.exists(lock)) === 1) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return flushUsage({ ctx });
  }
  let moved = 0;
  try {
    for (;;) {
      const raw = await ctx.redis.lrange<QueuedEvent | string>(key, 0, FLUSH_BATCH_MAX - 1);
      if (raw.length === 0) break;
      const events = raw.map((item) => (typeof item === "string" ? (JSON.parse(item) as QueuedEvent) : item));
      await writeBatch(ctx, events);
      // Trim only while the lock is still ours (and renew it): a flusher whose lock expired mid-batch must not
      // trim items another flusher has read since. Its writes were idempotent, so nothing is counted twice.
      const trimmed = await ctx.redis.eval(
        "if redis.call('get', KEYS[2]) == ARGV[1] then redis.call('ltrim', KEYS[1], ARGV[2], -1) redis.call('pexpire', KEYS[2], ARGV[3]) return 1 end return 0",
        [key, lock],
        [token, String(raw.length), String(LOCK_MS)],
      );
      if (Number(trimmed) !== 1) break;
      moved += raw.length;
      // Loop until empty: events queued while this batch was written (a call whose own flush found the lock
      // taken) go out now rather than waiting for the next flush.
    }
    await ctx.redis.del(`${key}:since`);
  } finally {
    // Only our own lock: one that expired and was taken by another flusher stays theirs.
    await ctx.redis.eval(
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
      [lock],
      [token],
    );
  }
  return moved;
};

/**
 * Records one model call: adds its cost to the month's spend (what budget checks read) and queues the row.
 * The queue is written to Postgres once `USAGE_FLUSH_BATCH` calls wait or the oldest has waited
 * `USAGE_FLUSH_SECONDS`, by whichever call notices, and every minute by the scheduled handler; a usage report
 * flushes before it reads. Meant to run after the response (`ctx.defer`).
 * @example
 * ctx.defer(recordUsage({ ctx, event }));
 */
export const recordUsage = async ({ ctx, event }: { ctx: ServiceContext; event: UsageEvent }) => {
  const now = new Date();
  const { at = now, ...rest } = event;
  const queued: QueuedEvent = { ...rest, id: newId("use"), at: at.toISOString() };
  const key = outboxKey(ctx);
  const [waiting, since] = await Promise.all([
    ctx.redis.rpush(key, JSON.stringify(queued)),
    ctx.redis.set(`${key}:since`, now.getTime(), { nx: true, get: true }),
    event.costUsd > 0 ? addMonthSpend({ ctx, userId: event.userId, costUsd: event.costUsd, at: now }) : null,
  ]);
  const age = since === null ? 0 : now.getTime() - Number(since);
  if (waiting >= ctx.env.USAGE_FLUSH_BATCH || age >= ctx.env.USAGE_FLUSH_SECONDS * 1000) {
    try {
      await flushUsage({ ctx });
    } catch (error) {
      // The events stay queued; the next flush takes them.
      ctx.log.error("usage flush failed; the events stay queued", { error });
    }
  }
};
