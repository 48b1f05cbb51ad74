import type { Message, MessageStatus } from "../../db/schema/messages.js";
import { ApiError, errorCatalogue } from "../../lib/errors.js";
import type { ChatMessage, FinishReason, TokenUsage } from "../../llm/types.js";
import type { ServiceContext } from "../context.js";
import { streamForCaller } from "../llm/call-model.js";
import { buildContext, type ContextReport } from "./context-window.js";
import { publicMessage } from "./conversations.js";
import {
  GROUNDING_RULE,
  type GroundingSource,
  isGrounded,
  resolveCitations,
  retrieveSources,
  sourcesBlock,
} from "./grounding.js";
import { storeMessage } from "./history.js";
import type {
  RoomConversation,
  RoomEvent,
  RoomMessage,
  TurnConversation,
  TurnOutcome,
  TurnProblem,
} from "./room-types.js";
import { nameConversation } from "./title.js";

/** What a turn needs of the room that runs it. */
export type TurnRoom = {
  /** Hands events to every follower at once and keeps them for resuming. */
  emit: (events: RoomEvent[]) => void;
  /** Changes the room's copy of the conversation (a new summary or title). */
  updateCopy: (changes: Partial<Omit<RoomConversation, "ownerId">>) => void;
  /** Takes a message back out of the room's history. */
  dropMessage: (id: string) => void;
  /** Drops the room's copy, so the next turn takes a fresh one from Postgres. */
  invalidate: () => void;
  /** Ends the turn: the lock is released and followers' streams end. */
  finish: (status: MessageStatus, answer?: RoomMessage) => void;
  /** Aborted when the turn is cancelled: the provider call stops with it. */
  signal: AbortSignal;
};

/** An error as the Worker's caller will see it, as data that crosses the RPC boundary. */
export const problemOf = (error: unknown): TurnProblem =>
  error instanceof ApiError
    ? { code: error.code, message: error.message, extensions: error.extensions, headers: error.headers }
    : { code: "INTERNAL", message: "The turn failed on our side. Retry it.", extensions: {}, headers: {} };

/**
 * A grounded turn's messages: the citation rule joins the system messages, and the passages go, as delimited
 * data, at the top of the user's question (the last message).
 */
const groundMessages = (messages: ChatMessage[], block: string): ChatMessage[] => {
  const last = messages.at(-1);
  if (last?.role !== "user") return messages;
  return [
    { role: "system", content: GROUNDING_RULE },
    ...messages.slice(0, -1),
    { role: "user", content: `${block}\n\n${last.content}` },
  ];
};

/** The problem a caller waiting on a failed turn gets: the error as it was, naming the stored message. */
const failedOutcome = (
  failure: { code: string; message: string },
  thrown: ApiError | null,
  messageId: string,
): TurnOutcome => {
  if (thrown) {
    return {
      ok: false,
      problem: { ...problemOf(thrown), extensions: { ...thrown.extensions, message_id: messageId } },
    };
  }
  const known = errorCatalogue.find((entry) => entry.code === failure.code);
  return {
    ok: false,
    problem: {
      code: known?.code ?? "ALL_PROVIDERS_FAILED",
      message: failure.message,
      extensions: { message_id: messageId },
      headers: {},
    },
  };
};

/**
 * Runs a turn to its end inside the room, whoever is listening: streams the model's answer to the room's
 * followers, stops the provider call as soon as the turn is cancelled (its signal), and stores the assistant
 * message (complete, cancelled with its partial text, or failed with the error) when it ends. The user
 * message, already in the room's storage, reaches Postgres alongside the model call and always before the
 * answer. A first exchange names its conversation afterwards (deferred on `ctx`).
 */
