import { z } from "zod";
import type { Env } from "../env.js";

/**
 * What Firecrawl reports about a page it fetched. `sourceURL` is the URL as asked, `url` where it ended up
 * (after redirects); `statusCode` is the page's own HTTP status (a 404 page is a document, not a failure).
 * @example
 * const metadata: FirecrawlMetadata = { title: "Pricing", description: null, sourceURL: "https://example.com/pricing", url: "https://example.com/pricing", statusCode: 200 };
 */
export type FirecrawlMetadata = {
  title: string | null;
  description: string | null;
  sourceURL: string;
  url: string;
  statusCode: number;
};

/**
 * One page as Firecrawl read it: each format is null when it was not asked for. `links` are absolute URLs,
 * every link of the page (not only of its main content).
 * @example
 * const page: FirecrawlDocument = { markdown: "# Pricing\n\n…", html: null, links: ["https://example.com/"], metadata };
 */
export type FirecrawlDocument = {
  markdown: string | null;
  html: string | null;
  links: string[] | null;
  metadata: FirecrawlMetadata;
};

/** The formats APE asks Firecrawl for. */
export type FirecrawlFormat = "markdown" | "html" | "links";

/** How to read each page: which formats, and whether to drop headers, navigation and footers (default true). */
export type FirecrawlScrapeOptions = { formats?: FirecrawlFormat[]; onlyMainContent?: boolean };

/**
 * Where a crawl may go. `limit` (pages, the start page included) is required: Firecrawl's own default is
 * 10,000 pages, each a credit. `maxDiscoveryDepth` counts links from the start page (0 = the start page only);
 * `includePaths` / `excludePaths` are regular expressions tested against each discovered URL's path;
 * `allowExternalLinks` is off unless asked (a crawl stays on the start page's host).
 * @example
 * const options: FirecrawlCrawlOptions = { limit: 50, maxDiscoveryDepth: 2, includePaths: ["^/docs/"], excludePaths: ["^/docs/archive/"] };
 */
export type FirecrawlCrawlOptions = {
  limit: number;
  maxDiscoveryDepth?: number;
  includePaths?: string[];
  excludePaths?: string[];
  allowExternalLinks?: boolean;
  scrapeOptions?: FirecrawlScrapeOptions;
};

/**
 * A crawl as a status read saw it, with every document done so far. `next` is null once the crawl is over;
 * while it is `scraping`, it is where the next read can resume so it fetches only documents after these.
 * @example
 * const job: FirecrawlCrawlStatus = { id, status: "scraping", total: 25, completed: 12, creditsUsed: 12, expiresAt: "…", data: [...], next: "https://api.firecrawl.dev/v2/crawl/…?skip=12" };
 */
export type FirecrawlCrawlStatus = {
  id: string;
  status: "scraping" | "completed" | "failed" | "cancelled";
  total: number;
  completed: number;
  creditsUsed: number | null;
  expiresAt: string | null;
  data: FirecrawlDocument[];
  next: string | null;
};

/** One web search hit. @example const hit: FirecrawlSearchResult = { url: "https://example.com/", title: "Example", description: "…" }; */
export type FirecrawlSearchResult = { url: string; title: string; description: string };

/**
 * A web search: at most `limit` results (1 to 100), kept to hosts equal to or under `includeDomains`, or away
 * from `excludeDomains` (one or the other: Firecrawl refuses both). Domains are bare hostnames ("example.com").
 */
export type FirecrawlSearchOptions = { limit: number; includeDomains?: string[]; excludeDomains?: string[] };

/** An extract job as a status read saw it; `data` is what it extracted once `completed`. */
export type FirecrawlExtractStatus = {
  id: string;
  status: "processing" | "completed" | "failed" | "cancelled";
  data: unknown;
  error: string | null;
  expiresAt: string | null;
};

/**
 * Firecrawl, as APE uses it: one page, a bounded crawl read by polling, web search, and LLM extraction.
 * Every method throws a {@link FirecrawlFailure}.
 * @example
 * const firecrawl = firecrawlFromEnv(env);
 * const page = await firecrawl?.scrape("https://example.com/pricing", { formats: ["markdown", "links"] });
 */
