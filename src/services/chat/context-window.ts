import { ApiError } from "../../lib/errors.js";
import { estimateTokens } from "../../llm/models.js";
import type { ChatMessage } from "../../llm/types.js";

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
