// Model output as Markdown, made safe: raw HTML in the source is shown as text, not parsed; code blocks are
// highlighted; and the HTML that comes out is sanitised by DOMPurify before it reaches the page.
import DOMPurify from "dompurify";
import hljs from "highlight.js/lib/common";
import { Marked } from "marked";

const escapeHtml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    html({ text }) {
      return escapeHtml(text);
    },
    code({ text, lang }) {
      const language = lang && hljs.getLanguage(lang) ? lang : undefined;
      const html = language ? hljs.highlight(text, { language }).value : hljs.highlightAuto(text).value;
      const label = language ? ` data-lang="${escapeHtml(language)}"` : "";
      // The copy button does its work through the click handler of the Markdown component (no inline script).
      return `<div class="code-block"><button type="button" class="copy-code secondary small">Copy code</button><pre class="code"${label}><code class="hljs">${html}</code></pre></div>`;
    },
  },
});

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    const href = node.getAttribute("href") ?? "";
    if (!href.startsWith("/") && !href.startsWith("#")) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer nofollow");
    }
  }
});

/** Markdown to sanitised HTML. */
export const renderMarkdown = (source: string) =>
  DOMPurify.sanitize(marked.parse(source, { async: false }), {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ["style", "form", "input", "img"],
    FORBID_ATTR: ["style"],
  });

/** Highlights code in a given language (or guesses), as sanitised HTML. */
export const highlightCode = (code: string, language?: string) => {
  const html =
    language && hljs.getLanguage(language) ? hljs.highlight(code, { language }).value : hljs.highlightAuto(code).value;
  return DOMPurify.sanitize(html);
};