export interface FirecrawlClient {
  /** One page now. A page that answered 404 is a document with `metadata.statusCode` 404. */
  scrape(url: string, options?: FirecrawlScrapeOptions): Promise<FirecrawlDocument>;
  /** Starts a crawl and returns its id at once; read it with {@link FirecrawlClient.crawlStatus}. */
  startCrawl(url: string, options: FirecrawlCrawlOptions): Promise<{ id: string; url: string }>;
  /**
   * The crawl's status and every document done so far, following Firecrawl's `next` pages to the end: a page
   * that fails fails the whole read, so the documents are never silently cut short. Given the `next` of an
   * earlier read of a crawl still scraping, only the documents after that read's.
   */
  crawlStatus(id: string, next?: string): Promise<FirecrawlCrawlStatus>;
  /**
   * One results page of the crawl: the first (a status read) without `next`, else the page `next` names.
   * `next` in the answer is where the following read goes: more documents, or (while scraping) the same
   * place once more are done. One request, so a job can read a crawl a page at a time across its slices and
   * never read a document twice.
   */
  crawlPage(id: string, next?: string | null): Promise<FirecrawlCrawlStatus>;
  /** Web search (Firecrawl's v2 search, web results). */
  search(query: string, options: FirecrawlSearchOptions): Promise<FirecrawlSearchResult[]>;
  /**
   * Starts extracting `schema` (a JSON Schema) or what `prompt` asks from the pages; read it with
   * {@link FirecrawlClient.extractStatus}. Firecrawl keeps /extract in maintenance mode: prefer scraping and
   * APE's own extraction for new work.
   */
  startExtract(urls: string[], options: { prompt?: string; schema?: Record<string, unknown> }): Promise<{ id: string }>;
  /** An extract job's status, and its data once completed. */
  extractStatus(id: string): Promise<FirecrawlExtractStatus>;
}

/**
 * Why a Firecrawl call failed.
 * - `PAYMENT_REQUIRED` (402): the account is out of credits.
 * - `RATE_LIMITED` (429): `retryAfterSeconds` says how long Firecrawl asked to wait, when it said.
 * - `SERVER_ERROR` (5xx, or an answer that is not Firecrawl's JSON).
 * - `BAD_REQUEST` (400 and other 4xx; also a request refused before it is sent, e.g. both domain lists).
 * - `UNAUTHORIZED` (401): a missing or wrong key. `NOT_FOUND` (404): no such crawl or extract job.
 * - `TIMEOUT`: no answer within `timeoutMs`, or Firecrawl's own 408 (it gave up on the page).
 * - `NETWORK`: no answer at all (connection refused or reset, DNS, TLS).
 * - `SCRAPE_FAILED`: Firecrawl answered but could not read the page (the site's host does not resolve, …);
 *   `apiCode` holds its reason, e.g. `SCRAPE_DNS_RESOLUTION_ERROR`.
 */
export type FirecrawlFailureCode =
  | "PAYMENT_REQUIRED"
  | "RATE_LIMITED"
  | "SERVER_ERROR"
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "NOT_FOUND"
  | "TIMEOUT"
  | "NETWORK"
  | "SCRAPE_FAILED";

/** The same call may succeed later for these; the others need a change first (credits, key, request). */
const RETRYABLE: ReadonlySet<FirecrawlFailureCode> = new Set(["RATE_LIMITED", "SERVER_ERROR", "TIMEOUT", "NETWORK"]);

/**
 * A Firecrawl call that failed, classified for the queue: `retryable` says whether the same call may succeed
 * later. `status` is Firecrawl's HTTP status when it answered, `apiCode` its own error code when it gave one.
 * The message never holds the API key.
 * @example
 * try {
 *   await firecrawl.scrape(url);
 * } catch (error) {
 *   if (error instanceof FirecrawlFailure && error.retryable) return { error: error.code, retry: true, delaySeconds: error.retryAfterSeconds ?? 30 };
 *   throw error;
 * }
 */
