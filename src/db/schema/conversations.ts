import { sql } from "drizzle-orm";
import { boolean, index, pgTable, text, varchar } from "drizzle-orm/pg-core";
import { createdAt, idColumn, updatedAt } from "./columns.js";
import { users } from "./users.js";

/**
 * Chat threads, one user's each. `model` is the model the user asked for (`auto`, a tier, a provider or
 * `provider/model`); the messages live in `messages`.
 */
export const conversations = pgTable(
  "conversations",
  {
    id: idColumn("conv"),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    title: varchar("title", { length: 255 }),
    model: varchar("model", { length: 200 }).notNull().default("auto"),
    systemPrompt: text("system_prompt"),
    /** Documents whose passages ground the answers (the documents module). */
    documentIds: text("document_ids").array().notNull().default(sql`'{}'::text[]`),
    /** Grounded in every document the owner has (`document_ids: "all"`), now and later. */
    allDocuments: boolean("all_documents").notNull().default(false),
    /** A summary of the turns before `summary_through` (a message id), made when history outgrew the window. */
    summary: text("summary"),
    summaryThrough: text("summary_through"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("idx_conversations_user").on(t.userId, t.createdAt)],
);

/** A row of `conversations` as read. */
export type Conversation = typeof conversations.$inferSelect;

/** A row of `conversations` as inserted. */
export type NewConversation = typeof conversations.$inferInsert;
