import { NodeHtmlMarkdown } from "node-html-markdown";
// node-html-markdown's public `translate` takes a string and parses it itself; these two are the halves it is
// made of (its parser with its own settings, and its walk over the tree), so a caller that also needs the tree
// (the web reader: title, description, links) parses a page once. The version is pinned in package.json.
import { parseHTML } from "node-html-markdown/dist/utilities.js";
import { getMarkdownForHtmlNodes } from "node-html-markdown/dist/visitor.js";
import type { HTMLElement } from "node-html-parser";
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
 * HTML parsed into a node-html-parser tree, with the settings the Markdown conversion expects (tag names
 * lowercased, comments, scripts and styles dropped). Query it for what you need, then hand it to
 * {@link htmlTreeToMarkdown}; the conversion only reads the tree.
 * @example
 * const root = parseHtml(html);
 * const title = root.querySelector("title")?.text;
 * const markdown = htmlTreeToMarkdown(root);
 */
export const parseHtml = (html: string): HTMLElement => parseHTML(html, converter.options) as HTMLElement;

/**
 * A tree from {@link parseHtml} as Markdown: headings, lists, tables and links kept, scripts, styles and
 * navigation dropped.
 * @example
 * htmlTreeToMarkdown(parseHtml("<h1>Title</h1><p>Body</p>")) // "# Title\n\nBody"
 */
export const htmlTreeToMarkdown = (root: HTMLElement): string =>
  normaliseText(getMarkdownForHtmlNodes(converter, root)).trim();

/**
 * HTML as Markdown: headings, lists, tables and links kept, scripts, styles and navigation dropped.
 * @example
 * htmlToMarkdown("<h1>Title</h1><script>x()</script><p>Body</p>") // "# Title\n\nBody"
 */
export const htmlToMarkdown = (html: string): string => htmlTreeToMarkdown(parseHtml(html));
