import { useState } from "react";
import { Markdown } from "../../components/SafeHtml";
import { CopyButton } from "./CopyButton";
import { type Citation, citationHref, withCitationLinks } from "./citations";
import type { Message } from "./queries";

const Citations = ({ citations }: { citations: Citation[] }) => (
  <ol className="citations" aria-label="Citations">
    {citations.map((c) => (
      <li key={c.n} value={c.n}>
        <a href={citationHref(c)}>
          {c.filename}, page {c.page}
        </a>
        <q>{c.quote}</q>
      </li>
    ))}
  </ol>
);

/** The answer's model and tokens, quietly. */
const Details = ({ message }: { message: Message }) => (
  <span className="message-details muted">
    {[message.model_used, message.tokens_used ? `${message.tokens_used} tokens` : null].filter(Boolean).join(" · ")}
  </span>
);

/** A user message: its text, and for the last one an editor to change it and send it again. */
export const UserMessage = ({
  message,
  onEdit,
}: {
  message: Message;
  onEdit?: ((content: string) => void) | undefined;
}) => {
  const [editing, setEditing] = useState<string | null>(null);
  return (
    <article className="message user" aria-label="You said">
      {editing === null ? (
        <>
          <p className="user-text">{message.content}</p>
          <div className="message-actions">
            <CopyButton text={message.content} />
            {onEdit && (
              <button type="button" className="link" onClick={() => setEditing(message.content)}>
                Edit
              </button>
            )}
          </div>
        </>
      ) : (
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            if (!editing.trim()) return;
            onEdit?.(editing.trim());
            setEditing(null);
          }}
        >
          <label>
            Edit your message
            <textarea rows={3} value={editing} onChange={(e) => setEditing(e.target.value)} />
          </label>
          <div className="row">
            <button type="submit" disabled={!editing.trim()}>
              Send again
            </button>
            <button type="button" className="secondary" onClick={() => setEditing(null)}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </article>
  );
};

/** An answer: Markdown with linked citations, copy, regenerate (the last one), its model and tokens. */
export const AnswerMessage = ({
  message,
  onRegenerate,
}: {
  message: Message;
  onRegenerate?: (() => void) | undefined;
}) => {
  const citations = (message.citations ?? null) as Citation[] | null;
  return (
    <article className="message assistant" aria-label="APE answered">
      {message.status !== "complete" ? (
        <span className={`badge status-${message.status}`}>{message.status}</span>
      ) : null}
      <Markdown source={withCitationLinks(message.content, citations)} />
      {message.error ? <p className="error-text">{(message.error as { message?: string }).message}</p> : null}
      {citations && citations.length > 0 && <Citations citations={citations} />}
      <div className="message-actions">
        <CopyButton text={message.content} />
        {onRegenerate && (
          <button type="button" className="link" onClick={onRegenerate}>
            Regenerate
          </button>
        )}
        <Details message={message} />
      </div>
    </article>
  );
};

/** The answer while it streams. */
export const LiveAnswer = ({ text }: { text: string }) => (
  <article className="message assistant streaming" aria-label="APE is answering" aria-busy="true">
    {text ? <Markdown source={text} /> : <p className="muted">Thinking…</p>}
  </article>
);
