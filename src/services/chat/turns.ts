import { and, asc, eq, gt, ne, sql } from "drizzle-orm";
import { conversations, messages } from "../../db/schema/index.js";
import type { Message, MessageStatus } from "../../db/schema/messages.js";
import { ApiError, errorCatalogue } from "../../lib/errors.js";
import { newId } from "../../lib/ids.js";
import { untrusted, untrustedDataRule } from "../../llm/prompts.js";
import { configuredProviders } from "../../llm/providers/index.js";
import { resolveCandidates } from "../../llm/router.js";
import type { FinishReason, TokenUsage } from "../../llm/types.js";
import type { ServiceContext } from "../context.js";
import { completeForCaller, streamForCaller } from "../llm/call-model.js";
import { type ContextReport, type HistoryMessage, planWindow, replyBudget } from "./context-window.js";
import { publicMessage, requireConversation } from "./conversations.js";
import { type RoomClient, roomOf } from "./room-client.js";

type Conversation = Awaited<ReturnType<typeof requireConversation>>;

/** What a turn answers when it is awaited (JSON): the assistant message and how its window was spent. */
export type TurnAnswer = ReturnType<typeof publicMessage> & { context: ContextReport };

// Deltas are handed to the room a few at a time: each append is a round trip to the Durable Object.
const APPEND_EVERY_MS = 25;
const TITLE_MAX = 80;

const storeMessage = async (
  ctx: ServiceContext,
  values: {
    conversationId: string;
    role: "user" | "assistant";
    content: string;
    status?: MessageStatus;
    modelUsed?: string | null;
    tokensUsed?: number | null;
    finishReason?: string | null;
    error?: { code: string; message: string } | null;
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

/** The conversation's history after its summary: user messages and the answers that were kept. */
const loadHistory = async (ctx: ServiceContext, conversation: Conversation): Promise<HistoryMessage[]> => {
  const rows = await ctx.db
    .select({ id: messages.id, role: messages.role, content: messages.content })
    .from(messages)
    .where(
      and(
        eq(messages.conversationId, conversation.id),
        ne(messages.role, "system"),
        conversation.summaryThrough ? gt(messages.id, conversation.summaryThrough) : undefined,
        // A failed answer has nothing to say; a cancelled one keeps its partial text.
        sql`not (${messages.role} = 'assistant' and ${messages.status} = 'failed')`,
      ),
    )
    .orderBy(asc(messages.id));
  return rows.map((row) => ({ id: row.id, role: row.role as "user" | "assistant", content: row.content }));
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
  return { ...conversation, summary: answer.text, summaryThrough: through };
};

/** The model's messages for this turn, summarising older turns first when they no longer fit. */
const buildContext = async (ctx: ServiceContext, conversation: Conversation, model: string) => {
  const { windowTokens, replyTokens } = windowOf(ctx, model);
  let current = conversation;
  let history = await loadHistory(ctx, current);
  let window = planWindow({
    windowTokens,
    replyTokens,
    systemPrompt: current.systemPrompt,
    summary: current.summary,
    history,
  });
  if (window.overflow.length > 0) {
    const folded = window.overflow.length;
    current = await summarise(ctx, current, window.overflow);
    history = history.slice(folded);
    const replanned = planWindow({
      windowTokens,
      replyTokens,
      systemPrompt: current.systemPrompt,
      summary: current.summary,
      history,
    });
    window = { ...replanned, report: { ...replanned.report, messages_summarised: folded } };
  }
  return { ...window, replyTokens };
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
    await ctx.db
      .update(conversations)
      .set({ title })
      .where(and(eq(conversations.id, conversation.id), sql`${conversations.title} is null`));
  } catch (error) {
    ctx.log.warn("conversation title not generated", { error });
  }
};

/**
 * Runs a turn to its end, whoever is listening: streams the model's answer into the room (so any client can
 * follow or resume it), stops when the room says the turn was cancelled, and stores the assistant message
 * (complete, cancelled with its partial text, or failed with the error) when it ends.
 */
const runTurn = async (options: {
  ctx: ServiceContext;
  room: RoomClient;
  turnId: string;
  conversation: Conversation;
  model: string;
  userMessage: Message;
  firstExchange: boolean;
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
  try {
    context = await buildContext(ctx, conversation, model);
    await room.append(turnId, [{ name: "context", data: context.report }]);
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
      } else if (!cancelled) {
        failure = { code: event.code, message: event.message };
      }
      if (cancelled) break;
    }
    await flush();
  } catch (error) {
    if (!(error instanceof ApiError)) ctx.log.error("chat turn failed", { error });
    failure =
      error instanceof ApiError
        ? { code: error.code, message: error.message }
        : { code: "INTERNAL", message: "The turn failed on our side. Retry it." };
    if (cancelled) failure = null;
  }
  const status: MessageStatus = cancelled ? "cancelled" : failure ? "failed" : "complete";
  const assistant = await storeMessage(ctx, {
    conversationId: conversation.id,
    role: "assistant",
    content: text,
    status,
    modelUsed,
    tokensUsed: usage ? usage.inputTokens + usage.outputTokens : null,
    finishReason: cancelled ? "cancelled" : (finish ?? (failure ? "error" : null)),
    error: failure,
  });
  const body = publicMessage(assistant);
  const report = context?.report ?? null;
  if (usage)
    await room.append(turnId, [
      { name: "usage", data: { tokens_input: usage.inputTokens, tokens_output: usage.outputTokens } },
    ]);
  await room.append(turnId, [
    failure
      ? { name: "error", data: { ...failure, message_id: assistant.id } }
      : { name: "done", data: { message: body, context: report } },
  ]);
  await room.finish(turnId, status);
  if (options.firstExchange && status === "complete" && !conversation.title) {
    ctx.defer(nameConversation(ctx, conversation, userMessage.content, text));
  }
  if (failure && !text) {
    const known = errorCatalogue.find((entry) => entry.code === failure?.code);
    throw new ApiError(known?.code ?? "INTERNAL", failure.message, { extensions: { message_id: assistant.id } });
  }
  return { ...body, context: report as ContextReport };
};

