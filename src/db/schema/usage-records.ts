import { index, integer, numeric, pgTable, text, varchar } from "drizzle-orm/pg-core";
import { createdAt, idColumn, oneOf } from "./columns.js";
import { users } from "./users.js";

/** The services whose use is metered. */
export const usageServices = ["chat", "research", "extraction", "code"] as const;

/** One of `usageServices`. */
export type UsageService = (typeof usageServices)[number];

/**
 * Metered use, one row per billable call: which service, tokens in and out, and what it cost in US dollars.
 * `cost_usd` is `numeric(10, 6)` and reads as a string (e.g. `"0.001250"`) so no precision is lost.
 */
export const usageRecords = pgTable(
  "usage_records",
  {
    id: idColumn("use"),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    service: varchar("service", { length: 50, enum: usageServices }).notNull(),
    tokensInput: integer("tokens_input").notNull().default(0),
    tokensOutput: integer("tokens_output").notNull().default(0),
    costUsd: numeric("cost_usd", { precision: 10, scale: 6 }),
    createdAt: createdAt(),
  },
  (t) => [
    index("idx_usage_records_user_date").on(t.userId, t.createdAt),
    oneOf("usage_records_service_check", t.service, usageServices),
  ],
);

/** A row of `usage_records` as read. */
export type UsageRecord = typeof usageRecords.$inferSelect;

/** A row of `usage_records` as inserted. */
export type NewUsageRecord = typeof usageRecords.$inferInsert;
