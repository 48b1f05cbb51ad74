import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { ErrorBanner, Loading } from "../../components/ui";
import { Composer } from "./Composer";
import { DocumentPicker } from "./DocumentPicker";
import { DropZone } from "./DropZone";
import { takeFirstMessage } from "./first-message";
import { AnswerMessage, LiveAnswer, UserMessage } from "./MessageView";
import { useConversation, useDeleteMessagesFrom, useMessages, useUpdateConversation } from "./queries";
import { useAttachments } from "./useAttachments";
import { useTurn } from "./useTurn";

/** One conversation: its messages, the answer streaming in, and the composer. */
export const ConversationView = ({ id }: { id: string }) => {
  const client = useQueryClient();
  const conversation = useConversation(id);
  const messages = useMessages(id);
  const { turn, streaming, error, setError, send, resume, stop } = useTurn(id);
  const attachments = useAttachments();
  const update = useUpdateConversation();
  const truncate = useDeleteMessagesFrom();
  const [draft, setDraft] = useState("");
  const [queued, setQueued] = useState<string | null>(null);
  const [picking, setPicking] = useState(false);
  const bottom = useRef<HTMLDivElement>(null);
  const started = useRef(false);

  // Once the messages are here: send the message this conversation was started with, or follow a turn that
  // may still be running (this tab saw part of it before a reload, or the newest message awaits its answer).
  useEffect(() => {
    if (!messages.data || started.current) return;
    started.current = true;
    const first = takeFirstMessage(id);
    if (first) return void send(first);
    const last = messages.data.at(-1);
    void resume(last?.role === "user" ? last.content : undefined);
  }, [id, messages.data, send, resume]);

  // The title arrives after the first answer: the sidebar learns it with the header.
  const title = conversation.data?.title;
  useEffect(() => {
    if (title) void client.invalidateQueries({ queryKey: ["conversations", "list"] });
  }, [client, title]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll to the newest text whenever it grows
  useEffect(() => {
    bottom.current?.scrollIntoView({ block: "end" });
  }, [messages.data?.length, turn?.text]);

  /** Attaches the files that are ready to the conversation, then sends. */
  const sendWithAttachments = async (content: string) => {
    const ready = attachments.readyIds;
    const current = conversation.data?.document_ids;
    if (ready.length && current && current !== "all") {
      await update.mutateAsync({ id, changes: { document_ids: [...new Set([...current, ...ready])] } });
    }
    attachments.clear();
    await send(content);
  };

  // A message sent while its files are still being read goes once they are.
  // biome-ignore lint/correctness/useExhaustiveDependencies: fires when the attachments settle
  useEffect(() => {
    if (queued !== null && attachments.settled) {
      const content = queued;
      setQueued(null);
      void sendWithAttachments(content);
    }
  }, [queued, attachments.settled]);

  const onSend = () => {
    const content = draft.trim();
    setDraft("");
    if (attachments.settled) void sendWithAttachments(content);
    else setQueued(content);
  };

  /** Takes the conversation back to before `messageId` and sends `content` in its place. */
  const resend = async (messageId: string, content: string) => {
    setError(null);
    try {
      await truncate.mutateAsync({ id, messageId });
    } catch {
      return;
    }
    await send(content);
  };

  const all = messages.data ?? [];
  const lastUser = all.findLast((m) => m.role === "user");
  const lastAnswer = all.at(-1)?.role === "assistant" ? all.at(-1) : undefined;
  const showQuestion = turn && !(all.at(-1)?.role === "user" && all.at(-1)?.content === turn.question);
  const c = conversation.data;
  const count = c && c.document_ids !== "all" ? c.document_ids.length : 0;
  const attached =
    c?.document_ids === "all"
      ? "all documents"
      : count === 0
        ? "no documents"
        : `${count} document${count === 1 ? "" : "s"}`;
  return (
    <DropZone className="chat" label="Conversation" onFiles={attachments.add}>
      <header className="chat-header">
        <h1>{c ? c.title || "New conversation" : "…"}</h1>
        {c && (
          <p className="muted">
            {c.model} · {attached}{" "}
            <button type="button" className="link" onClick={() => setPicking((p) => !p)} aria-expanded={picking}>
              {picking ? "Close" : "Choose documents"}
            </button>
          </p>
        )}
      </header>
      {picking && c && (
        <div className="card">
          <ErrorBanner error={update.error} />
          <DocumentPicker
            selected={c.document_ids === "all" ? [] : c.document_ids}
            onChange={(ids) => update.mutate({ id, changes: { document_ids: ids } })}
          />
        </div>
      )}
      <ErrorBanner error={conversation.error ?? messages.error ?? truncate.error} />
      <div className="messages" aria-live="polite">
        {messages.isPending ? (
          <Loading label="Loading messages…" />
        ) : (
          all.map((m) =>
            m.role === "user" ? (
              <UserMessage
                key={m.id}
                message={m}
                onEdit={!streaming && m.id === lastUser?.id ? (content) => void resend(m.id, content) : undefined}
              />
            ) : (
              <AnswerMessage
                key={m.id}
                message={m}
                onRegenerate={
                  !streaming && lastUser && m.id === lastAnswer?.id
                    ? () => void resend(lastUser.id, lastUser.content)
                    : undefined
                }
              />
            ),
          )
        )}
        {turn && showQuestion && (
          <article className="message user" aria-label="You said">
            <p className="user-text">{turn.question}</p>
          </article>
        )}
        {turn && <LiveAnswer text={turn.text} />}
        <div ref={bottom} />
      </div>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <Composer
        draft={draft}
        setDraft={setDraft}
        onSend={onSend}
        onStop={() => void stop()}
        streaming={streaming}
        waiting={queued !== null}
        attachments={attachments}
      />
    </DropZone>
  );
};