export const runTurn = async (options: {
  ctx: ServiceContext;
  room: TurnRoom;
  conversation: TurnConversation;
  history: RoomMessage[];
  model: string;
  userMessage: RoomMessage;
  storingUserMessage: Promise<unknown>;
}): Promise<TurnOutcome> => {
  const { ctx, room, conversation, model, userMessage } = options;
  const cancelled = () => room.signal.aborted;
  let report: ContextReport | null = null;
  let text = "";
  let usage: TokenUsage | null = null;
  let finish: FinishReason | null = null;
  let failure: { code: string; message: string } | null = null;
  let modelUsed: string | null = null;
  let thrown: ApiError | null = null;
  let sources: GroundingSource[] = [];
  try {
    const grounding = { documentIds: conversation.documentIds ?? [], allDocuments: conversation.allDocuments ?? false };
    if (isGrounded(grounding)) {
      sources = await retrieveSources(ctx, { userId: conversation.ownerId, question: userMessage.content, grounding });
    }
    const passages = sources.length > 0 ? sourcesBlock(sources) : null;
    let context = await buildContext({
      ctx,
      conversation,
      model,
      history: options.history,
      reservedTokens: passages?.tokens ?? 0,
      updateCopy: room.updateCopy,
    });
    if (passages) context = { ...context, messages: groundMessages(context.messages, passages.block) };
    report = context.report;
    room.emit([{ name: "context", data: context.report }]);
    const stream = await streamForCaller({
      ctx,
      call: {
        service: "chat",
        model,
        request: { messages: context.messages, maxTokens: context.replyTokens },
        signal: room.signal,
      },
    });
    modelUsed = `${stream.provider}/${stream.model}`;
    for await (const event of stream.events) {
      if (cancelled()) break;
      if (event.type === "text") {
        text += event.text;
        room.emit([{ name: "delta", data: { text: event.text } }]);
      } else if (event.type === "usage") {
        usage = event.usage;
      } else if (event.type === "finish") {
        finish = event.reason;
      } else if (event.type === "error") {
        // Chat sends no tools, so a tool-call delta cannot arrive; any other event kind is not a failure.
        failure = { code: event.code, message: event.message };
      }
    }
  } catch (error) {
    if (!cancelled()) {
      if (!(error instanceof ApiError)) ctx.log.error("chat turn failed", { error });
      thrown = error instanceof ApiError ? error : null;
      const problem = problemOf(error);
      failure = { code: problem.code, message: problem.message };
    }
  }
  if (cancelled()) failure = null;
  if (failure?.code === "CONTENT_BLOCKED") {
    // Blocked output is neither kept nor shown again; blocked input leaves the history, so later turns are
    // not refused for it.
    text = "";
    if (!modelUsed) room.dropMessage(userMessage.id);
  }
  const status: MessageStatus = cancelled() ? "cancelled" : failure ? "failed" : "complete";
  // Citations are checked by code: each [n] must name a passage this turn retrieved, or it is dropped.
  const grounded = sources.length > 0 ? resolveCitations(text, sources) : null;
  if (grounded) text = grounded.content;
  let assistant: Message | null;
  try {
    await options.storingUserMessage;
    assistant = await storeMessage(ctx, {
      conversationId: conversation.id,
      role: "assistant",
      content: text,
      status,
      modelUsed,
      tokensUsed: usage ? usage.inputTokens + usage.outputTokens : null,
      finishReason: status === "cancelled" ? "cancelled" : (finish ?? (failure ? "error" : null)),
      error: failure,
      citations: grounded?.citations ?? null,
    });
    if (!assistant) throw new Error("message insert returned nothing");
  } catch (error) {
    // Postgres could not take the turn: the room's copy may now say more than the record, so it goes.
    ctx.log.error("chat turn not stored", { error });
    const problem = problemOf(new ApiError("NOT_READY", "The answer could not be stored; retry it."));
    try {
      room.emit([{ name: "error", data: { code: problem.code, message: problem.message } }]);
      room.invalidate();
    } finally {
      room.finish("failed");
    }
    return { ok: false, problem };
  }
  const body = publicMessage(assistant);
  try {
    if (usage) {
      room.emit([{ name: "usage", data: { tokens_input: usage.inputTokens, tokens_output: usage.outputTokens } }]);
    }
    if (grounded) room.emit([{ name: "citations", data: { citations: grounded.citations } }]);
    room.emit([
      failure
        ? { name: "error", data: { ...failure, message_id: assistant.id } }
        : { name: "done", data: { message: body, context: report } },
    ]);
  } finally {
    // The lock is released however the last events went: a stuck turn would refuse every later message.
    room.finish(status, status === "failed" ? undefined : { id: assistant.id, role: "assistant", content: text });
  }
  const firstExchange = !options.history.some((message) => message.role === "assistant");
  if (firstExchange && status === "complete" && !conversation.title) {
    ctx.defer(
      nameConversation({
        ctx,
        conversationId: conversation.id,
        question: userMessage.content,
        reply: text,
        onNamed: (title) => room.updateCopy({ title }),
      }),
    );
  }
  if (failure && !text) return failedOutcome(failure, thrown, assistant.id);
  return { ok: true, answer: { ...body, context: report as ContextReport } };
};
