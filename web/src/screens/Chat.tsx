import { type FormEvent, type KeyboardEvent, useCallback, useEffect, useRef, useState } from "react";
import { API_BASE, api, type ProblemError, type Schemas, toProblem, unwrap } from "../api/client";
import { Markdown } from "../components/SafeHtml";
import { Empty, ErrorBanner, Loading } from "../components/ui";
import { useAction, useLoad } from "../lib/hooks";
import { navigate } from "../lib/router";
import { type SseEvent, streamSse } from "../lib/sse";

type Message = Schemas["Message"];
type Citation = Schemas["Citation"];

/** Links `[n]` in an answer to the cited document's page. */
const withCitationLinks = (content: string, citations: Citation[] | null | undefined) => {
  if (!citations?.length) return content;
  const byN = new Map(citations.map((c) => [c.n, c]));
  return content.replace(/\[(\d+)\](?!\()/g, (whole, n: string) => {
    const c = byN.get(Number(n));
    return c ? `[\\[${n}\\]](/documents/${encodeURIComponent(c.document_id)}?page=${c.page})` : whole;
  });
};

const MessageView = ({ message }: { message: Message }) => {
  const citations = (message.citations ?? null) as Citation[] | null;
  return (
    <article className={`message ${message.role}`} aria-label={message.role === "user" ? "You said" : "APE answered"}>
      <div className="message-meta">
        <strong>{message.role === "user" ? "You" : "APE"}</strong>
        {message.model_used ? <span className="muted"> · {message.model_used}</span> : null}
        {message.status !== "complete" ? (
          <span className={`badge status-${message.status}`}>{message.status}</span>
        ) : null}
      </div>
      {message.role === "user" ? (
        <p className="user-text">{message.content}</p>
      ) : (
        <Markdown source={withCitationLinks(message.content, citations)} />
      )}
      {message.error ? <p className="error-text">{(message.error as { message?: string }).message}</p> : null}
      {citations && citations.length > 0 && (
        <ol className="citations" aria-label="Citations">
          {citations.map((c) => (
            <li key={c.n} value={c.n}>
              <a href={`/documents/${encodeURIComponent(c.document_id)}?page=${c.page}`}>
                {c.filename}, page {c.page}
              </a>
              <q>{c.quote}</q>
            </li>
          ))}
        </ol>
      )}
    </article>
  );
};

const ConversationList = ({ activeId, refreshKey }: { activeId?: string; refreshKey: number }) => {
  const [q, setQ] = useState("");
  const [query, setQuery] = useState("");
  useEffect(() => {
    const t = setTimeout(() => setQuery(q.trim()), 250);
    return () => clearTimeout(t);
  }, [q]);
  const list = useLoad(
    () => unwrap(api.GET("/chat/conversations", { params: { query: { limit: 50, q: query || undefined } } })),
    [query, refreshKey],
  );
  return (
    <aside className="sidebar" aria-label="Conversations">
      <a className="button" href="/chat">
        New conversation
      </a>
      <label className="search">
        <span className="visually-hidden">Search conversations</span>
        <input type="search" placeholder="Search conversations" value={q} onChange={(e) => setQ(e.target.value)} />
      </label>
      <ErrorBanner error={list.error} />
      {list.loading && !list.data ? (
        <Loading />
      ) : list.data?.items.length ? (
        <ul className="conversation-list">
          {list.data.items.map((c) => (
            <li key={c.id}>
              <a href={`/chat/${c.id}`} aria-current={c.id === activeId ? "page" : undefined}>
                {c.title || "Untitled conversation"}
              </a>
            </li>
          ))}
        </ul>
      ) : (
        <Empty>{query ? `No conversation matches “${query}”.` : "No conversations yet."}</Empty>
      )}
    </aside>
  );
};

const useModels = () =>
  useLoad(async () => {
    const list = await unwrap(api.GET("/openai/models"));
    return list.data.map((m) => m.id);
  }, []);

const useReadyDocuments = () =>
  useLoad(async () => {
    const page = await unwrap(api.GET("/documents", { params: { query: { limit: 100 } } }));
    return page.items.filter((d) => d.status === "ready");
  }, []);

const DocumentPicker = ({ selected, onChange }: { selected: string[]; onChange: (ids: string[]) => void }) => {
  const docs = useReadyDocuments();
  if (docs.loading) return <Loading label="Loading documents…" />;
  if (docs.error) return <ErrorBanner error={docs.error} />;
  if (!docs.data?.length)
    return (
      <p className="muted">
        No ready documents to attach. <a href="/documents">Upload one</a>.
      </p>
    );
  return (
    <fieldset className="checklist">
      <legend>Attach documents</legend>
      {docs.data.map((d) => (
        <label key={d.id} className="check">
          <input
            type="checkbox"
            checked={selected.includes(d.id)}
            onChange={(e) => onChange(e.target.checked ? [...selected, d.id] : selected.filter((id) => id !== d.id))}
          />
          {d.filename}
        </label>
      ))}
    </fieldset>
  );
};

const NewConversation = ({ onCreated }: { onCreated: () => void }) => {
  const models = useModels();
  const { busy, error, run } = useAction();
  const [model, setModel] = useState("auto");
  const [title, setTitle] = useState("");
  const [systemPrompt, setSystemPrompt] = useState("");
  const [documentIds, setDocumentIds] = useState<string[]>([]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const created = await run(() =>
      unwrap(
        api.POST("/chat/conversations", {
          body: {
            model,
            title: title.trim() || undefined,
            system_prompt: systemPrompt.trim() || undefined,
            document_ids: documentIds,
          },
        }),
      ),
    );
    if (created) {
      onCreated();
      navigate(`/chat/${created.id}`);
    }
  };
  return (
    <section className="page narrow">
      <h1>New conversation</h1>
      <form className="stack" onSubmit={submit}>
        <ErrorBanner error={error ?? models.error} />
        <label>
          Title <span className="muted">(optional)</span>
          <input value={title} onChange={(e) => setTitle(e.target.value)} maxLength={255} />
        </label>
        <label>
          Model
          <select value={model} onChange={(e) => setModel(e.target.value)}>
            {(models.data?.length ? models.data : ["auto"]).map((id) => (
              <option key={id} value={id}>
                {id}
              </option>
            ))}
          </select>
        </label>
        {models.data && models.data.length === 0 && (
          <p className="hint">No model provider is configured on this API, so answers will fail until one is.</p>
        )}
        <label>
          Instructions <span className="muted">(optional system prompt)</span>
          <textarea rows={3} value={systemPrompt} onChange={(e) => setSystemPrompt(e.target.value)} />
        </label>
        <DocumentPicker selected={documentIds} onChange={setDocumentIds} />
        <button type="submit" disabled={busy}>
          Start conversation
        </button>
      </form>
    </section>
  );
};

type Streaming = { text: string; userMessage?: Message; turnId?: string };

const ConversationView = ({ id, onChanged }: { id: string; onChanged: () => void }) => {
  const conversation = useLoad(() => unwrap(api.GET("/chat/conversations/{id}", { params: { path: { id } } })), [id]);
  const [messages, setMessages] = useState<Message[] | null>(null);
  const [loadError, setLoadError] = useState<ProblemError | null>(null);
  const [streaming, setStreaming] = useState<Streaming | null>(null);
  const [streamError, setStreamError] = useState<ProblemError | null>(null);
  const [draft, setDraft] = useState("");
  const [attaching, setAttaching] = useState(false);
  const abort = useRef<AbortController | null>(null);
  const bottom = useRef<HTMLDivElement>(null);
  const attach = useAction();

  const loadMessages = useCallback(async () => {
    const all: Message[] = [];
    let cursor: string | undefined;
    do {
      const page = await unwrap(
        api.GET("/chat/conversations/{id}/messages", { params: { path: { id }, query: { limit: 200, cursor } } }),
      );
      all.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    setMessages(all);
    return all;
  }, [id]);

  /** Reads a turn's events, from a send or from a resume, into the live answer. */
  const follow = useCallback(
    async (request: () => Promise<void>) => {
      setStreamError(null);
      setStreaming({ text: "" });
      try {
        await request();
      } catch (e) {
        if (!(e instanceof DOMException && e.name === "AbortError")) setStreamError(toProblem(e));
      } finally {
        abort.current = null;
        setStreaming(null);
        await loadMessages().catch((e) => setLoadError(toProblem(e)));
        onChanged();
      }
    },
    [loadMessages, onChanged],
  );

  const onEvent = useCallback((event: SseEvent) => {
    const data = event.data ? (JSON.parse(event.data) as Record<string, unknown>) : {};
    if (event.event === "message") {
      setStreaming((s) => ({ ...(s ?? { text: "" }), userMessage: data as unknown as Message }));
    } else if (event.event === "delta") {
      setStreaming((s) => ({ ...(s ?? { text: "" }), text: (s?.text ?? "") + String(data.text ?? "") }));
    } else if (event.event === "error") {
      setStreamError(toProblem({ detail: String(data.message ?? "The answer failed."), code: data.code }));
    }
  }, []);

  // On open (and after a reload): if the newest message is the user's, a turn may still be running: resume it.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs once per conversation
  useEffect(() => {
    setMessages(null);
    setLoadError(null);
    let cancelled = false;
    void (async () => {
      try {
        const all = await loadMessages();
        const last = all.at(-1);
        if (cancelled || last?.role !== "user") return;
        const controller = new AbortController();
        abort.current = controller;
        // From the start of the turn: the text streamed before the reload is not kept, so replay it all.
        await follow(() =>
          streamSse(`${API_BASE}/chat/conversations/${encodeURIComponent(id)}/stream`, {}, onEvent, controller.signal),
        ).catch(() => undefined);
      } catch (e) {
        if (!cancelled) setLoadError(toProblem(e));
      }
    })();
    return () => {
      cancelled = true;
      abort.current?.abort();
    };
  }, [id]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll to the newest text whenever it grows
  useEffect(() => {
    bottom.current?.scrollIntoView({ block: "end" });
  }, [messages?.length, streaming?.text]);

  const send = async (e?: FormEvent) => {
    e?.preventDefault();
    const content = draft.trim();
    if (!content || streaming) return;
    setDraft("");
    const optimistic: Message = {
      id: "pending",
      conversation_id: id,
      role: "user",
      content,
      model_used: null,
      tokens_used: null,
      status: "complete",
      finish_reason: null,
      error: null as unknown as Message["error"],
      citations: null,
      created_at: new Date().toISOString(),
    };
    setMessages((m) => [...(m ?? []), optimistic]);
    const controller = new AbortController();
    abort.current = controller;
    await follow(() =>
      streamSse(
        `${API_BASE}/chat/conversations/${encodeURIComponent(id)}/messages`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ content, stream: true }),
        },
        onEvent,
        controller.signal,
      ),
    );
  };

  const stop = async () => {
    try {
      await unwrap(api.POST("/chat/conversations/{id}/cancel", { params: { path: { id } } }));
    } catch (e) {
      setStreamError(toProblem(e));
      abort.current?.abort();
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      void send();
    }
  };

  const conv = conversation.data;
  const attached = conv ? (conv.document_ids === "all" ? "all documents" : `${conv.document_ids.length} attached`) : "";
  return (
    <section className="chat" aria-label="Conversation">
      <div className="chat-header">
        <h1>{conv?.title || "Untitled conversation"}</h1>
        {conv && (
          <p className="muted">
            Model {conv.model} · {attached}{" "}
            <button type="button" className="link" onClick={() => setAttaching((a) => !a)} aria-expanded={attaching}>
              {attaching ? "Close" : "Attach documents"}
            </button>
          </p>
        )}
      </div>
      {attaching && conv && (
        <div className="card">
          <ErrorBanner error={attach.error} />
          <DocumentPicker
            selected={conv.document_ids === "all" ? [] : conv.document_ids}
            onChange={(ids) =>
              void attach.run(async () => {
                await unwrap(
                  api.PATCH("/chat/conversations/{id}", { params: { path: { id } }, body: { document_ids: ids } }),
                );
                await conversation.reload();
              })
            }
          />
        </div>
      )}
      <ErrorBanner error={conversation.error ?? loadError} />
      <div className="messages" aria-live="polite">
        {messages === null ? (
          <Loading label="Loading messages…" />
        ) : messages.length === 0 && !streaming ? (
          <Empty>Say something to start.</Empty>
        ) : (
          messages.map((m) => <MessageView key={m.id} message={m} />)
        )}
        {streaming && (
          <article className="message assistant streaming" aria-label="APE is answering" aria-busy="true">
            <div className="message-meta">
              <strong>APE</strong> <span className="muted">answering…</span>
            </div>
            {streaming.text ? <Markdown source={streaming.text} /> : <Loading label="Thinking…" />}
          </article>
        )}
        <div ref={bottom} />
      </div>
      <ErrorBanner error={streamError} onDismiss={() => setStreamError(null)} />
      <form className="composer" onSubmit={send}>
        <label className="visually-hidden" htmlFor="composer">
          Message
        </label>
        <textarea
          id="composer"
          className="grow"
          rows={2}
          placeholder="Message APE (Enter sends, Shift+Enter for a new line)"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={onKeyDown}
        />
        {streaming ? (
          <button type="button" className="danger" onClick={stop}>
            Stop
          </button>
        ) : (
          <button type="submit" disabled={!draft.trim()}>
            Send
          </button>
        )}
      </form>
    </section>
  );
};

export const Chat = ({ conversationId }: { conversationId?: string }) => {
  const [refreshKey, setRefreshKey] = useState(0);
  const bump = useCallback(() => setRefreshKey((k) => k + 1), []);
  return (
    <div className="with-sidebar">
      <ConversationList activeId={conversationId} refreshKey={refreshKey} />
      {conversationId ? (
        <ConversationView key={conversationId} id={conversationId} onChanged={bump} />
      ) : (
        <NewConversation onCreated={bump} />
      )}
    </div>
  );
};
