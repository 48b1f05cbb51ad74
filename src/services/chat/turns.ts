import { and, asc, eq, ne, sql } from "drizzle-orm";
import type { RoomConversation, RoomMessage } from "../../../workers/conversation-room.js";
import { conversations, messages } from "../../db/schema/index.js";
import type { Message, MessageCitation, MessageStatus } from "../../db/schema/messages.js";
import { ApiError, errorCatalogue } from "../../lib/errors.js";
import { isId, newId } from "../../lib/ids.js";
import { untrusted, untrustedDataRule } from "../../llm/prompts.js";
import { configuredProviders } from "../../llm/providers/index.js";
import { resolveCandidates } from "../../llm/router.js";
import type { ChatMessage, FinishReason, TokenUsage } from "../../llm/types.js";
import type { ServiceContext } from "../context.js";
import { completeForCaller, streamForCaller } from "../llm/call-model.js";
import { type ContextReport, type HistoryMessage, planWindow, replyBudget } from "./context-window.js";
import { publicMessage, requireConversation } from "./conversations.js";
import {
  GROUNDING_RULE,
  type GroundingSource,
  isGrounded,
  resolveCitations,
  retrieveSources,
  sourcesBlock,
} from "./grounding.js";
import { type RoomClient, roomOf } from "./room-client.js";

/** What a turn knows of its conversation: the room's copy, and its id. */
type Conversation = RoomConversation & { id: string };

/** What a turn answers when it is awaited (JSON): the assistant message and how its window was spent. */
export type TurnAnswer = ReturnType<typeof publicMessage> & { context: ContextReport };

// Deltas are handed to the room a few at a time: each append is a round trip to the Durable Object.
const APPEND_EVERY_MS = 25;
const TITLE_MAX = 80;

const storeMessage = async (
  ctx: ServiceContext,
  values: {
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
  },
) => {
  const [row] = await ctx.db.insert(messages).values(values).returning();
  if (!row) throw new Error("message insert returned nothing");
  // The conversation moves up the list when its turn ends; the user's message alone need not wait for it.
  if (values.role === "assistant") {
    await ctx.db
      .update(conversations)
      .set({ updatedAt: new Date() })
      .where(eq(conversations.id, values.conversationId));
  }
  return row;
};

