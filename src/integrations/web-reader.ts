import type { HTMLElement } from "node-html-parser";
import robotsParser from "robots-parser";
import { z } from "zod";
import { compileUserPattern, type UserPattern } from "../lib/user-pattern.js";
import { htmlTreeToMarkdown, parseHtml } from "../services/documents/extract/html.js";
import { type SafeFetch, SafeFetchError, type SafeFetchErrorCode, type SafeResponse } from "./safe-fetch.js";

/**
 * One page as the reader read it, shaped like a Firecrawl document's fields: `url` is where it ended up (after
 * redirects), `requestedUrl` the URL asked for; `status` is the page's own HTTP status, always a 2xx: a page
 * that answers another is not read (see {@link SkipReason} `status`), unlike Firecrawl's scrape, which hands
 * back a 404 page as a document, so that no caller takes an error page for content. `links` are absolute,
 * de-duplicated and without fragments, every link of the page in document order (`<a>`, `<area>`, and
 * `<link rel=next|prev>`); `html` is null for a page that was not HTML (plain text, Markdown).
 * @example
 * const page: WebPage = { url: "https://example.com/pricing", requestedUrl: "https://example.com/pricing", status: 200, contentType: "text/html", title: "Pricing", description: null, markdown: "# Pricing\n\n…", html: "<!doctype html>…", links: ["https://example.com/"], fetchedAt: "2026-11-20T10:00:00.000Z" };
 */
export type WebPage = {
  url: string;
  requestedUrl: string;
  status: number;
  contentType: string;
  title: string | null;
  description: string | null;
  markdown: string;
  html: string | null;
  links: string[];
  fetchedAt: string;
};

/**
 * The largest page the reader reads: a crawl keeps its pages (and their parsed forms) while it works on them,
 * and an isolate's 128 MB serves every request in it. Larger is skipped as `too_large`.
 */
export const PAGE_MAX_BYTES = 2 * 1024 * 1024;

/**
 * Why a page was not read:
 * - `robots`: robots.txt disallows it for the reader's user agent, or could not be read for a server error
 *   (RFC 9309: assume everything is disallowed), or asks for a Crawl-delay longer than the reader waits;
 * - `status`: the page answered a status outside 2xx (after redirects), `retryable` for 429 and 5xx;
 * - `content_type`: neither HTML nor text; `too_large`: a body over the safe fetch's limit;
 * - `address_not_allowed`: the URL, or a redirect on the way, points inside (see safe-fetch.ts);
 * - `invalid_url`: not an http(s) URL, credentials in it, or a redirect to one;
 * - `too_many_redirects`, `timeout`, `network`, `dns_failed`: as the safe fetch's codes of those names.
 */
export type SkipReason =
  | "robots"
  | "status"
  | "content_type"
  | "too_large"
  | "address_not_allowed"
  | "invalid_url"
  | "too_many_redirects"
  | "timeout"
  | "network"
  | "dns_failed";

/**
 * A page a crawl did not read. `detail` names the host and the reason (never the URL's path or query: those
 * are in `url`, the caller's own); `retryable` says whether the same URL may succeed later; `status` is the
 * page's HTTP status when it answered one.
 * @example
 * const skipped: SkippedPage = { url: "https://example.com/admin", skipped: true, reason: "robots", detail: "robots.txt of example.com disallows this path for ape", retryable: false, status: null };
 */
export type SkippedPage = {
  url: string;
  skipped: true;
  reason: SkipReason;
  detail: string;
  retryable: boolean;
  status: number | null;
};

/**
 * What a crawl came to: its generator's return value, the `value` of the `next()` that says `done` (a
 * `for await` loop drops it; read the generator with `next()` to see it). `truncated` is true when the crawl
 * stopped at `maxPages` with URLs still waiting: `remaining` of them, not counting the links those pages
 * would have led to. A crawl that is not truncated followed every link within its bounds to the end.
 * @example
 * const summary: CrawlSummary = { finished: true, truncated: true, remaining: 12, pagesRead: 49, pagesSkipped: 1 };
 */
export type CrawlSummary = {
  finished: true;
  truncated: boolean;
  remaining: number;
  pagesRead: number;
  pagesSkipped: number;
};

