import { and, asc, eq, ne, sql } from "drizzle-orm";
import { conversations, messages } from "../../db/schema/index.js";
import type { MessageCitation, MessageStatus } from "../../db/schema/messages.js";
import type { ServiceContext } from "../context.js";

/** A message of a room's copy of the history (user messages and answers that were not failures). */
export type RoomMessage = { id: string; role: "user" | "assistant"; content: string };

/** What a stored message says; the id is given for a user message (the room named it first). */
export type StoredMessage = {
  id?: string;
  conversationId: string;
  role: "user" | "assistant";
  content: string;
  status?: MessageStatus;
  modelUsed?: string | null;
  tokensUsed?: number | null;
  finishReason?: string | null;
  error?: { code: string; message: string } | null;
  citations?: MessageCitation[] | null;
};

/**
 * Writes a message to Postgres, the record. A stored answer moves its conversation up the list; a user message
 * whose id is already there (written before a turn was cut off) is left as it was.
 * @example
 * const row = await storeMessage(ctx, { conversationId, role: "assistant", content: "Hi", status: "complete" });
 */
export const storeMessage = async (ctx: ServiceContext, values: StoredMessage) => {
  const [row] = await ctx.db.insert(messages).values(values).onConflictDoNothing({ target: messages.id }).returning();
  if (values.role === "assistant") {
    await ctx.db
      .update(conversations)
      .set({ updatedAt: new Date() })
      .where(eq(conversations.id, values.conversationId));
  }
  return row ?? null;
};

/**
 * The history a room copies from Postgres: user messages and the answers that were kept, oldest first.
 * @example
 * const history = await loadHistory(ctx, conversation.id);
 */
export const loadHistory = async (ctx: ServiceContext, conversationId: string): Promise<RoomMessage[]> => {
  const rows = await ctx.db
    .select({ id: messages.id, role: messages.role, content: messages.content })
    .from(messages)
    .where(
      and(
        eq(messages.conversationId, conversationId),
        ne(messages.role, "system"),
        // A failed answer has nothing to say; a cancelled one keeps its partial text.
        sql`not (${messages.role} = 'assistant' and ${messages.status} = 'failed')`,
      ),
    )
    .orderBy(asc(messages.id));
  return rows.map((row) => ({ id: row.id, role: row.role as "user" | "assistant", content: row.content }));
};