export class FirecrawlFailure extends Error {
  readonly code: FirecrawlFailureCode;
  readonly retryable: boolean;
  readonly status: number | null;
  readonly retryAfterSeconds: number | null;
  readonly apiCode: string | null;

  constructor(options: {
    code: FirecrawlFailureCode;
    message: string;
    status?: number | null;
    retryAfterSeconds?: number | null;
    apiCode?: string | null;
  }) {
    super(options.message.slice(0, 300));
    this.name = "FirecrawlFailure";
    this.code = options.code;
    this.retryable = RETRYABLE.has(options.code);
    this.status = options.status ?? null;
    this.retryAfterSeconds = options.retryAfterSeconds ?? null;
    this.apiCode = options.apiCode ?? null;
  }
}

// A scrape renders the page in a browser first; tens of seconds is normal for a heavy page. Past this the
// call is stuck.
const DEFAULT_TIMEOUT_MS = 90_000;

// Firecrawl sends `next` pages of about 10 MiB; this many is far more than a Worker could hold, so reaching it
// means the pages point at each other, not that the crawl is big.
const MAX_STATUS_PAGES = 1000;

// Sent as the request's `origin`, as the SDK sends `js-sdk@<version>`: Firecrawl's logs show who called.
const ORIGIN = "ape";

const MetadataWire = z.looseObject({
  // Firecrawl reports a meta tag that occurs twice as a list of its values.
  title: z.union([z.string(), z.array(z.string())]).nullish(),
  description: z.union([z.string(), z.array(z.string())]).nullish(),
  sourceURL: z.string().nullish(),
  url: z.string().nullish(),
  statusCode: z.number().nullish(),
});

const DocumentWire = z.looseObject({
  markdown: z.string().nullish(),
  html: z.string().nullish(),
  links: z.array(z.string()).nullish(),
  metadata: MetadataWire.nullish(),
});

const ScrapeAnswer = z.looseObject({ success: z.literal(true), data: DocumentWire });
const CrawlStartAnswer = z.looseObject({ success: z.literal(true), id: z.string().min(1), url: z.string().nullish() });
const CrawlStatusAnswer = z.looseObject({
  status: z.enum(["scraping", "completed", "failed", "cancelled"]),
  total: z.number().nullish(),
  completed: z.number().nullish(),
  creditsUsed: z.number().nullish(),
  expiresAt: z.string().nullish(),
  next: z.string().nullish(),
  data: z.array(DocumentWire).nullish(),
});
const SearchAnswer = z.looseObject({
  success: z.literal(true),
  data: z.looseObject({
    web: z
      .array(z.looseObject({ url: z.string(), title: z.string().nullish(), description: z.string().nullish() }))
      .nullish(),
  }),
});
const ExtractStartAnswer = z.looseObject({ success: z.literal(true), id: z.string().min(1) });
const ExtractStatusAnswer = z.looseObject({
  status: z.enum(["processing", "completed", "failed", "cancelled"]),
  data: z.unknown().optional(),
  error: z.string().nullish(),
  expiresAt: z.string().nullish(),
});

const first = (value: string | string[] | null | undefined) => (Array.isArray(value) ? value[0] : value) ?? null;

const documentOf = (wire: z.infer<typeof DocumentWire>, askedUrl: string): FirecrawlDocument => {
  const metadata = wire.metadata ?? {};
  const sourceURL = metadata.sourceURL ?? metadata.url ?? askedUrl;
  return {
    markdown: wire.markdown ?? null,
    html: wire.html ?? null,
    links: wire.links ?? null,
    metadata: {
      title: first(metadata.title),
      description: first(metadata.description),
      sourceURL,
      url: metadata.url ?? sourceURL,
      statusCode: metadata.statusCode ?? 200,
    },
  };
};

/** Retry-After in seconds: a number of seconds, or an HTTP date (seconds from now); null when absent or unreadable. */
const retryAfterOf = (header: string | null): number | null => {
  if (header === null || header.trim() === "") return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
};