/** Progress so far, handed to a crawl's `onPage` with each page: `queued` URLs wait to be read. */
export type CrawlProgress = { pagesRead: number; pagesSkipped: number; queued: number };

/**
 * Where a crawl may go. `maxPages` (1 to 500) counts every page yielded, skipped ones included, the start
 * page too; `maxDepth` (0 to 10) counts links from the start page (0: the start page only).
 * `includePaths` / `excludePaths` are tested against each discovered link's path (never the start page's).
 * A pattern is a glob when it has `**`, or a `*` at its start or right after a `/` (`/docs/*`, `/blog/**`):
 * `*` stands for any characters but `/`, `**` for any at all, a final `/**` also matches the folder itself
 * (`/docs/**` matches `/docs`, `/docs/` and `/docs/a/b`), and a glob must match the whole path. Any other
 * pattern is a regular expression, as Firecrawl's are, that may match anywhere in the path: `/private/`
 * matches every path with `/private/` in it, `^/docs/` only those that start so. A link must match one
 * include (when there are any) and no exclude. `sameSiteOnly` (default true) keeps the crawl to the start
 * page's host (and port) and the subdomains of its name.
 * @example
 * const bounds: CrawlBounds = { maxPages: 50, maxDepth: 2, includePaths: ["/docs/**"], excludePaths: ["^/docs/archive/"] };
 */
export const CrawlBounds = z.object({
  maxPages: z.number().int().min(1).max(500),
  maxDepth: z.number().int().min(0).max(10),
  includePaths: z.array(z.string().min(1).max(500)).max(100).optional(),
  excludePaths: z.array(z.string().min(1).max(500)).max(100).optional(),
  sameSiteOnly: z.boolean().default(true),
});
export type CrawlBounds = z.input<typeof CrawlBounds>;

/**
 * A page that could not be read, from {@link WebReader.read}; `reason` is the {@link SkipReason} a crawl
 * would have given. The message names the host, never the URL's path or query.
 * @example
 * try {
 *   await reader.read(userUrl);
 * } catch (error) {
 *   if (error instanceof WebReadError) return { error: error.message, retry: error.retryable };
 *   throw error;
 * }
 */
export class WebReadError extends Error {
  readonly reason: SkipReason;
  readonly retryable: boolean;
  readonly status: number | null;

