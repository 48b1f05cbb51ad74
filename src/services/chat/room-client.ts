import type { ConversationRoom, RoomEvent } from "../../../workers/conversation-room.js";
import type { ServiceContext } from "../context.js";

/**
 * The typed client of a conversation's Durable Object. Only services call it, and only after the owner
 * check (`requireConversation`): the room itself trusts its caller.
 * @example
 * const room = roomOf(ctx, conversation.id);
 * const begun = await room.begin(turnId);
 */
export const roomOf = (ctx: ServiceContext, conversationId: string) => {
  const namespace = ctx.env.CONVERSATION_ROOM as unknown as DurableObjectNamespace<ConversationRoom>;
  const stub = namespace.get(namespace.idFromName(conversationId));
  return {
    begin: (turnId: string) => stub.begin(turnId),
    append: (turnId: string, events: RoomEvent[]) => stub.append(turnId, events),
    finish: (turnId: string, status: "complete" | "cancelled" | "failed") => stub.finish(turnId, status),
    cancel: () => stub.cancel(),
    subscribe: (turnId: string | null, afterSeq: number) =>
      stub.subscribe(turnId, afterSeq) as Promise<ReadableStream<Uint8Array> | null>,
    stats: () => stub.stats(),
    destroy: () => stub.destroy(),
  };
};

export type RoomClient = ReturnType<typeof roomOf>;

/** Deletes a conversation's Durable Object state (its turns and stored streams). */
export const destroyRoom = async ({ ctx, conversationId }: { ctx: ServiceContext; conversationId: string }) => {
  await roomOf(ctx, conversationId).destroy();
};