const codeOfStatus = (status: number): FirecrawlFailureCode => {
  if (status === 401) return "UNAUTHORIZED";
  if (status === 402) return "PAYMENT_REQUIRED";
  if (status === 404) return "NOT_FOUND";
  if (status === 408) return "TIMEOUT";
  if (status === 429) return "RATE_LIMITED";
  if (status >= 500) return "SERVER_ERROR";
  return "BAD_REQUEST";
};

/**
 * A Firecrawl client on plain `fetch`, speaking the v2 API with the bodies @mendable/firecrawl-js 4.x sends.
 * Not the SDK: it runs in workerd (axios falls back to its fetch adapter there), but its crawl pagination
 * stops silently at a page that fails and returns what it had, its errors drop the Retry-After header, and
 * by default it follows `next` without pause for as long as a crawl is scraping. No retries
 * here: APE's queue retries, and knows when to stop. Each request has its own `timeoutMs` deadline.
 * @example
 * const firecrawl = createFirecrawl({ apiKey: env.FIRECRAWL_API_KEY, apiUrl: env.FIRECRAWL_API_URL });
 * const { id } = await firecrawl.startCrawl("https://example.com/docs", { limit: 20, maxDiscoveryDepth: 2 });
 * const job = await firecrawl.crawlStatus(id); // poll until job.status !== "scraping"
 */
