import { index, pgTable, text, varchar } from "drizzle-orm/pg-core";
import { createdAt, idColumn, updatedAt } from "./columns.js";
import { users } from "./users.js";

/**
 * Chat threads, one user's each. `model` is the model the user asked for, or `auto` to let APE choose; the
 * messages live in `messages`.
 */
export const conversations = pgTable(
  "conversations",
  {
    id: idColumn("conv"),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    title: varchar("title", { length: 255 }),
    model: varchar("model", { length: 50 }).notNull().default("auto"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("idx_conversations_user").on(t.userId, t.createdAt)],
);

/** A row of `conversations` as read. */
export type Conversation = typeof conversations.$inferSelect;

/** A row of `conversations` as inserted. */
export type NewConversation = typeof conversations.$inferInsert;
