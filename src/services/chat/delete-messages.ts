import { and, eq, gte } from "drizzle-orm";
import { conversations, messages } from "../../db/schema/index.js";
import { ApiError } from "../../lib/errors.js";
import { isId, newId } from "../../lib/ids.js";
import type { ServiceContext } from "../context.js";
import { requireConversation } from "./conversations.js";
import { roomOf } from "./room-client.js";

/**
 * Deletes a message and every later one of the conversation: what "regenerate" and "edit and resend" start
 * with (delete from the last user message, then send its text, or the new one, again). The room keeps sends out
 * while Postgres changes (`holdTurns`), so no turn starts in between (409 `TURN_IN_PROGRESS` while one runs),
 * and its copy of the history is dropped so the next turn reads the record again. A summary that covered a deleted
 * message goes too: it would carry what was taken back.
 * @example
 * await deleteMessagesFrom({ ctx, conversationId: "conv_…", messageId: "msg_…" });
 */
export const deleteMessagesFrom = async ({
  ctx,
  conversationId,
  messageId,
}: {
  ctx: ServiceContext;
  conversationId: string;
  messageId: string;
}) => {
  const conversation = await requireConversation({ ctx, id: conversationId });
  const missing = new ApiError("NOT_FOUND", `No message ${messageId} in conversation ${conversation.id}.`);
  if (!isId("msg", messageId)) throw missing;
  const [target] = await ctx.db
    .select({ id: messages.id })
    .from(messages)
    .where(and(eq(messages.id, messageId), eq(messages.conversationId, conversation.id)))
    .limit(1);
  if (!target) throw missing;

  const room = roomOf(ctx, conversation.id);
  const hold = newId("trn");
  const held = await room.holdTurns(hold);
  if (!held.held) {
    throw new ApiError("TURN_IN_PROGRESS", "This conversation is still answering. Wait for it or cancel it first.", {
      extensions: { turn_id: held.turnId },
    });
  }
  try {
    await ctx.db.transaction(async (tx) => {
      await tx.delete(messages).where(and(eq(messages.conversationId, conversation.id), gte(messages.id, target.id)));
      await tx
        .update(conversations)
        .set({ summary: null, summaryThrough: null })
        .where(and(eq(conversations.id, conversation.id), gte(conversations.summaryThrough, target.id)));
    });
    await room.invalidate();
  } finally {
    await room.releaseTurns(hold);
  }
  ctx.audit({
    action: "conversation.messages.delete",
    resourceType: "conversation",
    resourceId: conversation.id,
    details: { from: target.id },
  });
};
