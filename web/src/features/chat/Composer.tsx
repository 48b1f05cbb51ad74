import { type FormEvent, type KeyboardEvent, type ReactNode, useRef } from "react";
import { Progress } from "../../components/ui";
import type { Attachments } from "./useAttachments";

/**
 * The "Message APE" box: Enter sends, Shift+Enter starts a new line; files are picked here or dropped on the
 * conversation; Stop while an answer streams. A send made while attachments are still being read waits for
 * them (`waiting`).
 */
export const Composer = ({
  draft,
  setDraft,
  onSend,
  onStop,
  streaming,
  waiting,
  attachments,
  options,
}: {
  draft: string;
  setDraft: (text: string) => void;
  onSend: () => void;
  onStop?: () => void;
  streaming: boolean;
  waiting: boolean;
  attachments: Attachments;
  options?: ReactNode;
}) => {
  const picker = useRef<HTMLInputElement>(null);
  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    if (draft.trim() && !streaming && !waiting) onSend();
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  };
  return (
    <form className="composer" onSubmit={submit}>
      {attachments.attachments.length > 0 && (
        <ul className="attachments" aria-label="Attached files">
          {attachments.attachments.map((a) => (
            <li key={a.key} className={`attachment ${a.status}`}>
              <span className="attachment-name">{a.name}</span>
              {a.status === "uploading" ? (
                <Progress value={a.fraction * 100} label={`Uploading ${a.name}`} />
              ) : (
                <span className="muted" role="status">
                  {a.status === "processing" ? "reading…" : a.status === "ready" ? "ready" : `failed: ${a.message}`}
                </span>
              )}
              <button
                type="button"
                className="link"
                aria-label={`Remove ${a.name}`}
                onClick={() => attachments.remove(a.key)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <label className="visually-hidden" htmlFor="composer">
        Message APE
      </label>
      <textarea
        id="composer"
        className="grow"
        rows={2}
        placeholder="Message APE"
        aria-describedby="composer-hint"
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        onKeyDown={onKeyDown}
      />
      <div className="composer-bar">
        <input
          ref={picker}
          id="composer-files"
          type="file"
          multiple
          className="visually-hidden"
          onChange={(e) => {
            attachments.add(e.target.files);
            e.target.value = "";
          }}
        />
        <label htmlFor="composer-files" className="button secondary small">
          Attach files
        </label>
        {options}
        <span id="composer-hint" className="muted grow">
          {waiting ? "Waiting for the files to be ready…" : "Enter sends, Shift+Enter for a new line"}
        </span>
        {streaming ? (
          <button type="button" className="danger" onClick={onStop}>
            Stop
          </button>
        ) : (
          <button type="submit" disabled={!draft.trim() || waiting}>
            Send
          </button>
        )}
      </div>
    </form>
  );
};
