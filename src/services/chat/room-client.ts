import type { ServiceContext } from "../context.js";
import type { ConversationRoom } from "./conversation-room.js";
import type { RoomConversation, SendRequest, SendResult } from "./room-types.js";

/**
 * The typed client of a conversation's Durable Object. Only services call it, after the owner check: in
 * Postgres (`requireConversation`), or by `send`, which checks the caller against the owner the room copied
 * from Postgres.
 * @example
 * const room = roomOf(ctx, conversation.id);
 * if (await room.runningTurn()) throw new ApiError("TURN_IN_PROGRESS");
 */
export const roomOf = (ctx: ServiceContext, conversationId: string) => {
  const namespace = ctx.env.CONVERSATION_ROOM as unknown as DurableObjectNamespace<ConversationRoom>;
  const stub = namespace.get(namespace.idFromName(conversationId));
  return {
    /** Hands a send to the room, which runs the turn; answers its stream, or (JSON) its outcome. */
    send: (request: SendRequest) => stub.send(request) as unknown as Promise<SendResult>,
    updateConversation: (changes: Partial<Omit<RoomConversation, "ownerId">>) => stub.updateConversation(changes),
    /** Drops the room's copy of the conversation; call it after changing the messages in Postgres. */
    invalidate: () => stub.invalidate(),
    /** The running turn's id, or null: one read of the room's storage, no database. */
    runningTurn: async () => (await stub.runningTurn()).turnId,
    /** Keeps sends out (409) while the messages change in Postgres; false while a turn runs or another holds. */
    holdTurns: (holdId: string) => stub.holdTurns(holdId),
    releaseTurns: (holdId: string) => stub.releaseTurns(holdId),
    cancel: () => stub.cancel(),
    subscribe: (turnId: string | null, afterSeq: number) =>
      stub.subscribe(turnId, afterSeq) as Promise<ReadableStream<Uint8Array> | null>,
    /** Resolves when no turn runs and the last one's after-work (usage, title) is done (tests, diagnostics). */
    idle: () => stub.idle(),
    stats: () => stub.stats(),
    destroy: () => stub.destroy(),
  };
};

export type RoomClient = ReturnType<typeof roomOf>;

/** Deletes a conversation's Durable Object state (its turns and stored streams). */
export const destroyRoom = async ({ ctx, conversationId }: { ctx: ServiceContext; conversationId: string }) => {
  await roomOf(ctx, conversationId).destroy();
};
