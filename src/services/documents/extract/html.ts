import { NodeHtmlMarkdown } from "node-html-markdown";
import { normaliseText } from "./text.js";

/**
 * Elements whose content is noise in a document's text: code, styling, navigation and embedded objects.
 * node-html-markdown already drops script, style, head and a few void elements; these come on top.
 */
const noise = ["script", "style", "noscript", "template", "nav", "iframe", "svg", "canvas", "object", "embed"];

/**
 * The converter, built once: it lives as long as the isolate and holds no per-document state.
 */
const converter = new NodeHtmlMarkdown({ ignore: noise, keepDataImages: false, maxConsecutiveNewlines: 2 });

/**
 * HTML as Markdown: headings, lists, tables and links kept, scripts, styles and navigation dropped.
 * @example
 * htmlToMarkdown("<h1>Title</h1><script>x()</script><p>Body</p>") // "# Title\n\nBody"
 */
export const htmlToMarkdown = (html: string): string => normaliseText(converter.translate(html)).trim();