export const createFirecrawl = (options: {
  apiKey: string;
  apiUrl: string;
  timeoutMs?: number | undefined;
}): FirecrawlClient => {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const apiUrl = options.apiUrl.replace(/\/+$/, "");
  const apiKey = options.apiKey;
  // Firecrawl's messages do not echo keys today; this keeps it so if one ever did (or a proxy in between).
  const redact = (text: string) => (apiKey ? text.replaceAll(apiKey, "[redacted]") : text);
  const fail = (
    code: FirecrawlFailureCode,
    message: string,
    extra: Partial<{ status: number; apiCode: string }> = {},
  ) => new FirecrawlFailure({ code, message: redact(message), ...extra });

  /** One request, its answer as JSON, or a FirecrawlFailure. */
  const call = async (action: string, url: string, body?: Record<string, unknown>): Promise<unknown> => {
    const deadline = AbortSignal.timeout(timeoutMs);
    let status = 0;
    let text: string;
    let retryAfter: string | null = null;
    try {
      const response = await fetch(url, {
        method: body ? "POST" : "GET",
        headers: {
          authorization: `Bearer ${apiKey}`,
          accept: "application/json",
          ...(body ? { "content-type": "application/json" } : {}),
        },
        ...(body ? { body: JSON.stringify({ ...body, origin: ORIGIN }) } : {}),
        signal: deadline,
      });
      status = response.status;
      retryAfter = response.headers.get("retry-after");
      text = await response.text();
    } catch (error) {
      // The deadline can fire while the body is still arriving, after the status line: still "too slow".
      if (deadline.aborted || (error as Error | undefined)?.name === "TimeoutError") {
        throw fail("TIMEOUT", `Firecrawl gave no answer to ${action} within ${timeoutMs} ms`);
      }
      throw fail(
        "NETWORK",
        `Firecrawl could not be reached to ${action}: ${(error as Error | undefined)?.message ?? error}`,
      );
    }
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // Not JSON: a proxy's error page, or a cut-off answer; judged by its status below.
    }
    const answer = (json ?? {}) as { error?: unknown; message?: unknown; code?: unknown; success?: unknown };
    const said =
      typeof answer.error === "string" ? answer.error : typeof answer.message === "string" ? answer.message : "";
    const apiCode = typeof answer.code === "string" ? answer.code : undefined;
    if (status < 200 || status >= 300) {
      const code = codeOfStatus(status);
      throw new FirecrawlFailure({
        code,
        status,
        message: redact(
          `Firecrawl refused to ${action} (${status}${apiCode ? ` ${apiCode}` : ""}): ${said || text.slice(0, 200)}`,
        ),
        retryAfterSeconds: code === "RATE_LIMITED" || code === "SERVER_ERROR" ? retryAfterOf(retryAfter) : null,
        apiCode: apiCode ?? null,
      });
    }
    if (json === null || typeof json !== "object") {
      throw fail("SERVER_ERROR", `Firecrawl answered ${action} with something other than JSON`, { status });
    }
    if (answer.success === false) {
      // Firecrawl answers 200 with success: false when it worked but the page could not be had (DNS, …).
      throw fail(
        action.startsWith("scrape") ? "SCRAPE_FAILED" : "BAD_REQUEST",
        `Firecrawl could not ${action}${apiCode ? ` (${apiCode})` : ""}: ${said || "no reason given"}`,
        { status, ...(apiCode ? { apiCode } : {}) },
      );
    }
    return json;
  };

  const parse = <T extends z.ZodType>(schema: T, action: string, json: unknown): z.infer<T> => {
    const parsed = schema.safeParse(json);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    throw fail(
      "SERVER_ERROR",
      `Firecrawl's answer to ${action} is not in the shape of its v2 API (${issue?.path.join(".") || "body"}: ${issue?.message})`,
    );
  };

  /**
   * A `next` page of this crawl, as a URL under `apiUrl`. Firecrawl builds `next` from the host it saw, which
   * behind a proxy or with a path prefix is not the URL APE calls, and the key goes only to `apiUrl`: so the
   * part from /v2/ on is kept and put back under `apiUrl`.
   */
  const pageUrl = (id: string, next: string) => {
    let target: URL;
    try {
      target = new URL(next, `${apiUrl}/`);
    } catch {
      throw fail("BAD_REQUEST", `Not a crawl results URL: ${next.slice(0, 100)}`);
    }
    const at = target.pathname.lastIndexOf("/v2/");
    const path = at < 0 ? "" : target.pathname.slice(at);
    if (path !== `/v2/crawl/${encodeURIComponent(id)}`) {
      throw fail("BAD_REQUEST", `Not a results page of crawl ${id}: ${target.pathname.slice(0, 100)}`);
    }
    return `${apiUrl}${path}${target.search}`;
  };

  const scrapeOptionsOf = (scrape: FirecrawlScrapeOptions | undefined) => ({
    formats: scrape?.formats ?? ["markdown"],
    onlyMainContent: scrape?.onlyMainContent ?? true,
  });

  return {
    async scrape(url, scrapeOptions) {
      const json = await call("scrape the page", `${apiUrl}/v2/scrape`, { url, ...scrapeOptionsOf(scrapeOptions) });
      return documentOf(parse(ScrapeAnswer, "scrape", json).data, url);
    },

    async startCrawl(url, crawl) {
      const json = await call("start the crawl", `${apiUrl}/v2/crawl`, {
        url,
        ...(crawl.excludePaths?.length ? { excludePaths: crawl.excludePaths } : {}),
        ...(crawl.includePaths?.length ? { includePaths: crawl.includePaths } : {}),
        ...(crawl.maxDiscoveryDepth !== undefined ? { maxDiscoveryDepth: crawl.maxDiscoveryDepth } : {}),
        limit: crawl.limit,
        allowExternalLinks: crawl.allowExternalLinks ?? false,
        scrapeOptions: scrapeOptionsOf(crawl.scrapeOptions),
      });
      const answer = parse(CrawlStartAnswer, "start the crawl", json);
      return { id: answer.id, url: answer.url ?? `${apiUrl}/v2/crawl/${answer.id}` };
    },

    async crawlPage(id, next) {
      const action = `read crawl ${id}`;
      const url = next ? pageUrl(id, next) : `${apiUrl}/v2/crawl/${encodeURIComponent(id)}`;
      const answer = parse(CrawlStatusAnswer, action, await call(action, url));
      const data = (answer.data ?? []).map((doc) => documentOf(doc, ""));
      return {
        id,
        status: answer.status,
        total: answer.total ?? data.length,
        completed: answer.completed ?? data.length,
        creditsUsed: answer.creditsUsed ?? null,
        expiresAt: answer.expiresAt ?? null,
        data,
        next: answer.next ?? null,
      };
    },

    async crawlStatus(id, next) {
      const action = `read crawl ${id}`;
      const seen = new Set<string>();
      const read = async (url: string) => {
        if (seen.has(url))
          throw fail("SERVER_ERROR", `Firecrawl's results of crawl ${id} lead back to a page already read`);
        if (seen.size >= MAX_STATUS_PAGES) {
          throw fail("SERVER_ERROR", `Firecrawl's results of crawl ${id} run past ${MAX_STATUS_PAGES} pages`);
        }
        seen.add(url);
        return parse(CrawlStatusAnswer, action, await call(action, url));
      };

      let answer = await read(next ? pageUrl(id, next) : `${apiUrl}/v2/crawl/${encodeURIComponent(id)}`);
      const data = (answer.data ?? []).map((doc) => documentOf(doc, ""));
      while (answer.next) {
        // While a crawl is scraping, Firecrawl gives `next` on every page, even past the last document done: a
        // page without documents is where this read ends and the next read resumes (the SDK keeps following).
        if (answer.status === "scraping" && (answer.data ?? []).length === 0) break;
        answer = await read(pageUrl(id, answer.next));
        data.push(...(answer.data ?? []).map((doc) => documentOf(doc, "")));
      }
      return {
        id,
        status: answer.status,
        total: answer.total ?? data.length,
        completed: answer.completed ?? data.length,
        creditsUsed: answer.creditsUsed ?? null,
        expiresAt: answer.expiresAt ?? null,
        data,
        next: answer.status === "scraping" && answer.next ? answer.next : null,
      };
    },

    async search(query, search) {
      if (search.includeDomains?.length && search.excludeDomains?.length) {
        throw fail("BAD_REQUEST", "Firecrawl searches within includeDomains or away from excludeDomains, not both");
      }
      const json = await call("search", `${apiUrl}/v2/search`, {
        query,
        ...(search.includeDomains?.length ? { includeDomains: search.includeDomains } : {}),
        ...(search.excludeDomains?.length ? { excludeDomains: search.excludeDomains } : {}),
        limit: search.limit,
      });
      return (parse(SearchAnswer, "search", json).data.web ?? []).map((hit) => ({
        url: hit.url,
        title: hit.title ?? "",
        description: hit.description ?? "",
      }));
    },

    async startExtract(urls, extract) {
      const json = await call("start the extraction", `${apiUrl}/v2/extract`, {
        urls,
        ...(extract.prompt !== undefined ? { prompt: extract.prompt } : {}),
        ...(extract.schema !== undefined ? { schema: extract.schema } : {}),
      });
      return { id: parse(ExtractStartAnswer, "start the extraction", json).id };
    },

    async extractStatus(id) {
      const action = `read extraction ${id}`;
      const answer = parse(
        ExtractStatusAnswer,
        action,
        await call(action, `${apiUrl}/v2/extract/${encodeURIComponent(id)}`),
      );
      return {
        id,
        status: answer.status,
        data: answer.data ?? null,
        error: answer.error ?? null,
        expiresAt: answer.expiresAt ?? null,
      };
    },
  };
};

/**
 * The Firecrawl client the settings describe, or null without FIRECRAWL_API_KEY (web research is then off).
 * @example
 * const firecrawl = firecrawlFromEnv(env); // null when FIRECRAWL_API_KEY is unset
 * const hits = (await firecrawl?.search("workers durable objects", { limit: 5 })) ?? [];
 */
export const firecrawlFromEnv = (
  env: Pick<Env, "FIRECRAWL_API_KEY" | "FIRECRAWL_API_URL">,
  options: { timeoutMs?: number } = {},
): FirecrawlClient | null =>
  env.FIRECRAWL_API_KEY
    ? createFirecrawl({ apiKey: env.FIRECRAWL_API_KEY, apiUrl: env.FIRECRAWL_API_URL, timeoutMs: options.timeoutMs })
    : null;
