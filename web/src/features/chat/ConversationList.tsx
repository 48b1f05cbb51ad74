import { useEffect, useState } from "react";
import { Empty, ErrorBanner, Loading } from "../../components/ui";
import { navigate } from "../../lib/router";
import { type Conversation, useConversations, useDeleteConversation, useUpdateConversation } from "./queries";

const Row = ({ conversation, active }: { conversation: Conversation; active: boolean }) => {
  const rename = useUpdateConversation();
  const remove = useDeleteConversation();
  const [title, setTitle] = useState<string | null>(null);
  const name = conversation.title || "New conversation";
  if (title !== null)
    return (
      <li>
        <form
          className="rename"
          onSubmit={(e) => {
            e.preventDefault();
            rename.mutate({ id: conversation.id, changes: { title: title.trim() || null } });
            setTitle(null);
          }}
        >
          <label className="visually-hidden" htmlFor={`rename-${conversation.id}`}>
            New title for {name}
          </label>
          <input
            id={`rename-${conversation.id}`}
            value={title}
            maxLength={255}
            // biome-ignore lint/a11y/noAutofocus: the person just asked to rename this one
            autoFocus
            onChange={(e) => setTitle(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Escape") setTitle(null);
            }}
          />
          <button type="submit" className="small">
            Save
          </button>
        </form>
      </li>
    );
  return (
    <li className="conversation-row">
      <a href={`/chat/${conversation.id}`} aria-current={active ? "page" : undefined}>
        {name}
      </a>
      <span className="row-actions">
        <button
          type="button"
          className="link"
          aria-label={`Rename ${name}`}
          onClick={() => setTitle(conversation.title ?? "")}
        >
          Rename
        </button>
        <button
          type="button"
          className="link danger-text"
          aria-label={`Delete ${name}`}
          onClick={() => {
            if (!confirm(`Delete “${name}” and all its messages?`)) return;
            remove.mutate(conversation.id, { onSuccess: () => active && navigate("/chat") });
          }}
        >
          Delete
        </button>
      </span>
      <ErrorBanner error={rename.error ?? remove.error} />
    </li>
  );
};

/** The sidebar: a new conversation, search by title, and each conversation with rename and delete. */
export const ConversationList = ({ activeId }: { activeId?: string | undefined }) => {
  const [q, setQ] = useState("");
  const [query, setQuery] = useState("");
  useEffect(() => {
    const t = setTimeout(() => setQuery(q.trim()), 250);
    return () => clearTimeout(t);
  }, [q]);
  const list = useConversations(query);
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
      {list.isPending ? (
        <Loading />
      ) : list.data?.items.length ? (
        <ul className="conversation-list">
          {list.data.items.map((c) => (
            <Row key={c.id} conversation={c} active={c.id === activeId} />
          ))}
        </ul>
      ) : (
        <Empty>{query ? `No conversation matches “${query}”.` : "No conversations yet."}</Empty>
      )}
    </aside>
  );
};
