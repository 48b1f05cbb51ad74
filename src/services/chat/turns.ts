import { ApiError, type ErrorCode } from "../../lib/errors.js";
import { isId, newId } from "../../lib/ids.js";
import { requireUser, type ServiceContext } from "../context.js";
import { requireConversation } from "./conversations.js";
import { roomOf } from "./room-client.js";
import { settingsForRoom } from "./room-settings.js";
import type { TurnAnswer, TurnProblem } from "./room-types.js";

export type { TurnAnswer } from "./room-types.js";

const rebuilt = (problem: TurnProblem) =>
  new ApiError(problem.code as ErrorCode, problem.message, {
    extensions: problem.extensions,
    headers: problem.headers,
  });

/**
 * Sends a user message (or, with `retry`, answers the last one again after a failure). The turn runs in the
 * conversation's room (Durable Object): it checks the caller against the owner, takes the turn lock, stores
 * the user message, calls the model and stores the answer, whoever is still listening. The Worker's part ends
 * when the room has the turn; nothing of it is left in the Worker's `waitUntil`. `stream` answers the turn's
 * event stream at once; otherwise the answer (or its problem) when the turn ends.
 * @example
 * const { answer } = await startTurn({ ctx, conversationId, input: { content: "Hello" }, stream: false });
 */
export const startTurn = async ({
  ctx,
  conversationId,
  input,
  stream,
}: {
  ctx: ServiceContext;
  conversationId: string;
  input: { content?: string | undefined; model?: string | undefined; retry?: boolean | undefined };
  stream: boolean;
}): Promise<{ turnId: string; stream: ReadableStream<Uint8Array> } | { turnId: string; answer: TurnAnswer }> => {
  requireUser(ctx);
  const caller = ctx.caller as NonNullable<ServiceContext["caller"]>;
  if (!isId("conv", conversationId)) throw new ApiError("NOT_FOUND", `No conversation ${conversationId}.`);
  if (!input.retry && !input.content) {
    throw new ApiError("VALIDATION_FAILED", "body.content: is required unless retry is true.");
  }
  // The model call is recorded in usage_records (by the room); the send changes nothing else to audit.
  ctx.genericAudit = false;
  const result = await roomOf(ctx, conversationId).send({
    turnId: newId("trn"),
    conversationId,
    caller,
    requestId: ctx.requestId,
    input: { content: input.content, model: input.model, retry: input.retry },
    stream,
    settings: settingsForRoom(ctx.env),
  });
  if (!result.ok) throw rebuilt(result.problem);
  if ("stream" in result) return { turnId: result.turnId, stream: result.stream };
  if (!result.outcome.ok) throw rebuilt(result.outcome.problem);
  return { turnId: result.turnId, answer: result.outcome.answer };
};

/** A turn's events from the room: after `lastEventId` (`{turn}.{seq}`), or the newest turn from its start. */
export const followTurn = async ({
  ctx,
  conversationId,
  lastEventId,
}: {
  ctx: ServiceContext;
  conversationId: string;
  lastEventId?: string | undefined;
}) => {
  await requireConversation({ ctx, id: conversationId });
  const match = lastEventId?.match(/^(trn_[0-9A-Za-z]+)\.(\d+)$/);
  const stream = await roomOf(ctx, conversationId).subscribe(match?.[1] ?? null, match ? Number(match[2]) : 0);
  if (!stream) throw new ApiError("NOT_FOUND", "This conversation has no turn to follow (none ran recently).");
  return stream;
};

/**
 * Stops the running turn: the room aborts its provider call at once and keeps the partial answer, marked
 * `cancelled`; answers once the turn has ended, so the next send is accepted right away.
 */
export const cancelTurn = async ({ ctx, conversationId }: { ctx: ServiceContext; conversationId: string }) => {
  await requireConversation({ ctx, id: conversationId });
  const { turnId } = await roomOf(ctx, conversationId).cancel();
  return { cancelled: turnId !== null, turn_id: turnId };
};

/**
 * Refuses (409 `TURN_IN_PROGRESS`) while a turn of the conversation runs: for what must not change the
 * messages under a running turn (deleting messages, say). One read of the room's storage, no database;
 * call it after the owner check.
 * @example
 * await requireNoTurnRunning({ ctx, conversationId: conversation.id });
 */
export const requireNoTurnRunning = async ({
  ctx,
  conversationId,
}: {
  ctx: ServiceContext;
  conversationId: string;
}) => {
  const turnId = await roomOf(ctx, conversationId).runningTurn();
  if (turnId) {
    throw new ApiError(
      "TURN_IN_PROGRESS",
      "This conversation is still answering a message. Wait for it or cancel it.",
      {
        extensions: { turn_id: turnId },
      },
    );
  }
};