/** The history a room copies from Postgres: user messages and the answers that were kept, oldest first. */
const loadHistory = async (ctx: ServiceContext, conversationId: string): Promise<RoomMessage[]> => {
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

/** Gives a room its copy of the conversation, after the owner check in Postgres (404 for anyone else). */
const hydrateRoom = async (ctx: ServiceContext, room: RoomClient, conversationId: string) => {
  const row = await requireConversation({ ctx, id: conversationId });
  await room.hydrate(
    {
      ownerId: row.userId,
      title: row.title,
      model: row.model,
      systemPrompt: row.systemPrompt,
      summary: row.summary,
      summaryThrough: row.summaryThrough,
      documentIds: row.documentIds,
      allDocuments: row.allDocuments,
    },
    await loadHistory(ctx, row.id),
  );
};

/** The smallest window among the models a spec may route to: fallback must never overflow. */
const windowOf = (ctx: ServiceContext, model: string) => {
  const candidates = resolveCandidates(configuredProviders(ctx.env), model);
  const smallest = candidates.reduce((min, candidate) =>
    candidate.model.contextWindow < min.model.contextWindow ? candidate : min,
  );
  return {
    windowTokens: smallest.model.contextWindow,
    replyTokens: replyBudget(smallest.model.contextWindow, smallest.model.maxOutputTokens),
  };
};

const SUMMARY_SYSTEM = [
  "You keep a running summary of a conversation between a user and an assistant, so it can go on after older turns are dropped.",
  "Keep every fact, name, number, decision, open question and preference; drop pleasantries. Write plain prose, at most 200 words.",
  untrustedDataRule("previous_summary", "turns"),
].join(" ");

/** Folds turns that no longer fit into the conversation's summary (fast tier), stored for the next turns. */
const summarise = async (ctx: ServiceContext, conversation: Conversation, overflow: HistoryMessage[]) => {
  const transcript = overflow.map((message) => `${message.role}: ${message.content}`).join("\n\n");
  const answer = await completeForCaller({
    ctx,
    call: {
      service: "chat",
      model: "fast",
      apeSystemPrompts: true,
      request: {
        messages: [
          { role: "system", content: SUMMARY_SYSTEM },
          {
            role: "user",
            content: [
              conversation.summary ? untrusted("previous_summary", conversation.summary) : "",
              untrusted("turns", transcript),
              "Write the updated summary.",
            ]
              .filter(Boolean)
              .join("\n\n"),
          },
        ],
        temperature: 0,
        maxTokens: 400,
      },
    },
  });
  const through = overflow.at(-1)?.id ?? conversation.summaryThrough;
  await ctx.db
    .update(conversations)
    .set({ summary: answer.text, summaryThrough: through })
    .where(eq(conversations.id, conversation.id));
  await roomOf(ctx, conversation.id).updateConversation({ summary: answer.text, summaryThrough: through });
  return { ...conversation, summary: answer.text, summaryThrough: through };
};

/** The model's messages for this turn, summarising older turns first when they no longer fit. */
const buildContext = async (
  ctx: ServiceContext,
  conversation: Conversation,
  model: string,
  all: RoomMessage[],
  reservedTokens = 0,
) => {
  const { windowTokens: fullWindow, replyTokens } = windowOf(ctx, model);
  // Room for what the turn adds after planning (a grounded turn's passages).
  const windowTokens = Math.max(fullWindow - reservedTokens, replyTokens + 1);
  let current = conversation;
  const through = current.summaryThrough;
  let history = through ? all.filter((message) => message.id > through) : all;
  const plan = () =>
    planWindow({ windowTokens, replyTokens, systemPrompt: current.systemPrompt, summary: current.summary, history });
  let window = plan();
  if (window.overflow.length > 0) {
    const folded = window.overflow.length;
    current = await summarise(ctx, current, window.overflow);
    history = history.slice(folded);
    const replanned = plan();
    window = { ...replanned, report: { ...replanned.report, messages_summarised: folded } };
  }
  return { ...window, replyTokens };
};

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

/** The size check before anything is stored: a message that cannot fit any window is refused up front. */
const assertFits = (ctx: ServiceContext, conversation: Conversation, model: string, content: string) => {
  const { windowTokens, replyTokens } = windowOf(ctx, model);
  planWindow({
    windowTokens,
    replyTokens,
    systemPrompt: conversation.systemPrompt,
    summary: null,
    history: [{ id: "new", role: "user", content }],
  });
};

/** A short title from the first exchange, made after the turn (fast tier); failures only cost the title. */
const nameConversation = async (ctx: ServiceContext, conversation: Conversation, question: string, reply: string) => {
  try {
    const answer = await completeForCaller({
      ctx,
      call: {
        service: "chat",
        model: "fast",
        apeSystemPrompts: true,
        request: {
          messages: [
            {
              role: "system",
              content: `Give the conversation a title of at most six words. Answer with the title only. ${untrustedDataRule("exchange")}`,
            },
            { role: "user", content: untrusted("exchange", `user: ${question}\n\nassistant: ${reply}`) },
          ],
          temperature: 0,
          maxTokens: 24,
        },
      },
    });
    const title = answer.text.replace(/^["'\s]+|["'\s.]+$/g, "").slice(0, TITLE_MAX);
    if (!title) return;
    const [named] = await ctx.db
      .update(conversations)
      .set({ title })
      .where(and(eq(conversations.id, conversation.id), sql`${conversations.title} is null`))
      .returning({ id: conversations.id });
    if (named) await roomOf(ctx, conversation.id).updateConversation({ title });
  } catch (error) {
    ctx.log.warn("conversation title not generated", { error });
  }
};

/**
 * Runs a turn to its end, whoever is listening: streams the model's answer into the room (so any client can
 * follow or resume it), stops when the room says the turn was cancelled, and stores the assistant message
 * (complete, cancelled with its partial text, or failed with the error) when it ends. The user message is
 * written to Postgres alongside the model call (the room holds it durably already), and always before the
 * answer.
 */
const runTurn = async (options: {
  ctx: ServiceContext;
  room: RoomClient;
  turnId: string;
  conversation: Conversation;
  history: RoomMessage[];
  model: string;
  userMessage: RoomMessage;
  storingUserMessage: Promise<unknown>;
}): Promise<TurnAnswer> => {
  const { ctx, room, turnId, conversation, model, userMessage } = options;
  const abort = new AbortController();
  let context: Awaited<ReturnType<typeof buildContext>> | null = null;
  let text = "";
  let usage: TokenUsage | null = null;
  let finish: FinishReason | null = null;
  let failure: { code: string; message: string } | null = null;
  let cancelled = false;
  let modelUsed: string | null = null;
  let thrown: ApiError | null = null;
  let sources: GroundingSource[] = [];
  try {
    const grounding = { documentIds: conversation.documentIds ?? [], allDocuments: conversation.allDocuments ?? false };
    if (isGrounded(grounding)) {
      sources = await retrieveSources(ctx, { userId: conversation.ownerId, question: userMessage.content, grounding });
    }
    const passages = sources.length > 0 ? sourcesBlock(sources) : null;
    context = await buildContext(ctx, conversation, model, options.history, passages?.tokens ?? 0);
    if (passages) context = { ...context, messages: groundMessages(context.messages, passages.block) };
    // Not awaited: calls on one stub arrive in order, so the event keeps its place without holding the turn.
    room
      .append(turnId, [{ name: "context", data: context.report }])
      .catch((error) => ctx.log.warn("room append failed", { error }));
    const stream = await streamForCaller({
      ctx,
      call: {
        service: "chat",
        model,
        request: { messages: context.messages, maxTokens: context.replyTokens },
        signal: abort.signal,
      },
    });
    modelUsed = `${stream.provider}/${stream.model}`;
    let pending = "";
    let lastAppend = 0;
    const flush = async () => {
      if (!pending) return;
      const delta = pending;
      pending = "";
      lastAppend = Date.now();
      const { cancelled: asked } = await room.append(turnId, [{ name: "delta", data: { text: delta } }]);
      if (asked && !cancelled) {
        cancelled = true;
        abort.abort();
      }
    };
    for await (const event of stream.events) {
      if (event.type === "text") {
        text += event.text;
        pending += event.text;
        // The first token goes out at once; later ones are batched briefly.
        if (lastAppend === 0 || Date.now() - lastAppend >= APPEND_EVERY_MS) await flush();
      } else if (event.type === "usage") {
        usage = event.usage;
      } else if (event.type === "finish") {
        finish = event.reason;
      } else if (event.type === "error" && !cancelled) {
        failure = { code: event.code, message: event.message };
      }
      if (cancelled) break;
    }
    await flush();
  } catch (error) {
    if (!(error instanceof ApiError)) ctx.log.error("chat turn failed", { error });
    thrown = error instanceof ApiError ? error : null;
    failure =
      error instanceof ApiError
        ? { code: error.code, message: error.message }
        : { code: "INTERNAL", message: "The turn failed on our side. Retry it." };
    if (cancelled) failure = null;
  }
  if (failure?.code === "CONTENT_BLOCKED") {
    // Blocked output is neither kept nor shown again; blocked input leaves the history, so later turns are
    // not refused for it.
    text = "";
    if (!modelUsed) await room.dropMessage(userMessage.id);
  }
  const status: MessageStatus = cancelled ? "cancelled" : failure ? "failed" : "complete";
  // Citations are checked by code: each [n] must name a passage this turn retrieved, or it is dropped.
  const grounded = sources.length > 0 ? resolveCitations(text, sources) : null;
  if (grounded) text = grounded.content;
  let assistant: Message;
  try {
    await options.storingUserMessage;
    assistant = await storeMessage(ctx, {
      conversationId: conversation.id,
      role: "assistant",
      content: text,
      status,
      modelUsed,
      tokensUsed: usage ? usage.inputTokens + usage.outputTokens : null,
      finishReason: cancelled ? "cancelled" : (finish ?? (failure ? "error" : null)),
      error: failure,
      citations: grounded?.citations ?? null,
    });
  } catch (error) {
    // Postgres could not take the turn: the room's copy may now say more than the record, so it goes.
    ctx.log.error("chat turn not stored", { error });
    try {
      await room.append(turnId, [
        { name: "error", data: { code: "NOT_READY", message: "The answer could not be stored; retry it." } },
      ]);
      await room.invalidate();
    } finally {
      await room.finish(turnId, "failed");
    }
    throw new ApiError("NOT_READY", "The answer could not be stored; retry it.", { cause: error });
  }
  const body = publicMessage(assistant);
  const report = context?.report ?? null;
  try {
    if (usage) {
      await room.append(turnId, [
        { name: "usage", data: { tokens_input: usage.inputTokens, tokens_output: usage.outputTokens } },
      ]);
    }
    if (grounded) await room.append(turnId, [{ name: "citations", data: { citations: grounded.citations } }]);
    await room.append(turnId, [
      failure
        ? { name: "error", data: { ...failure, message_id: assistant.id } }
        : { name: "done", data: { message: body, context: report } },
    ]);
  } finally {
    // The lock is released however the last events went: a stuck turn would refuse every later message.
    await room.finish(
      turnId,
      status,
      status === "failed" ? undefined : { id: assistant.id, role: "assistant", content: text },
    );
  }
  const firstExchange = !options.history.some((message) => message.role === "assistant");
  if (firstExchange && status === "complete" && !conversation.title) {
    ctx.defer(nameConversation(ctx, conversation, userMessage.content, text));
  }
  if (failure && !text) {
    // The caller's error as it was (its code and members, `attempts` included), naming the stored message.
    if (thrown) {
      throw new ApiError(thrown.code, thrown.message, {
        extensions: { ...thrown.extensions, message_id: assistant.id },
        headers: thrown.headers,
      });
    }
    const known = errorCatalogue.find((entry) => entry.code === failure?.code);
    throw new ApiError(known?.code ?? "ALL_PROVIDERS_FAILED", failure.message, {
      extensions: { message_id: assistant.id },
    });
  }
  return { ...body, context: report as ContextReport };
};

const busy = (runningTurnId: string) =>
  new ApiError(
    "TURN_IN_PROGRESS",
    "This conversation is still answering a message. Wait for it, follow it at GET …/stream, or cancel it.",
    { extensions: { turn_id: runningTurnId } },
  );

/**
 * Sends a user message (or, with `retry`, answers the last one again after a failure) and starts the turn.
 * The room checks the caller against the conversation's owner (copied from Postgres on first use), takes the
 * turn lock and stores the user message durably before any model is called; Postgres gets it alongside the
 * model call. Returns the turn's id and a promise of its end; the turn runs on after the request
 * (`ctx.defer`), so a client that disconnects loses nothing and can resume from the room.
 * @example
 * const turn = await startTurn({ ctx, conversationId, input: { content: "Hello" } });
 */
export const startTurn = async ({
  ctx,
  conversationId,
  input,
}: {
  ctx: ServiceContext;
  conversationId: string;
  input: { content?: string | undefined; model?: string | undefined; retry?: boolean | undefined };
}) => {
  if (!ctx.caller) throw new ApiError("UNAUTHENTICATED");
  if (!isId("conv", conversationId)) throw new ApiError("NOT_FOUND", `No conversation ${conversationId}.`);
  if (!input.retry && !input.content) {
    throw new ApiError("VALIDATION_FAILED", "body.content: is required unless retry is true.");
  }
  const room = roomOf(ctx, conversationId);
  const turnId = newId("trn");
  const fresh: RoomMessage | null = input.retry
    ? null
    : { id: newId("msg"), role: "user", content: input.content ?? "" };
  let opened = await room.open(turnId, ctx.caller.userId);
  if (opened.status === "unknown") {
    await hydrateRoom(ctx, room, conversationId);
    opened = await room.open(turnId, ctx.caller.userId);
  }
  if (opened.status === "not_found" || opened.status === "unknown") {
    throw new ApiError("NOT_FOUND", `No conversation ${conversationId}.`);
  }
  if (opened.status === "busy") throw busy(opened.runningTurnId);
  const conversation: Conversation = { ...opened.conversation, id: conversationId };
  const model = input.model ?? conversation.model;
  let history = opened.history;
  let userMessage: RoomMessage;
  let storingUserMessage: Promise<unknown> = Promise.resolve();
  try {
    if (fresh) {
      assertFits(ctx, conversation, model, fresh.content);
      // Stored durably in the room before any model is called; Postgres gets it alongside the model call.
      history = await room.addMessage(turnId, fresh);
      userMessage = fresh;
      storingUserMessage = storeMessage(ctx, {
        id: fresh.id,
        conversationId,
        role: "user",
        content: fresh.content,
      }).catch(async (error) => {
        await room.dropMessage(fresh.id);
        throw error;
      });
    } else {
      // Only an unanswered message can be retried: the room's history keeps no failed answers.
      const last = history.at(-1);
      if (last?.role !== "user") {
        throw new ApiError("BAD_REQUEST", "There is no unanswered message to retry in this conversation.");
      }
      userMessage = last;
    }
    const createdAt = new Date().toISOString();
    // Not awaited (calls on one stub arrive in order): the stored message is announced without a round trip.
    void room
      .append(turnId, [
        {
          name: "message",
          data: {
            id: userMessage.id,
            conversation_id: conversationId,
            role: "user",
            content: userMessage.content,
            model_used: null,
            tokens_used: null,
            status: "complete",
            finish_reason: null,
            error: null,
            created_at: createdAt,
          },
        },
      ])
      .catch((error) => ctx.log.warn("room append failed", { error }));
    const done = runTurn({ ctx, room, turnId, conversation, history, model, userMessage, storingUserMessage });
    // The turn outlives the request: its end is awaited after the response, whoever is still listening.
    ctx.defer(done.catch(() => undefined));
    return {
      turnId,
      done,
      /** The turn's events from its start, for a client that wants the stream. */
      events: () => openTurnStream(ctx, conversationId, `${turnId}.0`),
    };
  } catch (error) {
    await room.finish(turnId, "failed");
    throw error;
  }
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
  return openTurnStream(ctx, conversationId, lastEventId);
};

/** The room's stream after `lastEventId`; for callers that have checked the owner already. */
export const openTurnStream = async (ctx: ServiceContext, conversationId: string, lastEventId?: string) => {
  const match = lastEventId?.match(/^(trn_[0-9A-Za-z]+)\.(\d+)$/);
  const stream = await roomOf(ctx, conversationId).subscribe(match?.[1] ?? null, match ? Number(match[2]) : 0);
  if (!stream) throw new ApiError("NOT_FOUND", "This conversation has no turn to follow (none ran recently).");
  return stream;
};

/** Asks the running turn to stop; its partial answer is kept, marked `cancelled`. */
export const cancelTurn = async ({ ctx, conversationId }: { ctx: ServiceContext; conversationId: string }) => {
  await requireConversation({ ctx, id: conversationId });
  const { turnId } = await roomOf(ctx, conversationId).cancel();
  return { cancelled: turnId !== null, turn_id: turnId };
};