  constructor(
    reason: SkipReason,
    message: string,
    options: { retryable?: boolean; status?: number | null; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "WebReadError";
    this.reason = reason;
    this.retryable = options.retryable ?? false;
    this.status = options.status ?? null;
  }
}

/**
 * APE's own web reader (see {@link createWebReader}).
 * @example
 * const page = await reader.read("https://example.com/pricing");
 * const crawl = reader.crawl("https://example.com/docs/", { maxPages: 50, maxDepth: 3 });
 * for (let next = await crawl.next(); ; next = await crawl.next()) {
 *   if (next.done) {
 *     console.log(next.value.truncated ? `${next.value.remaining} pages left unread` : "all read");
 *     break;
 *   }
 *   if ("skipped" in next.value) console.log("skipped", next.value.url, next.value.reason);
 *   else console.log(next.value.title);
 * }
 */
export type WebReader = {
  /** One page; throws a {@link WebReadError} when it cannot be read (robots.txt, a non-2xx status, …). */
  read(url: string): Promise<WebPage>;
  /**
   * A breadth-first crawl from `start` within `bounds`, yielding each page as it is read (a page that fails
   * is yielded as a {@link SkippedPage}, never thrown), and returning a {@link CrawlSummary}. Throws at once,
   * before any request, for a start URL that is not http(s) or bounds out of range (a ZodError, or the
   * SyntaxError of an invalid regular expression). `onPage` is awaited with each page before it is
   * yielded, for callers that report progress.
   */
  crawl(
    start: string,
    bounds: CrawlBounds,
    onPage?: (item: WebPage | SkippedPage, progress: CrawlProgress) => void | Promise<void>,
  ): AsyncGenerator<WebPage | SkippedPage, CrawlSummary, undefined>;
};

export type WebReaderOptions = {
  safeFetch: SafeFetch;
  /** Sent with every request; its product token (before the first `/`) is what robots.txt groups match. */
  userAgent?: string;
  /** The least time between two requests to one host (default 1000 ms); a larger Crawl-delay wins. */
  perHostIntervalMs?: number;
  /** Each request, redirects apart (each hop has its own); the safe fetch's default (15 s) otherwise. */
  timeoutMs?: number;
};

/** The user agent sent when the reader is given none; robots.txt groups for `APE` apply to it. */
export const DEFAULT_USER_AGENT = "APE/1.0 (+https://github.com/ape)";

// What a page may be; anything else (a PDF, an image) is for document extraction, not the reader.
const PAGE_TYPES = ["text/html", "application/xhtml+xml", "text/plain", "text/markdown"];
const HTML_TYPES = new Set(["text/html", "application/xhtml+xml"]);
const ACCEPT = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,text/markdown;q=0.8";
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
// As the safe fetch's own default, and RFC 9309's "at least five" for robots.txt.
const MAX_REDIRECTS = 5;
// RFC 9309 §2.5: a parsing limit must be at least 500 KiB. A larger file is refused whole by the safe fetch,
// which counts as unreachable (disallow): a site that big has rules we would otherwise read half of.
const ROBOTS_MAX_BYTES = 512 * 1024;
// A Crawl-delay over this is not waited out (a hostile robots.txt could hold a crawl for days): the host's
// pages are skipped with reason `robots` instead, which honours the site's wish and keeps the reader moving.
const MAX_CRAWL_DELAY_MS = 30_000;
// Links to these are not queued by a crawl: the reader cannot turn them into text, and each would cost a
// request and a turn of the host's interval. (PDFs are queued: a skipped `content_type` tells the caller
// where one is, for document extraction.)
const NOT_PAGES =
  /\.(?:png|jpe?g|gif|webp|avif|svg|ico|bmp|tiff?|css|js|mjs|map|woff2?|ttf|otf|eot|mp[34]|m4a|wav|ogg|webm|mov|avi|zip|gz|tgz|bz2|xz|7z|rar|dmg|exe|msi|iso|apk)$/i;

const SKIP_REASONS: Record<SafeFetchErrorCode, SkipReason> = {
  INVALID_URL: "invalid_url",
  SCHEME_NOT_ALLOWED: "invalid_url",
  ADDRESS_NOT_ALLOWED: "address_not_allowed",
  DNS_FAILED: "dns_failed",
  TOO_MANY_REDIRECTS: "too_many_redirects",
  TOO_LARGE: "too_large",
  TIMEOUT: "timeout",
  CONTENT_TYPE_NOT_ALLOWED: "content_type",
  NETWORK: "network",
};

type Refusal = { reason: SkipReason; detail: string; retryable: boolean };
type Robots =
  | { kind: "rules"; isAllowed: (url: string) => boolean; crawlDelayMs: number }
  | { kind: "allow_all" }
  | ({ kind: "disallow_all" } & Refusal);

const isHttp = (url: URL) => url.protocol === "http:" || url.protocol === "https:";

/** A URL given to the reader, or a WebReadError thrown at once, before any request. */
const parseStart = (url: string): URL => {
  const parsed = URL.parse(url);
  if (!parsed || !isHttp(parsed)) {
    throw new WebReadError("invalid_url", "The URL is not a valid absolute http: or https: URL");
  }
  parsed.hash = "";
  return parsed;
};

/**
 * The key a crawl de-duplicates by: URL has already lowercased the host and dropped a default port; the
 * fragment and an empty `?` go, and a trailing slash (but the root's). The query stays, as it is.
 */
const canonicalKey = (url: URL): string => {
  const copy = new URL(url.href);
  copy.hash = "";
  if (!copy.search) copy.search = "";
  if (copy.pathname.length > 1 && copy.pathname.endsWith("/")) {
    copy.pathname = copy.pathname.replace(/\/+$/, "") || "/";
  }
  return copy.href;
};

/** A glob has `**`, or a `*` where a regular expression would never put one on purpose (`/*` is "any slashes"). */
const isGlob = (pattern: string) => pattern.includes("**") || /(?:^|\/)\*/.test(pattern);

/**
 * A path pattern of {@link CrawlBounds}, compiled for a linear-time engine (a user's pattern must never
 * backtrack); an invalid one, or one RE2 cannot run, throws.
 */
const compilePathPattern = (pattern: string): UserPattern => {
  if (!isGlob(pattern)) return compileUserPattern(pattern);
  const glob = pattern.startsWith("/") ? pattern : `/${pattern}`;
  const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const folder = glob.endsWith("/**");
  const body = folder ? glob.slice(0, -3) : glob;
  const source = body
    .split("**")
    .map((part) => part.split("*").map(escapeRegex).join("[^/]*"))
    .join(".*");
  return compileUserPattern(`^${source}${folder ? "(?:/.*)?" : ""}$`);
};

const collapse = (text: string) => text.replace(/\s+/g, " ").trim();

/** Every link of the page, resolved against its `<base href>` (or its own URL), http(s) only, no fragments. */
const linksOf = (root: HTMLElement, pageUrl: string): string[] => {
  const baseHref = root.querySelector("base[href]")?.getAttribute("href");
  const base = (baseHref && URL.parse(baseHref, pageUrl)?.href) || pageUrl;
  const links = new Set<string>();
  for (const element of root.querySelectorAll("a[href], area[href], link[href]")) {
    if (element.tagName === "LINK") {
      const rel = (element.getAttribute("rel") ?? "").toLowerCase().split(/\s+/);
      if (!rel.some((token) => token === "next" || token === "prev" || token === "previous")) continue;
    }
    const href = element.getAttribute("href")?.trim();
    // A bare fragment is a place on this page, not another page.
    if (!href || href.startsWith("#")) continue;
    const url = URL.parse(href, base);
    if (!url || !isHttp(url)) continue;
    url.hash = "";
    links.add(url.href);
  }
  return [...links];
};

const mediaTypeOf = (contentType: string | null) => contentType?.split(";")[0]?.trim().toLowerCase() ?? "";

const pageOf = (requestedUrl: string, response: SafeResponse): WebPage => {
  const contentType = mediaTypeOf(response.headers.get("content-type"));
  const text = response.text();
  const fetchedAt = new Date().toISOString();
  const base = { url: response.url, requestedUrl, status: response.status, contentType, fetchedAt };
  if (!HTML_TYPES.has(contentType)) {
    return { ...base, title: null, description: null, markdown: text.trim(), html: null, links: [] };
  }
  // One parse a page: the title, description and links are read from the tree the Markdown is made from.
  const root = parseHtml(text);
  const title = collapse(root.querySelector("title")?.text ?? "");
  const description = collapse(root.querySelector('meta[name="description"]')?.getAttribute("content") ?? "");
  return {
    ...base,
    title: title || null,
    description: description || null,
    links: linksOf(root, response.url),
    markdown: htmlTreeToMarkdown(root),
    html: text,
  };
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * APE's built-in web reader, for extraction and research when Firecrawl is not configured: pages as Markdown
 * with their links, and bounded breadth-first crawls. Every request goes through `safeFetch` (each redirect
 * hop too, followed here so that each is checked against robots.txt and spaced like any other request).
 *
 * Politeness, per reader: robots.txt is read once per origin and kept for the reader's life (RFC 9309: a 4xx
 * answer allows everything, a 5xx or an unreachable file disallows everything; 429 is taken as unreachable,
 * as Google does, since it means the site wants fewer requests); pages it disallows for `userAgent` are never
 * requested. Requests to one host (host and port) start at least `perHostIntervalMs` apart, or the host's
 * Crawl-delay if longer: later ones wait their turn, none is dropped. This spacing lives in the reader, so in
 * one isolate: two readers, or two isolates (two requests, two queue consumers), each keep their own pace.
 * @example
 * const reader = createWebReader({ safeFetch: safeFetchFromEnv(env) });
 * const page = await reader.read("https://example.com/pricing");
 * console.log(page.title, page.markdown.slice(0, 200), page.links.length);
 */
export const createWebReader = (options: WebReaderOptions): WebReader => {
  const { safeFetch, userAgent = DEFAULT_USER_AGENT, perHostIntervalMs = 1000, timeoutMs } = options;
  const agentToken = (userAgent.split("/")[0] ?? userAgent).trim().toLowerCase();
  const headers = { "user-agent": userAgent, accept: ACCEPT };
  // Both live as long as the reader: robots.txt by origin (the promise, so concurrent reads share one fetch),
  // and the start of the latest request booked for each host.
  const robotsByOrigin = new Map<string, Promise<Robots>>();
  const lastRequestAt = new Map<string, number>();

  /** Books the host's next turn at once (so concurrent callers queue up) and waits for it. */
  const waitTurn = async (host: string, intervalMs: number) => {
    const now = Date.now();
    const last = lastRequestAt.get(host);
    const at = last === undefined ? now : Math.max(now, last + intervalMs);
    lastRequestAt.set(host, at);
    if (at > now) await sleep(at - now);
  };

  const fetchRobots = async (origin: URL): Promise<Robots> => {
    const robotsUrl = `${origin.origin}/robots.txt`;
    const host = origin.hostname;
    await waitTurn(origin.host, perHostIntervalMs);
    let response: SafeResponse;
    try {
      // Any content type: robots.txt is often served as something other than text/plain.
      response = await safeFetch.fetch(robotsUrl, {
        headers,
        allowContentTypes: null,
        maxBytes: ROBOTS_MAX_BYTES,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      });
    } catch (error) {
      if (!(error instanceof SafeFetchError)) throw error;
      // RFC 9309 §2.3.1.2: past five redirects the file may be taken as unavailable, which allows everything.
      if (error.code === "TOO_MANY_REDIRECTS") return { kind: "allow_all" };
      // A host refused outright says so as it is; one that did not answer is not read until it does.
      const refused = error.code === "ADDRESS_NOT_ALLOWED" || error.code === "INVALID_URL";
      return {
        kind: "disallow_all",
        reason: SKIP_REASONS[error.code],
        detail: refused
          ? error.message
          : `robots.txt of ${host} could not be read, so nothing there is: ${error.message}`,
        retryable: error.retryable,
      };
    }
    const { status } = response;
    if (status === 429 || status >= 500) {
      return {
        kind: "disallow_all",
        reason: "robots",
        detail: `robots.txt of ${host} answered ${status}; until it can be read, nothing there is (RFC 9309)`,
        retryable: true,
      };
    }
    if (status < 200 || status >= 300) return { kind: "allow_all" };
    const rules = robotsParser(robotsUrl, response.text());
    const delaySeconds = rules.getCrawlDelay(userAgent);
    return {
      kind: "rules",
      // undefined only for a URL of another origin, which this origin's rules do not govern.
      isAllowed: (url) => rules.isAllowed(url, userAgent) !== false,
      crawlDelayMs: delaySeconds !== undefined && delaySeconds > 0 ? delaySeconds * 1000 : 0,
    };
  };

  const robotsFor = (url: URL) => {
    let robots = robotsByOrigin.get(url.origin);
    if (!robots) {
      robots = fetchRobots(url);
      robotsByOrigin.set(url.origin, robots);
    }
    return robots;
  };

  /**
   * The page at `requested`, each hop checked against robots.txt and spaced; a failure as a value. null when
   * a redirect leads to a URL that `alreadyRead` says was read (a crawl need not fetch a page twice).
   */
  const fetchPage = async (
    requested: URL,
    alreadyRead: (url: URL) => boolean = () => false,
  ): Promise<WebPage | SkippedPage | null> => {
    const skip = (refusal: Refusal, status: number | null = null): SkippedPage => ({
      url: requested.href,
      skipped: true,
      ...refusal,
      status,
    });
    let current = requested;
    for (let hop = 0; ; hop++) {
      const host = current.hostname;
      const robots = await robotsFor(current);
      if (robots.kind === "disallow_all") {
        return skip({ reason: robots.reason, detail: robots.detail, retryable: robots.retryable });
      }
      let intervalMs = perHostIntervalMs;
      if (robots.kind === "rules") {
        if (!robots.isAllowed(current.href)) {
          return skip({
            reason: "robots",
            detail: `robots.txt of ${host} disallows this path for ${agentToken}`,
            retryable: false,
          });
        }
        if (robots.crawlDelayMs > MAX_CRAWL_DELAY_MS) {
          return skip({
            reason: "robots",
            detail: `robots.txt of ${host} asks for a Crawl-delay of ${robots.crawlDelayMs / 1000} s; the reader waits at most ${MAX_CRAWL_DELAY_MS / 1000} s`,
            retryable: false,
          });
        }
        intervalMs = Math.max(intervalMs, robots.crawlDelayMs);
      }
      await waitTurn(current.host, intervalMs);
      let response: SafeResponse;
      try {
        response = await safeFetch.fetch(current.href, {
          headers,
          maxRedirects: 0,
          allowContentTypes: PAGE_TYPES,
          maxBytes: PAGE_MAX_BYTES,
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
        });
      } catch (error) {
        // The safe fetch classifies every failure it meets; anything else is a bug, and is thrown as one.
        if (!(error instanceof SafeFetchError)) throw error;
        return skip({ reason: SKIP_REASONS[error.code], detail: error.message, retryable: error.retryable });
      }
      const { status } = response;
      const location = response.headers.get("location");
      if (!REDIRECT_STATUSES.has(status) || location === null) {
        if (status >= 200 && status < 300) return pageOf(requested.href, response);
        return skip(
          { reason: "status", detail: `${host} answered ${status}`, retryable: status === 429 || status >= 500 },
          status,
        );
      }
      if (hop >= MAX_REDIRECTS) {
        return skip({
          reason: "too_many_redirects",
          detail: `${host} redirected more than ${MAX_REDIRECTS} times`,
          retryable: false,
        });
      }
      const next = URL.parse(location, current.href);
      if (!next || !isHttp(next)) {
        return skip({
          reason: "invalid_url",
          detail: `${host} redirected to a URL that is not http: or https:`,
          retryable: false,
        });
      }
      next.hash = "";
      if (alreadyRead(next)) return null;
      current = next;
    }
  };

  return {
    async read(url) {
      const result = await fetchPage(parseStart(url));
      // Without `alreadyRead`, fetchPage always comes back with a page or a skip.
      if (!result) throw new Error("The reader lost a page");
      if ("skipped" in result) {
        throw new WebReadError(result.reason, result.detail, { retryable: result.retryable, status: result.status });
      }
      return result;
    },

    crawl(start, bounds, onPage) {
      const startUrl = parseStart(start);
      const limits = CrawlBounds.parse(bounds);
      const include = (limits.includePaths ?? []).map(compilePathPattern);
      const exclude = (limits.excludePaths ?? []).map(compilePathPattern);
      const inBounds = (url: URL) => {
        if (NOT_PAGES.test(url.pathname)) return false;
        const sameSite =
          (url.hostname === startUrl.hostname && url.port === startUrl.port) ||
          url.hostname.endsWith(`.${startUrl.hostname}`);
        if (limits.sameSiteOnly && !sameSite) return false;
        if (include.length > 0 && !include.some((pattern) => pattern.test(url.pathname))) return false;
        return !exclude.some((pattern) => pattern.test(url.pathname));
      };

      const run = async function* (): AsyncGenerator<WebPage | SkippedPage, CrawlSummary, undefined> {
        // The frontier, read from `head` on; `seen` holds every key queued, `done` every key read (a
        // redirect can land on a page that waits in the queue, or that was read already).
        const queue = [{ url: startUrl, key: canonicalKey(startUrl), depth: 0 }];
        const seen = new Set([canonicalKey(startUrl)]);
        const done = new Set<string>();
        let head = 0;
        let pagesRead = 0;
        let pagesSkipped = 0;
        while (pagesRead + pagesSkipped < limits.maxPages) {
          const entry = queue[head];
          if (!entry) break;
          head += 1;
          if (done.has(entry.key)) continue;
          done.add(entry.key);
          const item = await fetchPage(entry.url, (url) => done.has(canonicalKey(url)));
          if (!item) continue;
          if ("skipped" in item) {
            pagesSkipped += 1;
          } else {
            // Where a redirect ended counts as read too (fetchPage stopped before any page read already).
            const finalKey = canonicalKey(new URL(item.url));
            done.add(finalKey);
            seen.add(finalKey);
            pagesRead += 1;
            if (entry.depth < limits.maxDepth) {
              for (const link of item.links) {
                const url = new URL(link);
                const key = canonicalKey(url);
                if (seen.has(key) || !inBounds(url)) continue;
                seen.add(key);
                queue.push({ url, key, depth: entry.depth + 1 });
              }
            }
          }
          await onPage?.(item, { pagesRead, pagesSkipped, queued: queue.length - head });
          yield item;
        }
        const remaining = queue.slice(head).filter((entry) => !done.has(entry.key)).length;
        return { finished: true, truncated: remaining > 0, remaining, pagesRead, pagesSkipped };
      };
      return run();
    },
  };
};
