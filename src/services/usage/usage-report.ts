import { and, asc, desc, eq, gte, lte, type SQL, sql } from "drizzle-orm";
import { usageDaily } from "../../db/schema/index.js";
import { ApiError } from "../../lib/errors.js";
import type { ServiceContext } from "../context.js";
import { flushUsage } from "./record-usage.js";

/** How a usage report may be grouped. */
export const usageGroupings = ["day", "service", "model", "provider"] as const;

/** One of `usageGroupings`. */
export type UsageGrouping = (typeof usageGroupings)[number];

/** The longest range one report covers, in days (both ends included): a leap year. */
export const MAX_USAGE_RANGE_DAYS = 366;

/** How many days before `to` a report starts when `from` is left out. */
export const DEFAULT_USAGE_RANGE_DAYS = 30;

const DAY_MS = 86_400_000;

const dayStart = (day: string) => Date.parse(`${day}T00:00:00Z`);
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const invalidQuery = (field: "from" | "to", message: string) =>
  new ApiError("VALIDATION_FAILED", `query.${field}: ${message}`, {
    extensions: { errors: [{ path: `query.${field}`, message }] },
  });

/**
 * The days a report covers, both included: `to` defaults to today (UTC) and `from` to 30 days before `to`.
 * Refuses `from` after `to` and ranges over 366 days with 400 `VALIDATION_FAILED`.
 * @example
 * resolveUsageRange({ to: "2026-11-25" }) // { from: "2026-10-26", to: "2026-11-25" }
 */
export const resolveUsageRange = (input: { from?: string | undefined; to?: string | undefined }, now = new Date()) => {
  const to = input.to ?? isoDay(now.getTime());
  const from = input.from ?? isoDay(dayStart(to) - DEFAULT_USAGE_RANGE_DAYS * DAY_MS);
  const days = (dayStart(to) - dayStart(from)) / DAY_MS + 1;
  if (days < 1) throw invalidQuery("from", `must be on or before \`to\` (${to})`);
  if (days > MAX_USAGE_RANGE_DAYS) {
    throw invalidQuery("from", `the range covers ${days} days; at most ${MAX_USAGE_RANGE_DAYS} are allowed`);
  }
  return { from, to };
};

/** Per grouping: the columns grouped on, the key each group is named by, and its provider (model only). */
const groupings: Record<UsageGrouping, { columns: SQL[]; key: SQL<string>; provider: SQL<string | null> }> = {
  // to_char, not the driver's date parsing: the key is the plain `YYYY-MM-DD` whatever the session's DateStyle.
  day: {
    columns: [sql`${usageDaily.day}`],
    key: sql<string>`to_char(${usageDaily.day}, 'YYYY-MM-DD')`,
    provider: sql<null>`null`,
  },
  service: {
    columns: [sql`${usageDaily.service}`],
    key: sql<string>`${usageDaily.service}`,
    provider: sql<null>`null`,
  },
  provider: {
    columns: [sql`${usageDaily.provider}`],
    key: sql<string>`${usageDaily.provider}`,
    provider: sql<null>`null`,
  },
  // A model answered by two providers is two groups: their prices and latencies differ.
  model: {
    columns: [sql`${usageDaily.model}`, sql`${usageDaily.provider}`],
    key: sql<string>`${usageDaily.model}`,
    provider: sql<string>`${usageDaily.provider}`,
  },
};

/**
 * The caller's usage over a range of UTC days, grouped by day, service, model or provider, with totals. Reads
 * the daily rollup (its primary key leads with user and day) and sums in Postgres, so a year of heavy use is a
 * few thousand rollup rows read and nothing but the groups reaches the Worker. Days ascend; other groupings come most expensive first.
 * @example
 * const report = await getUsageReport({ ctx, input: { from: "2026-11-01", to: "2026-11-25", group_by: "model" } });
 */
export const getUsageReport = async ({
  ctx,
  input,
}: {
  ctx: ServiceContext;
  input: { from?: string | undefined; to?: string | undefined; group_by: UsageGrouping };
}) => {
  if (!ctx.caller) throw new ApiError("UNAUTHENTICATED");
  const { from, to } = resolveUsageRange(input);
  // Calls still waiting in the usage outbox are written first, so the report includes the latest ones.
  try {
    await flushUsage({ ctx, wait: true });
  } catch (error) {
    ctx.log.warn("usage flush before a report failed; the report may miss the latest calls", { error });
  }
  const grouping = groupings[input.group_by];
  // `grouping()` is non-zero only on the row of the empty grouping set: the totals, summed exactly in numeric
  // by the same scan (and present even when the range has no usage).
  const isTotal = sql<boolean>`grouping(${sql.join(grouping.columns, sql`, `)}) <> 0`;
  const cost = sql`coalesce(sum(${usageDaily.costUsd}), 0)`;
  const rows = await ctx.db
    .select({
      isTotal,
      key: grouping.key,
      provider: grouping.provider,
      requests: sql`coalesce(sum(${usageDaily.requests}), 0)`.mapWith(Number),
      tokensInput: sql`coalesce(sum(${usageDaily.tokensInput}), 0)`.mapWith(Number),
      tokensOutput: sql`coalesce(sum(${usageDaily.tokensOutput}), 0)`.mapWith(Number),
      tokensInputCached: sql`coalesce(sum(${usageDaily.tokensInputCached}), 0)`.mapWith(Number),
      costUsd: cost.mapWith(Number),
      cacheHits: sql`coalesce(sum(${usageDaily.cacheHits}), 0)`.mapWith(Number),
    })
    .from(usageDaily)
    .where(and(eq(usageDaily.userId, ctx.caller.userId), gte(usageDaily.day, from), lte(usageDaily.day, to)))
    .groupBy(sql`grouping sets ((${sql.join(grouping.columns, sql`, `)}), ())`)
    .orderBy(
      asc(isTotal),
      ...(input.group_by === "day"
        ? [asc(grouping.key)]
        : [desc(cost), asc(grouping.key), ...(input.group_by === "model" ? [asc(grouping.provider)] : [])]),
    );
  const sums = (row: (typeof rows)[number]) => ({
    requests: row.requests,
    tokens_input: row.tokensInput,
    tokens_output: row.tokensOutput,
    tokens_input_cached: row.tokensInputCached,
    cost_usd: row.costUsd,
    cache_hits: row.cacheHits,
  });
  const total = rows.find((row) => row.isTotal);
  return {
    from,
    to,
    group_by: input.group_by,
    groups: rows
      .filter((row) => !row.isTotal)
      .map((row) => ({
        key: row.key,
        ...(row.provider !== null ? { provider: row.provider } : {}),
        ...sums(row),
      })),
    totals: total
      ? sums(total)
      : { requests: 0, tokens_input: 0, tokens_output: 0, tokens_input_cached: 0, cost_usd: 0, cache_hits: 0 },
  };
};
