import { index, jsonb, pgTable, text, varchar } from "drizzle-orm/pg-core";
import { createdAt, idColumn, oneOf, timestamptz } from "./columns.js";
import { users } from "./users.js";

/** Where a research session is: queued, being worked on, done with a summary, or given up. */
export const researchStatuses = ["pending", "running", "completed", "failed"] as const;

/** One of `researchStatuses`. */
export type ResearchStatus = (typeof researchStatuses)[number];

/** A source a research summary cites: `n` is its citation number in the summary, `accessed_at` an ISO time. */
export type ResearchSource = {
  n: number;
  url: string;
  title: string;
  quote: string;
  accessed_at: string;
};

/**
 * Research runs: a user's question, its progress, and once completed the written `summary` with the `sources`
 * it cites.
 */
export const researchSessions = pgTable(
  "research_sessions",
  {
    id: idColumn("res"),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    query: text("query").notNull(),
    status: varchar("status", { length: 20, enum: researchStatuses }).notNull().default("pending"),
    summary: text("summary"),
    sources: jsonb("sources").$type<ResearchSource[]>(),
    createdAt: createdAt(),
    completedAt: timestamptz("completed_at"),
  },
  (t) => [
    index("idx_research_sessions_user").on(t.userId, t.createdAt),
    oneOf("research_sessions_status_check", t.status, researchStatuses),
  ],
);

/** A row of `research_sessions` as read. */
export type ResearchSession = typeof researchSessions.$inferSelect;

/** A row of `research_sessions` as inserted. */
export type NewResearchSession = typeof researchSessions.$inferInsert;
