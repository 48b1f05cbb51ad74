// The only two places where HTML reaches the page as HTML. Both render from text themselves, so no caller can
// pass unsanitised HTML: Markdown escapes raw HTML in its source and DOMPurify cleans the result; code is
// escaped by highlight.js and cleaned by DOMPurify too.
import { type MouseEvent, useMemo } from "react";
import { copyText } from "../lib/clipboard";
import { highlightCode, renderMarkdown } from "../lib/markdown";

/** A code block's "Copy code" button (rendered into the Markdown's HTML) copies that block's code. */
const onCopyCode = (event: MouseEvent<HTMLDivElement>) => {
  const button = (event.target as Element).closest("button.copy-code");
  const code = button?.parentElement?.querySelector("pre code")?.textContent;
  if (!button || code == null) return;
  void copyText(code).then((ok) => {
    button.textContent = ok ? "Copied" : "Copy failed";
    setTimeout(() => {
      button.textContent = "Copy code";
    }, 1500);
  });
};

export const Markdown = ({ source, className, label }: { source: string; className?: string; label?: string }) => {
  const html = useMemo(() => renderMarkdown(source), [source]);
  const body = (
    // biome-ignore lint/a11y/useKeyWithClickEvents: the click handler only serves the real buttons inside, which keyboards reach
    // biome-ignore lint/a11y/noStaticElementInteractions: as above: the buttons inside are the interactive elements
    <div
      className={`markdown${className ? ` ${className}` : ""}`}
      onClick={onCopyCode}
      // biome-ignore lint/security/noDangerouslySetInnerHtml: renderMarkdown escapes raw HTML and sanitises with DOMPurify
      dangerouslySetInnerHTML={{ __html: html }}
    />
  );
  return label ? <section aria-label={label}>{body}</section> : body;
};

export const HighlightedCode = ({ code, language }: { code: string; language?: string }) => {
  const html = useMemo(() => highlightCode(code, language), [code, language]);
  return (
    <pre className="code">
      {/* biome-ignore lint/security/noDangerouslySetInnerHtml: highlight.js escapes the code; DOMPurify sanitises it */}
      <code className="hljs" dangerouslySetInnerHTML={{ __html: html }} />
    </pre>
  );
};