/**
 * Sends a user message (or, with `retry`, answers the last one again after a failure) and starts the turn.
 * The user message is stored before any model is called. Returns the turn's id and a promise of its end;
 * the turn runs on after the request (`ctx.defer`), so a client that disconnects loses nothing and can
 * resume from the room.
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
  const conversation = await requireConversation({ ctx, id: conversationId });
  const model = input.model ?? conversation.model;
  const room = roomOf(ctx, conversation.id);
  let userMessage: Message | undefined;
  if (input.retry) {
    const [last] = await ctx.db
      .select()
      .from(messages)
      .where(and(eq(messages.conversationId, conversation.id), eq(messages.role, "user")))
      .orderBy(sql`${messages.id} desc`)
      .limit(1);
    if (!last) throw new ApiError("BAD_REQUEST", "There is no message to retry in this conversation.");
    userMessage = last;
  } else {
    if (!input.content) throw new ApiError("VALIDATION_FAILED", "body.content: is required unless retry is true.");
    assertFits(ctx, conversation, model, input.content);
  }
  const turnId = newId("trn");
  const begun = await room.begin(turnId);
  if (!begun.ok) {
    throw new ApiError(
      "TURN_IN_PROGRESS",
      "This conversation is still answering a message. Wait for it, follow it at GET …/stream, or cancel it.",
      { extensions: { turn_id: begun.runningTurnId } },
    );
  }
  try {
    // Only an untitled conversation needs to know whether this is its first exchange.
    const [{ count } = { count: 1 }] = conversation.title
      ? []
      : await ctx.db
          .select({ count: sql<number>`count(*)::int` })
          .from(messages)
          .where(and(eq(messages.conversationId, conversation.id), eq(messages.role, "assistant")));
    if (!userMessage) {
      userMessage = await storeMessage(ctx, {
        conversationId: conversation.id,
        role: "user",
        content: input.content ?? "",
      });
    }
    await room.append(turnId, [{ name: "message", data: publicMessage(userMessage) }]);
    const done = runTurn({ ctx, room, turnId, conversation, model, userMessage, firstExchange: count === 0 });
    // The turn outlives the request: its end is awaited after the response, whoever is still listening.
    ctx.defer(done.catch(() => undefined));
    return {
      turnId,
      userMessage: publicMessage(userMessage),
      done,
      /** The turn's events from its start, for a client that wants the stream. */
      events: () => openTurnStream(ctx, conversation.id, `${turnId}.0`),
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
