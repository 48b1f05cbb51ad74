import { eq } from "drizzle-orm";
import { conversations } from "../../db/schema/index.js";
import { ApiError } from "../../lib/errors.js";
import { estimateTokens } from "../../llm/models.js";
import { untrusted, untrustedDataRule } from "../../llm/prompts.js";
import { configuredProviders } from "../../llm/providers/index.js";
import { resolveCandidates } from "../../llm/router.js";
import type { ChatMessage } from "../../llm/types.js";
import type { ServiceContext } from "../context.js";
import { completeForCaller } from "../llm/call-model.js";
import type { RoomConversation, TurnConversation } from "./room-types.js";

/** A stored message that may go into a model's context. */
export type HistoryMessage = { id: string; role: "user" | "assistant"; content: string };

/** How a turn's context window was spent, in (estimated) tokens; every answer reports it. */
export type ContextReport = {
  window_tokens: number;
  reply_tokens: number;
  system_prompt_tokens: number;
  summary_tokens: number;
  history_tokens: number;
  documents_tokens: number;
  free_tokens: number;
  messages_included: number;
  messages_summarised: number;
};

export type WindowPlan = { messages: ChatMessage[]; report: ContextReport; overflow: HistoryMessage[] };

// A few tokens for each message's framing, on top of its text's estimate.
const PER_MESSAGE = 4;
const messageTokens = (content: string) => estimateTokens(content) + PER_MESSAGE;

/** The reply's share of a window: the model's output limit, but never more than a quarter of the window. */
export const replyBudget = (windowTokens: number, maxOutputTokens: number) =>
  Math.min(maxOutputTokens, Math.floor(windowTokens / 4));

/**
 * Fits a conversation into a model's window: the system prompt and the newest message always, then the
 * summary of older turns (if any), then as many of the latest turns as fit, whole. What does not fit comes
 * back in `overflow` (oldest first), to be folded into the summary. A newest message that cannot fit even
 * alone is refused with 400 `MESSAGE_TOO_LONG`, never cut.
 * @example
 * const plan = planWindow({ windowTokens: 8192, replyTokens: 2048, systemPrompt, summary, history });
 */
export const planWindow = (options: {
  windowTokens: number;
  replyTokens: number;
  systemPrompt: string | null;
  summary: string | null;
  documents?: string | null;
  /** Oldest first; the last one is the message being answered. */
  history: HistoryMessage[];
}): WindowPlan => {
  const { windowTokens, replyTokens, history } = options;
  const newest = history.at(-1);
  const system = options.systemPrompt ? messageTokens(options.systemPrompt) : 0;
  const documents = options.documents ? messageTokens(options.documents) : 0;
  const summary = options.summary ? messageTokens(options.summary) : 0;
  const available = windowTokens - replyTokens;
  const fixed = system + documents + (newest ? messageTokens(newest.content) : 0);
  if (fixed > available) {
    throw new ApiError(
      "MESSAGE_TOO_LONG",
      `The message needs about ${fixed} tokens with the system prompt, but the model's window leaves ${available} (of ${windowTokens}, ${replyTokens} kept for the reply). Shorten it, or pick a model with a larger window.`,
      { extensions: { needed_tokens: fixed, available_tokens: available } },
    );
  }
  let room = available - fixed - summary;
  let firstIncluded = history.length - 1;
  for (let index = history.length - 2; index >= 0; index--) {
    const cost = messageTokens((history[index] as HistoryMessage).content);
    if (cost > room) break;
    room -= cost;
    firstIncluded = index;
  }
  // The kept turns start with the user (Bedrock refuses a conversation that opens with the assistant); an
  // answer cut off from its question goes to the summary with it.
  while (firstIncluded < history.length - 1 && history[firstIncluded]?.role === "assistant") firstIncluded += 1;
  const included = history.slice(Math.max(0, firstIncluded));
  const overflow = history.slice(0, Math.max(0, firstIncluded));
  const messages: ChatMessage[] = [];
  if (options.systemPrompt) messages.push({ role: "system", content: options.systemPrompt });
  if (options.documents) messages.push({ role: "system", content: options.documents });
  if (options.summary) {
    messages.push({ role: "system", content: `Summary of the earlier conversation:\n${options.summary}` });
  }
  messages.push(...included.map((message) => ({ role: message.role, content: message.content })));
  const historyTokens = included.reduce((sum, message) => sum + messageTokens(message.content), 0);
  return {
    messages,
    overflow,
    report: {
      window_tokens: windowTokens,
      reply_tokens: replyTokens,
      system_prompt_tokens: system,
      summary_tokens: summary,
      history_tokens: historyTokens,
      documents_tokens: documents,
      free_tokens: Math.max(0, available - system - documents - summary - historyTokens),
      messages_included: included.length,
      messages_summarised: overflow.length,
    },
  };
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

/**
 * The size check before anything is stored: a message that cannot fit any window is refused up front.
 * @example
 * assertFits(ctx, conversation, "auto", content);
 */
export const assertFits = (ctx: ServiceContext, conversation: TurnConversation, model: string, content: string) => {
  const { windowTokens, replyTokens } = windowOf(ctx, model);
  planWindow({
    windowTokens,
    replyTokens,
    systemPrompt: conversation.systemPrompt,
    summary: null,
    history: [{ id: "new", role: "user", content }],
  });
};

const SUMMARY_SYSTEM = [
  "You keep a running summary of a conversation between a user and an assistant, so it can go on after older turns are dropped.",
  "Keep every fact, name, number, decision, open question and preference; drop pleasantries. Write plain prose, at most 200 words.",
  untrustedDataRule("previous_summary", "turns"),
].join(" ");

/** Where a new summary goes besides Postgres: the room's copy of the conversation. */
type CopyUpdate = (changes: Partial<Omit<RoomConversation, "ownerId">>) => void;

/** Folds turns that no longer fit into the conversation's summary (fast tier), stored for the next turns. */
const summarise = async (
  ctx: ServiceContext,
  conversation: TurnConversation,
  overflow: HistoryMessage[],
  updateCopy: CopyUpdate,
) => {
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
  updateCopy({ summary: answer.text, summaryThrough: through });
  return { ...conversation, summary: answer.text, summaryThrough: through };
};

/**
 * The model's messages for a turn, summarising older turns first when they no longer fit (the new summary
 * goes to Postgres and, through `updateCopy`, to the room's copy). `reservedTokens` keeps room for what the
 * turn adds after planning (a grounded turn's passages).
 * @example
 * const window = await buildContext({ ctx, conversation, model, history, updateCopy });
 */
export const buildContext = async (options: {
  ctx: ServiceContext;
  conversation: TurnConversation;
  model: string;
  history: HistoryMessage[];
  reservedTokens?: number;
  updateCopy: CopyUpdate;
}) => {
  const { ctx, model } = options;
  const { windowTokens: fullWindow, replyTokens } = windowOf(ctx, model);
  const windowTokens = Math.max(fullWindow - (options.reservedTokens ?? 0), replyTokens + 1);
  let current = options.conversation;
  const through = current.summaryThrough;
  let history = through ? options.history.filter((message) => message.id > through) : options.history;
  const plan = () =>
    planWindow({ windowTokens, replyTokens, systemPrompt: current.systemPrompt, summary: current.summary, history });
  let window = plan();
  if (window.overflow.length > 0) {
    const folded = window.overflow.length;
    current = await summarise(ctx, current, window.overflow, options.updateCopy);
    history = history.slice(folded);
    const replanned = plan();
    window = { ...replanned, report: { ...replanned.report, messages_summarised: folded } };
  }
  return { ...window, replyTokens };
};
