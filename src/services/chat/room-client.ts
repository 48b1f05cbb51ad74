import type {
  ConversationRoom,
  OpenResult,
  RoomConversation,
  RoomEvent,
  RoomMessage,
} from "../../../workers/conversation-room.js";
import type { ServiceContext } from "../context.js";

/**
 * The typed client of a conversation's Durable Object. Only services call it, after the owner check: in
 * Postgres (`requireConversation`), or by `open`, which checks the caller against the owner the room copied
 * from Postgres.
 * @example
 * const room = roomOf(ctx, conversation.id);
 * const begun = await room.begin(turnId);
 */
export const roomOf = (ctx: ServiceContext, conversationId: string) => {
  const namespace = ctx.env.CONVERSATION_ROOM as unknown as DurableObjectNamespace<ConversationRoom>;
  const stub = namespace.get(namespace.idFromName(conversationId));
  return {
    hydrate: (conversation: RoomConversation, history: RoomMessage[]) => stub.hydrate(conversation, history),
    updateConversation: (changes: Partial<Omit<RoomConversation, "ownerId">>) => stub.updateConversation(changes),
    invalidate: () => stub.invalidate(),
    open: (turnId: string, userId: string) => stub.open(turnId, userId) as Promise<OpenResult>,
    addMessage: (turnId: string, message: RoomMessage) => stub.addMessage(turnId, message) as Promise<RoomMessage[]>,
    dropMessage: (id: string) => stub.dropMessage(id),
    append: (turnId: string, events: RoomEvent[]) => stub.append(turnId, events),
    finish: (turnId: string, status: "complete" | "cancelled" | "failed", answer?: RoomMessage) =>
      stub.finish(turnId, status, answer),
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
