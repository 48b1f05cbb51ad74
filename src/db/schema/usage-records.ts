import {
  bigint,
  boolean,
  date,
  index,
  integer,
  numeric,
  pgTable,
  primaryKey,
  text,
  varchar,
} from "drizzle-orm/pg-core";
import { createdAt, idColumn, oneOf } from "./columns.js";
import { users } from "./users.js";

/**
 * The services whose use is metered. `openai` is the OpenAI-compatible front door; `documents` is what reading
 * documents pays for (OCR pages, and embeddings of their chunks and of search queries).
 */
export const usageServices = ["chat", "research", "extraction", "code", "openai", "documents"] as const;

/** One of `usageServices`. */
export type UsageService = (typeof usageServices)[number];

/**
 * Metered use, one row per model call: which service, which provider and model actually answered, tokens in
 * (and of those, how many the provider's prompt cache served) and out, what it cost in US dollars (from the model table; 0 for a cache hit), latency and time to first
 * token, and the request it belonged to. `cost_usd` is `numeric(12, 8)` and reads as a string so no precision
 * is lost.
 */
export const usageRecords = pgTable(
  "usage_records",
  {
    id: idColumn("use"),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    service: varchar("service", { length: 50, enum: usageServices }).notNull(),
    provider: varchar("provider", { length: 50 }).notNull().default("unknown"),
    model: varchar("model", { length: 200 }).notNull().default("unknown"),
    tokensInput: integer("tokens_input").notNull().default(0),
    tokensOutput: integer("tokens_output").notNull().default(0),
    /** Of `tokens_input`, those the provider served from its prompt cache (OpenAI bills them for less). */
    tokensInputCached: integer("tokens_input_cached").notNull().default(0),
    costUsd: numeric("cost_usd", { precision: 12, scale: 8 }).notNull().default("0"),
    latencyMs: integer("latency_ms"),
    ttftMs: integer("ttft_ms"),
    cached: boolean("cached").notNull().default(false),
    requestId: varchar("request_id", { length: 100 }),
    createdAt: createdAt(),
  },
  (t) => [
    index("idx_usage_records_user_date").on(t.userId, t.createdAt),
    oneOf("usage_records_service_check", t.service, usageServices),
  ],
);

/**
 * One row per user, UTC day, service, provider and model, summed as each usage row is written (in the same
 * transaction), so usage over a year reads a few hundred rows instead of millions.
 */
export const usageDaily = pgTable(
  "usage_daily",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    day: date("day", { mode: "string" }).notNull(),
    service: varchar("service", { length: 50, enum: usageServices }).notNull(),
    provider: varchar("provider", { length: 50 }).notNull(),
    model: varchar("model", { length: 200 }).notNull(),
    requests: integer("requests").notNull().default(0),
    tokensInput: bigint("tokens_input", { mode: "number" }).notNull().default(0),
    tokensOutput: bigint("tokens_output", { mode: "number" }).notNull().default(0),
    tokensInputCached: bigint("tokens_input_cached", { mode: "number" }).notNull().default(0),
    costUsd: numeric("cost_usd", { precision: 14, scale: 8 }).notNull().default("0"),
    cacheHits: integer("cache_hits").notNull().default(0),
  },
  (t) => [
    primaryKey({ name: "usage_daily_pk", columns: [t.userId, t.day, t.service, t.provider, t.model] }),
    oneOf("usage_daily_service_check", t.service, usageServices),
  ],
);

/** A row of `usage_records` as read. */
export type UsageRecord = typeof usageRecords.$inferSelect;

/** A row of `usage_records` as inserted. */
export type NewUsageRecord = typeof usageRecords.$inferInsert;
