import { index, integer, jsonb, pgTable, text, varchar } from "drizzle-orm/pg-core";
import { createdAt, idColumn, oneOf } from "./columns.js";
import { conversations } from "./conversations.js";

/** How an assistant message ended: whole, stopped by the user, or failed (with its error). */
export const messageStatuses = ["complete", "cancelled", "failed"] as const;

/** One of `messageStatuses`. */
export type MessageStatus = (typeof messageStatuses)[number];

/** Who wrote a message: the user, the model, or the system prompt. */
export const messageRoles = ["user", "assistant", "system"] as const;

/** One of `messageRoles`. */
export type MessageRole = (typeof messageRoles)[number];

/** One numbered citation of a grounded answer: `[n]` in the text points at this passage of a document. */
export type MessageCitation = {
  n: number;
  document_id: string;
  filename: string;
  page: number;
  char_start: number;
  char_end: number;
  quote: string;
};

/**
 * The turns of a conversation, in `created_at` order. `tokens_used` and `model_used` are filled for assistant
 * replies.
 */
export const messages = pgTable(
  "messages",
  {
    id: idColumn("msg"),
    conversationId: text("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    role: varchar("role", { length: 20, enum: messageRoles }).notNull(),
    content: text("content").notNull(),
    tokensUsed: integer("tokens_used"),
    modelUsed: varchar("model_used", { length: 200 }),
    status: varchar("status", { length: 20, enum: messageStatuses }).notNull().default("complete"),
    finishReason: varchar("finish_reason", { length: 30 }),
    /** Why a failed turn failed: `{ code, message }`. */
    error: jsonb("error").$type<{ code: string; message: string }>(),
    /** A grounded answer's numbered citations: `[n]` in the content maps to the passage it came from. */
    citations: jsonb("citations").$type<MessageCitation[]>(),
    createdAt: createdAt(),
  },
  (t) => [
    index("idx_messages_conversation").on(t.conversationId, t.createdAt),
    oneOf("messages_role_check", t.role, messageRoles),
    oneOf("messages_status_check", t.status, messageStatuses),
  ],
);

/** A row of `messages` as read. */
export type Message = typeof messages.$inferSelect;

/** A row of `messages` as inserted. */
export type NewMessage = typeof messages.$inferInsert;
