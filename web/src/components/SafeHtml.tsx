// The only two places where HTML reaches the page as HTML. Both render from text themselves, so no caller can
// pass unsanitised HTML: Markdown escapes raw HTML in its source and DOMPurify cleans the result; code is
// escaped by highlight.js and cleaned by DOMPurify too.
import { useMemo } from "react";
import { highlightCode, renderMarkdown } from "../lib/markdown";

export const Markdown = ({ source, className, label }: { source: string; className?: string; label?: string }) => {
  const html = useMemo(() => renderMarkdown(source), [source]);
  const body = (
    <div
      className={`markdown${className ? ` ${className}` : ""}`}
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
