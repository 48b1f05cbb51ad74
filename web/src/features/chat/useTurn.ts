// A chat turn's stream as state: the user message, the answer as it grows, its usage, its error. What arrived
// is kept per conversation in sessionStorage with the id of the last event, so after a reload the answer shows
// what it had and resumes from there (GET …/stream with Last-Event-ID): the text on screen and the events that
// follow it come from one place, so nothing is shown twice.
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import { API_BASE, api, ProblemError, toProblem, unwrap } from "../../api/client";
import { followEventStream, type StreamEvent } from "../../lib/event-stream";
import { keys } from "../../lib/query";

export type Turn = {
  /** The user message being answered (the stored one once the `message` event arrived). */
  question: string;
  text: string;
  lastEventId?: string | undefined;
  tokens?: number | undefined;
};

const storageKey = (conversationId: string) => `ape.turn.${conversationId}`;

const saved = (conversationId: string): Turn | null => {
  try {
    const raw = sessionStorage.getItem(storageKey(conversationId));
    return raw ? (JSON.parse(raw) as Turn) : null;
  } catch {
    return null;
  }
};

const save = (conversationId: string, turn: Turn | null) => {
  if (turn) sessionStorage.setItem(storageKey(conversationId), JSON.stringify(turn));
  else sessionStorage.removeItem(storageKey(conversationId));
};

const isAbort = (e: unknown) => e instanceof DOMException && e.name === "AbortError";

/**
 * The turn of one conversation: `send` starts one, `resume` follows one that runs (after a reload), `stop`
 * cancels it. While it streams, `turn` holds what arrived; when it ends the messages are fetched again and
 * `turn` goes back to null.
 * @example
 * const { turn, streaming, send, stop } = useTurn(conversationId);
 */
export const useTurn = (conversationId: string) => {
  const client = useQueryClient();
  const [turn, setTurn] = useState<Turn | null>(null);
  const [error, setError] = useState<ProblemError | null>(null);
  const abort = useRef<AbortController | null>(null);
  const current = useRef<Turn | null>(null);

  const update = useCallback(
    (next: Turn | null) => {
      current.current = next;
      save(conversationId, next);
      setTurn(next);
    },
    [conversationId],
  );

  const onEvent = useCallback(
    (event: StreamEvent) => {
      const now = current.current;
      if (!now) return;
      const data = event.data ? (JSON.parse(event.data) as Record<string, unknown>) : {};
      const next: Turn = { ...now, lastEventId: event.id ?? now.lastEventId };
      if (event.event === "message") next.question = String(data.content ?? now.question);
      else if (event.event === "delta") next.text = now.text + String(data.text ?? "");
      else if (event.event === "usage")
        next.tokens = Number(data.tokens_input ?? 0) + Number(data.tokens_output ?? 0) || undefined;
      else if (event.event === "error")
        setError(toProblem({ detail: String(data.message ?? "The answer failed."), code: data.code }));
      update(next);
    },
    [update],
  );

  /** Reads a turn's events (from a send or a resume) until it ends, then shows the stored messages. */
  const follow = useCallback(
    async (url: string, init: RequestInit) => {
      const controller = new AbortController();
      abort.current?.abort();
      abort.current = controller;
      try {
        await followEventStream(url, init, onEvent, controller.signal);
      } catch (e) {
        if (isAbort(e)) return;
        if (!(e instanceof ProblemError && e.status === 404 && init.method !== "POST")) setError(toProblem(e));
      }
      if (controller.signal.aborted) return;
      abort.current = null;
      // The stored messages replace the live answer only once they are here, so nothing flickers.
      await client.refetchQueries({ queryKey: keys.conversations.messages(conversationId) });
      update(null);
      // Its message count and (soon) its title: not waited for, the turn is over.
      void client.invalidateQueries({ queryKey: keys.conversations.all });
    },
    [client, conversationId, onEvent, update],
  );

  const send = useCallback(
    async (content: string) => {
      if (current.current) return;
      setError(null);
      update({ question: content, text: "" });
      await follow(`${API_BASE}/chat/conversations/${encodeURIComponent(conversationId)}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ content, stream: true }),
      });
    },
    [conversationId, follow, update],
  );

  /**
   * Follows the turn that may still run: from after the last event this tab saw (kept across reloads), or,
   * when the tab saw none, from the turn's start with `question` as what it answers.
   */
  const resume = useCallback(
    async (question?: string) => {
      const kept = saved(conversationId);
      if (!kept && question === undefined) return;
      update(kept ?? { question: question ?? "", text: "" });
      const headers: Record<string, string> = kept?.lastEventId ? { "last-event-id": kept.lastEventId } : {};
      await follow(`${API_BASE}/chat/conversations/${encodeURIComponent(conversationId)}/stream`, { headers });
    },
    [conversationId, follow, update],
  );

  const stop = useCallback(async () => {
    try {
      await unwrap(api.POST("/chat/conversations/{id}/cancel", { params: { path: { id: conversationId } } }));
    } catch (e) {
      setError(toProblem(e));
      abort.current?.abort();
      update(null);
    }
  }, [conversationId, update]);

  // Leaving the conversation stops listening (the turn itself runs on); what arrived stays in sessionStorage.
  // A tick later, so StrictMode's rehearsal of an unmount (followed at once by a mount) drops nothing.
  const mounted = useRef(false);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
      setTimeout(() => {
        if (!mounted.current) abort.current?.abort();
      }, 0);
    };
  }, []);

  return {
    turn,
    streaming: turn !== null,
    error,
    setError,
    send,
    resume,
    stop,
  };
};
