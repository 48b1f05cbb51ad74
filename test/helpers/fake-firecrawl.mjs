// A local server that speaks Firecrawl's v2 API as @mendable/firecrawl-js 4.x sends it, so APE's client (and
// the SDK) can be driven against it from inside workerd. JSON in, JSON out, `Authorization: Bearer <key>`:
//
//   POST /v2/scrape        `{ url, formats?, onlyMainContent?, … }`       → { success, data: Document }
//   POST /v2/crawl         `{ url, limit?, maxDiscoveryDepth?, includePaths?, excludePaths?, allowExternalLinks?,
//                            allowSubdomains?, crawlEntireDomain?, regexOnFullURL?, ignoreQueryParameters?,
//                            scrapeOptions? }`                             → { success, id, url }
//   GET  /v2/crawl/{id}    `?skip=N&limit=M`                               → { success, status, total, completed,
//                                                                             creditsUsed, expiresAt, next?, data }
//   POST /v2/search        `{ query, limit?, includeDomains?, excludeDomains?, scrapeOptions? }`
//                                                                          → { success, data: { web }, creditsUsed, id }
//   POST /v2/extract       `{ urls, prompt?, schema? }`                    → { success, id }
//   GET  /v2/extract/{id}                                                  → { success, status, data?, expiresAt }
//
// The web it sees is an in-memory site per scope that tests register with POST /__fake/site
// `{ pages: { "http://docs.site.test/a": "<html>…</html>" | { html, status? } } }` (merged into what is there;
// POST /__fake/reset empties it too). Workerd tests cannot listen on a port, so a site a fetch away would need
// a server started from global-setup per test; an in-memory site is as real for everything the client sees.
// A page of a registered host that was not registered answers 404 (and is a document with statusCode 404, as
// Firecrawl reports it); a host with no page at all fails as DNS does: 200 with
// `{ success: false, code: "SCRAPE_DNS_RESOLUTION_ERROR" }`, what Firecrawl's v2 scrape answers.
//
// Documents are made as Firecrawl makes them: links and image sources made absolute; scripts and styles
// dropped; with `onlyMainContent` (the default) also header, nav, footer and aside; `markdown` by
// node-html-markdown; `links` every http(s) link of the whole page, in order, once each; `metadata` with
// title, description, language, sourceURL (as asked), url, statusCode, contentType, scrapeId, creditsUsed.
// (Elements are cut by regular expression: fine for the small pages tests write, not for nested same-name tags.)
//
// Crawls follow Firecrawl's rules: breadth first from `url` (which is always scraped, discovery depth 0);
// links of 2xx pages only, without their #fragment (and query, with ignoreQueryParameters); same host unless
// allowExternalLinks (subdomains with allowSubdomains); under the start URL's path unless crawlEntireDomain;
// excludePaths and includePaths are regular expressions tested against the path (the full URL with
// regexOnFullURL); at most `limit` pages; links found at maxDiscoveryDepth are not followed. The fake works
// the crawl out when it starts and reveals it over status polls: a GET without `skip` is a poll; the crawl
// answers `scraping` (with a growing share of its documents) until its `polls`-th poll (default 2), then
// `completed` (`failed` if the start page could not be had). Results come `pageSize` documents a page
// (default 10; Firecrawl cuts its pages at about 10 MiB): `next` is the absolute URL of the next page, present
// while more documents wait and, as Firecrawl does, always while the crawl is still scraping (follow it only
// until a page brings no documents). Following `next` (a GET with `skip`) is not a poll, unless it reads the
// same `skip` as the crawl's last read: a client that reads a crawl only through `next` polls at its cursor,
// and sees the crawl go on and end as it would on Firecrawl.
//
// Search looks through the scope's registered 2xx pages: a page matches when its title or text holds any word
// of the query (operators `site:host` and `-site:host` in the query are honoured too), ranked by how many;
// `includeDomains` / `excludeDomains` keep or drop hosts equal to or under each domain; both at once, or a
// domain with a protocol or path, is a 400 as on Firecrawl. Extract answers `processing` until its `polls`-th
// status request, then `completed` with the entry's `data`, or data taken from the pages: a schema's
// properties named like title, description, url or urls/links filled from them, others null (without a
// schema, `{ pages: [{ url, title }] }`).
//
// Auth: a missing bearer token is a 401 ("Unauthorized"); a token not shaped like Firecrawl's (`fc-…`) is a
// 401 ("Unauthorized: Invalid token"). Errors are `{ success: false, error, code? }` with the HTTP status.
//
// Scripted answers (see fake-control.mjs; scoped by /s/<scope>/): POST /__fake/next with
// `{ status?, retryAfter?, message?, code?, hangMs?, drop?, polls?, outcome?, data?, path?, times? }`.
// `path` is the route the entry applies to, as written in the table above ("/v2/scrape", "/v2/crawl",
// "/v2/crawl/{id}", "/v2/search", "/v2/extract", "/v2/extract/{id}"), or any route without it; `times`
// (default 1) how many requests it answers. `hangMs` holds the request first; `drop` closes the connection
// without an answer; `status` answers with that error (`retryAfter` as a Retry-After header in seconds); on a
// crawl or extract start `polls` sets how many polls until it is done and `outcome: "failed"` ends it failed;
// on an extract start `data` is what it extracts. E.g. `{ status: 429, retryAfter: 7, path: "/v2/scrape" }`.
// GET /__fake/requests lists what arrived: `{ method, path, route, query, authorization, body }`, the token
// shown only as "Bearer [redacted]".
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { NodeHtmlMarkdown } from "node-html-markdown";
import { createFakeControl } from "./fake-control.mjs";

/**
 * @typedef {{
 *   status?: number, retryAfter?: number, message?: string, code?: string, hangMs?: number, drop?: boolean,
 *   polls?: number, outcome?: "completed" | "failed", data?: unknown, path?: string, model?: string,
 *   times?: number,
 * }} ScriptEntry
 * @typedef {{ method: string, path: string, route: string, query: Record<string, string>,
 *   authorization: string | null, body: unknown }} ReceivedRequest
 * @typedef {{ html: string, status: number }} Page
 * @typedef {{ formats: string[], onlyMainContent: boolean }} ScrapeSettings
 * @typedef {{ id: string, url: string, docs: object[], pollsUntilDone: number, polls: number,
 *   outcome: "completed" | "failed", expiresAt: string, lastSkip?: number }} CrawlJob
 * @typedef {{ id: string, data: unknown, pollsUntilDone: number, polls: number,
 *   outcome: "completed" | "failed", expiresAt: string }} ExtractJob
 * @typedef {{ pages: Map<string, Page>, crawls: Map<string, CrawlJob>, extracts: Map<string, ExtractJob> }} World
 */

/** What Firecrawl says for the statuses tests script most (its wording, for realistic messages). */
const MESSAGES = {
  400: "Bad Request",
  401: "Unauthorized",
  402: "Insufficient credits to perform this request. For more credits, you can upgrade your plan at https://firecrawl.dev/pricing.",
  403: "Forbidden",
  404: "Not Found",
  408: "Scrape timed out",
  429: "Rate limit exceeded. Consumed (req/min): 11, Remaining (req/min): 0. Upgrade your plan at https://firecrawl.dev/pricing for increased rate limits or please retry after 60s.",
  500: "An unexpected error occurred. Please contact help@firecrawl.com for help.",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

const FORMATS = new Set(["markdown", "html", "rawHtml", "links"]);
const DAY_MS = 24 * 3600 * 1000;
const DEFAULT_POLLS = 2;

const NOT_FOUND_HTML = "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>";
const markdown = new NodeHtmlMarkdown({ maxConsecutiveNewlines: 2 });

/** A URL without its #fragment (and query, if asked), the key pages and crawls use; null if not http(s). */
const normalise = (/** @type {string} */ raw, base = undefined, dropQuery = false) => {
  try {
    const url = new URL(raw, base);
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    url.hash = "";
    if (dropQuery) url.search = "";
    return url.href;
  } catch {
    return null;
  }
};

const decode = (/** @type {string} */ text) =>
  text
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&amp;", "&")
    .trim();

/** The element's text by regular expression (pages are the tests' own, small and well formed). */
const tagText = (/** @type {string} */ html, /** @type {string} */ tag) => {
  const match = new RegExp(`<${tag}\\b[^>]*>([\\s\\S]*?)</${tag}>`, "i").exec(html);
  return match?.[1] === undefined ? undefined : decode(match[1].replace(/<[^>]+>/g, ""));
};
const metaContent = (/** @type {string} */ html, /** @type {string} */ name) => {
  const match =
    new RegExp(`<meta\\s+name=["']${name}["']\\s+content=["']([^"']*)["']`, "i").exec(html) ??
    new RegExp(`<meta\\s+content=["']([^"']*)["']\\s+name=["']${name}["']`, "i").exec(html);
  return match?.[1] === undefined ? undefined : decode(match[1]);
};
const withoutElements = (/** @type {string} */ html, /** @type {string[]} */ tags) =>
  tags.reduce((clean, tag) => clean.replace(new RegExp(`<${tag}\\b[^>]*>[\\s\\S]*?</${tag}>`, "gi"), ""), html);

/** href and src made absolute against the page, as Firecrawl's html format has them. */
const absolutise = (/** @type {string} */ html, /** @type {string} */ base) =>
  html.replace(/\b(href|src)=(["'])([^"']*)\2/gi, (whole, attribute, quote, value) => {
    if (/^(#|mailto:|tel:|javascript:|data:)/i.test(value)) return whole;
    try {
      return `${attribute}=${quote}${new URL(value, base).href}${quote}`;
    } catch {
      return whole;
    }
  });

const linksOf = (/** @type {string} */ html) => {
  const links = [];
  for (const match of html.matchAll(/<a\b[^>]*?\bhref=(["'])([^"']*)\1/gi)) {
    const href = match[2] ?? "";
    if (/^https?:\/\//i.test(href) && !links.includes(href)) links.push(href);
  }
  return links;
};

const plainText = (/** @type {string} */ html) =>
  decode(withoutElements(html, ["script", "style", "noscript", "head"]).replace(/<[^>]+>/g, " ")).replace(/\s+/g, " ");

/**
 * One page as a Firecrawl document in the formats asked; `links` (for the crawler) whatever the formats.
 * @param {World} world @param {string} url @param {ScrapeSettings} settings
 */
const scrapePage = (world, url, settings) => {
  const key = normalise(url);
  const host = key ? new URL(key).host : "";
  const known = [...world.pages.keys()].some((page) => new URL(page).host === host);
  if (!key || !known) return { dnsError: host || url };
  const page = world.pages.get(key) ?? { html: NOT_FOUND_HTML, status: 404 };
  const rawHtml = page.html;
  const full = absolutise(withoutElements(rawHtml, ["script", "style", "noscript"]), key);
  const main = settings.onlyMainContent ? withoutElements(full, ["header", "nav", "footer", "aside"]) : full;
  const body = /<body\b[^>]*>([\s\S]*)<\/body>/i.exec(main)?.[1] ?? withoutElements(main, ["head"]);
  const links = linksOf(full);
  const title = tagText(rawHtml, "title");
  const description = metaContent(rawHtml, "description");
  const language = /<html\b[^>]*\blang=["']([^"']+)["']/i.exec(rawHtml)?.[1];
  /** @type {Record<string, unknown>} */
  const document = {};
  if (settings.formats.includes("markdown")) document.markdown = markdown.translate(body).trim();
  if (settings.formats.includes("html")) document.html = body.trim();
  if (settings.formats.includes("rawHtml")) document.rawHtml = rawHtml;
  if (settings.formats.includes("links")) document.links = links;
  document.metadata = {
    ...(title !== undefined ? { title } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(language !== undefined ? { language } : {}),
    sourceURL: url,
    url: key,
    statusCode: page.status,
    contentType: "text/html; charset=utf-8",
    scrapeId: randomUUID(),
    proxyUsed: "basic",
    cacheState: "miss",
    creditsUsed: 1,
  };
  return { document, links, status: page.status, title: title ?? "", description, text: plainText(body), key };
};

/** A 400 in Firecrawl's shape, naming the field. */
class BadRequest extends Error {
  /** @param {string} path @param {string} message */
  constructor(path, message) {
    super(message);
    this.path = path;
  }
}

const check = (/** @type {boolean} */ ok, /** @type {string} */ path, /** @type {string} */ message) => {
  if (!ok) throw new BadRequest(path, message);
};

const isUrl = (/** @type {unknown} */ value) => typeof value === "string" && normalise(value) !== null;

/** @param {any} options @param {string} at @returns {ScrapeSettings} */
const scrapeSettings = (options, at = "") => {
  const formats = options?.formats ?? ["markdown"];
  check(Array.isArray(formats), `${at}formats`, "Expected array");
  const names = formats.map((/** @type {unknown} */ format) =>
    typeof format === "string" ? format : format && typeof format === "object" && "type" in format ? format.type : "",
  );
  for (const name of names) check(FORMATS.has(name), `${at}formats`, `Format "${name}" is not one the fake makes`);
  const onlyMainContent = options?.onlyMainContent ?? true;
  check(typeof onlyMainContent === "boolean", `${at}onlyMainContent`, "Expected boolean");
  return { formats: names, onlyMainContent };
};

const regexes = (/** @type {unknown} */ patterns, /** @type {string} */ path) => {
  if (patterns === undefined || patterns === null) return [];
  check(Array.isArray(patterns), path, "Expected array");
  return /** @type {unknown[]} */ (patterns).map((pattern) => {
    check(typeof pattern === "string", path, "Expected string");
    try {
      return new RegExp(/** @type {string} */ (pattern));
    } catch {
      throw new BadRequest(path, "Invalid regular expression");
    }
  });
};

const optionalInt = (/** @type {unknown} */ value, /** @type {string} */ path, min = 0) => {
  if (value === undefined || value === null) return undefined;
  check(Number.isInteger(value) && /** @type {number} */ (value) >= min, path, `Expected an integer >= ${min}`);
  return /** @type {number} */ (value);
};

/** The crawl worked out whole: the documents Firecrawl would collect, in the order it would. @param {World} world @param {any} body */
const runCrawl = (world, body) => {
  const limit = optionalInt(body.limit, "limit", 1) ?? 10_000;
  const maxDepth = optionalInt(body.maxDiscoveryDepth, "maxDiscoveryDepth");
  const includes = regexes(body.includePaths, "includePaths");
  const excludes = regexes(body.excludePaths, "excludePaths");
  const settings = scrapeSettings(body.scrapeOptions, "scrapeOptions.");
  const start = new URL(/** @type {string} */ (normalise(body.url, undefined, body.ignoreQueryParameters === true)));
  const allowed = (/** @type {URL} */ link) => {
    const sameHost = link.host === start.host;
    const subdomain = body.allowSubdomains === true && link.hostname.endsWith(`.${start.hostname}`);
    if (!sameHost && !subdomain && body.allowExternalLinks !== true) return false;
    if (sameHost && body.crawlEntireDomain !== true && !link.pathname.startsWith(start.pathname)) return false;
    const subject = body.regexOnFullURL === true ? link.href : link.pathname;
    if (excludes.some((pattern) => pattern.test(subject))) return false;
    return includes.length === 0 || includes.some((pattern) => pattern.test(subject));
  };

  const docs = [];
  const seen = new Set([start.href]);
  const queue = [{ url: start.href, depth: 0 }];
  for (let item = queue.shift(); item && docs.length < limit; item = queue.shift()) {
    const page = scrapePage(world, item.url, settings);
    if (page.dnsError !== undefined) continue;
    docs.push(page.document);
    if ((page.status ?? 0) >= 300 || (maxDepth !== undefined && item.depth >= maxDepth)) continue;
    for (const href of page.links ?? []) {
      const key = normalise(href, undefined, body.ignoreQueryParameters === true);
      if (!key || seen.has(key)) continue;
      seen.add(key);
      if (allowed(new URL(key))) queue.push({ url: key, depth: item.depth + 1 });
    }
  }
  return docs;
};

const domainList = (/** @type {unknown} */ value, /** @type {string} */ path) => {
  if (value === undefined) return undefined;
  check(Array.isArray(value), path, "Expected array");
  for (const domain of /** @type {unknown[]} */ (value)) {
    check(
      typeof domain === "string" && /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(domain),
      path,
      "Domain must be a valid hostname without protocol or path",
    );
  }
  return /** @type {string[]} */ (value).map((domain) => domain.toLowerCase());
};

const under = (/** @type {string} */ host, /** @type {string} */ domain) =>
  host === domain || host.endsWith(`.${domain}`);

/** @param {World} world @param {any} body */
const runSearch = (world, body) => {
  check(typeof body.query === "string" && body.query.trim() !== "", "query", "Query cannot be empty");
  const limit = optionalInt(body.limit, "limit", 1) ?? 5;
  check(limit <= 100, "limit", "Number must be less than or equal to 100");
  const include = domainList(body.includeDomains, "includeDomains");
  const exclude = domainList(body.excludeDomains, "excludeDomains");
  check(!(include && exclude), "includeDomains", "includeDomains and excludeDomains cannot both be specified");
  const settings = body.scrapeOptions ? scrapeSettings(body.scrapeOptions, "scrapeOptions.") : null;

  const terms = /** @type {string} */ (body.query).toLowerCase().split(/\s+/).filter(Boolean);
  const sites = terms.flatMap((term) => (term.startsWith("site:") ? [term.slice(5)] : []));
  const notSites = terms.flatMap((term) => (term.startsWith("-site:") ? [term.slice(6)] : []));
  const words = terms.filter((term) => !/^-?site:/.test(term)).map((term) => term.replace(/^"|"$/g, ""));

  const hits = [];
  for (const url of world.pages.keys()) {
    const host = new URL(url).hostname;
    if (include && !include.some((domain) => under(host, domain))) continue;
    if (exclude?.some((domain) => under(host, domain))) continue;
    if (sites.length > 0 && !sites.some((domain) => under(host, domain))) continue;
    if (notSites.some((domain) => under(host, domain))) continue;
    const page = scrapePage(world, url, settings ?? { formats: ["markdown"], onlyMainContent: true });
    if (page.dnsError !== undefined || (page.status ?? 0) >= 300) continue;
    const haystack = `${page.title} ${page.text}`.toLowerCase();
    const score = words.filter((word) => haystack.includes(word)).length;
    if (score > 0) hits.push({ score, url, page });
  }
  hits.sort((a, b) => b.score - a.score);
  return hits.slice(0, limit).map(({ url, page }, index) => ({
    url,
    title: page.title,
    description: page.description ?? (page.text ?? "").slice(0, 160),
    position: index + 1,
    ...(settings ? page.document : {}),
  }));
};

/** What an extract finds without a scripted `data`. @param {World} world @param {string[]} urls @param {any} schema */
const extractData = (world, urls, schema) => {
  const pages = urls.map((url) => scrapePage(world, url, { formats: [], onlyMainContent: true }));
  const first = pages[0];
  const properties = schema && typeof schema === "object" ? schema.properties : undefined;
  if (!properties || typeof properties !== "object") {
    return { pages: pages.map((page, index) => ({ url: urls[index], title: page.title ?? null })) };
  }
  return Object.fromEntries(
    Object.keys(properties).map((name) => {
      if (/^(urls|links)$/i.test(name)) return [name, urls];
      if (/title/i.test(name)) return [name, first?.title ?? null];
      if (/description|summary/i.test(name)) return [name, first?.description ?? null];
      if (/^url$/i.test(name)) return [name, urls[0] ?? null];
      return [name, null];
    }),
  );
};

/**
 * Starts the fake. `pageSize` is how many documents a crawl status page carries before `next`.
 * @param {{ port?: number, pageSize?: number }} [options]
 */
export const startFakeFirecrawl = ({ port = 0, pageSize = 10 } = {}) => {
  /** @type {ReturnType<typeof createFakeControl<ScriptEntry, ReceivedRequest>>} */
  const control = createFakeControl();
  const { read, hang } = control;
  /** One world per scope. @type {WeakMap<object, World>} */
  const worlds = new WeakMap();

  /** @param {import("node:http").ServerResponse} response @param {number} status @param {unknown} body */
  const send = (response, status, body, headers = {}) =>
    response
      .writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers })
      .end(JSON.stringify(body));
  /** @param {import("node:http").ServerResponse} response @param {number} status */
  const fail = (response, status, { message = undefined, code = undefined, details = undefined, headers = {} } = {}) =>
    send(
      response,
      status,
      {
        success: false,
        ...(code ? { code } : {}),
        error: message ?? MESSAGES[/** @type {keyof typeof MESSAGES} */ (status)] ?? `Error ${status}`,
        ...(details ? { details } : {}),
      },
      headers,
    );

  const server = createServer(async (request, response) => {
    const { pathname, state } = control.route(request.url);
    let world = worlds.get(state);
    if (!world) {
      world = { pages: new Map(), crawls: new Map(), extracts: new Map() };
      worlds.set(state, world);
    }
    let raw = "";
    try {
      raw = await read(request);
    } catch {
      return response.destroy();
    }

    // The test-only routes. fake-control matches a script entry on its `model`; here that is the route.
    if (pathname === "/__fake/site" && request.method === "POST") {
      const { pages } = JSON.parse(raw);
      for (const [url, page] of Object.entries(pages ?? {})) {
        const key = normalise(url);
        if (!key) return fail(response, 400, { message: `Not an http(s) URL: ${url}` });
        world.pages.set(key, typeof page === "string" ? { html: page, status: 200 } : { status: 200, ...page });
      }
      return response.writeHead(204).end();
    }
    if (pathname === "/__fake/next" && request.method === "POST") {
      const entry = JSON.parse(raw);
      raw = JSON.stringify({ ...entry, ...(entry.path ? { model: entry.path } : {}) });
    }
    if (pathname === "/__fake/reset" && request.method === "POST") {
      world.pages.clear();
      world.crawls.clear();
      world.extracts.clear();
    }
    if (state.handleControl(pathname, request.method, raw, response)) return;

    const url = new URL(request.url ?? "/", "http://fake");
    const query = Object.fromEntries(url.searchParams);
    const route = `${request.method} ${pathname.replace(/^\/v2\/(crawl|extract)\/[^/]+$/, "/v2/$1/{id}")}`;
    const routePath = route.slice(route.indexOf(" ") + 1);
    const { body, invalidJson } = control.parseJson(raw);
    const authorization = request.headers.authorization ?? null;
    state.received.push({
      method: request.method ?? "GET",
      path: pathname,
      route: routePath,
      query,
      authorization: authorization === null ? null : authorization.replace(/^(Bearer\s+).+$/i, "$1[redacted]"),
      body,
    });

    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
    if (!token) return fail(response, 401, { message: "Unauthorized" });
    if (!/^fc-[A-Za-z0-9_-]+$/.test(token)) return fail(response, 401, { message: "Unauthorized: Invalid token" });

    const known = [
      "POST /v2/scrape",
      "POST /v2/crawl",
      "GET /v2/crawl/{id}",
      "POST /v2/search",
      "POST /v2/extract",
      "GET /v2/extract/{id}",
    ];
    if (!known.includes(route)) return fail(response, 404, { message: `Cannot ${request.method} ${pathname}` });
    if (invalidJson || (request.method === "POST" && (body === null || typeof body !== "object"))) {
      return fail(response, 400, { code: "BAD_REQUEST", message: "Bad Request: the body is not a JSON object" });
    }

    const next = state.takeScript(routePath);
    if (next?.hangMs) {
      await hang(next.hangMs, response);
      if (response.destroyed || response.writableEnded) return;
    }
    if (next?.drop) return response.destroy();
    if (next?.status && next.status >= 400) {
      return fail(response, next.status, {
        message: next.message,
        code: next.code ?? (next.status === 408 ? "SCRAPE_TIMEOUT" : undefined),
        headers: next.retryAfter !== undefined ? { "retry-after": String(next.retryAfter) } : {},
      });
    }

    // The scope's prefix, so `next` leads back into the same scope.
    const prefix = /^\/s\/[A-Za-z0-9_-]{1,64}(?=\/)/.exec(request.url ?? "")?.[0] ?? "";
    const origin = `http://${request.headers.host ?? "127.0.0.1"}`;
    const expiresAt = () => new Date(Date.now() + DAY_MS).toISOString();

    try {
      if (route === "POST /v2/scrape") {
        check(isUrl(body.url), "url", "Invalid URL");
        const page = scrapePage(world, body.url, scrapeSettings(body));
        if (page.dnsError !== undefined) {
          return send(response, 200, {
            success: false,
            code: "SCRAPE_DNS_RESOLUTION_ERROR",
            error: `DNS resolution failed for hostname "${page.dnsError}".`,
          });
        }
        return send(response, 200, { success: true, data: page.document });
      }

      if (route === "POST /v2/crawl") {
        check(isUrl(body.url), "url", "Invalid URL");
        const docs = runCrawl(world, body);
        const id = randomUUID();
        // A start page that cannot be had (its host does not resolve) fails the crawl, as on Firecrawl.
        const outcome = next?.outcome === "failed" || docs.length === 0 ? "failed" : "completed";
        const pollsUntilDone = Math.max(1, next?.polls ?? DEFAULT_POLLS);
        world.crawls.set(id, { id, url: body.url, docs, pollsUntilDone, polls: 0, outcome, expiresAt: expiresAt() });
        return send(response, 200, { success: true, id, url: `${origin}${prefix}/v2/crawl/${id}` });
      }

      if (route === "GET /v2/crawl/{id}") {
        const job = world.crawls.get(decodeURIComponent(pathname.slice("/v2/crawl/".length)));
        if (!job) return fail(response, 404, { message: "Job not found" });
        const skip = query.skip === undefined ? undefined : Number(query.skip);
        check(skip === undefined || (Number.isInteger(skip) && skip >= 0), "skip", "Expected an integer >= 0");
        // A client that reads the crawl only through `next` polls at its cursor: reading the same `skip` as its
        // last read is a poll too.
        const polled = skip === undefined || skip === job.lastSkip;
        job.lastSkip = skip;
        if (polled) job.polls = Math.min(job.polls + 1, job.pollsUntilDone);
        const done = job.polls >= job.pollsUntilDone;
        const seen = done ? job.docs.length : Math.floor((job.docs.length * job.polls) / job.pollsUntilDone);
        // While scraping, a share of the documents in proportion to the polls so far (the first poll may see none).
        const visible = job.docs.slice(0, seen);
        const status = done ? job.outcome : "scraping";
        const asked = Number(query.limit);
        const size = Number.isInteger(asked) && asked > 0 ? Math.min(pageSize, asked) : pageSize;
        const from = skip ?? 0;
        const data = visible.slice(from, from + size);
        const more = status === "scraping" || from + data.length < visible.length;
        const nextUrl = new URL(`${origin}${prefix}/v2/crawl/${job.id}`);
        nextUrl.searchParams.set("skip", String(from + data.length));
        if (query.limit) nextUrl.searchParams.set("limit", query.limit);
        return send(response, 200, {
          success: true,
          status,
          completed: visible.length,
          total: job.docs.length,
          creditsUsed: visible.length,
          expiresAt: job.expiresAt,
          ...(more ? { next: nextUrl.href } : {}),
          data,
        });
      }

      if (route === "POST /v2/search") {
        const web = runSearch(world, body);
        return send(response, 200, {
          success: true,
          data: { web },
          creditsUsed: Math.max(1, web.length),
          id: randomUUID(),
        });
      }

      if (route === "POST /v2/extract") {
        check(Array.isArray(body.urls) && body.urls.length > 0 && body.urls.every(isUrl), "urls", "Invalid URL list");
        const id = randomUUID();
        world.extracts.set(id, {
          id,
          data: next?.data ?? extractData(world, body.urls, body.schema),
          pollsUntilDone: Math.max(1, next?.polls ?? DEFAULT_POLLS),
          polls: 0,
          outcome: next?.outcome === "failed" ? "failed" : "completed",
          expiresAt: expiresAt(),
        });
        return send(response, 200, { success: true, id, urlTrace: [] });
      }

      // GET /v2/extract/{id}
      const job = world.extracts.get(decodeURIComponent(pathname.slice("/v2/extract/".length)));
      if (!job) return fail(response, 404, { message: "Extract job not found" });
      job.polls = Math.min(job.polls + 1, job.pollsUntilDone);
      const done = job.polls >= job.pollsUntilDone;
      const status = done ? job.outcome : "processing";
      return send(response, 200, {
        success: true,
        status,
        ...(status === "completed" ? { data: job.data } : {}),
        ...(status === "failed" ? { error: "Extraction failed" } : {}),
        expiresAt: job.expiresAt,
      });
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      return fail(response, 400, {
        code: "BAD_REQUEST",
        message: `Bad Request: ${error.message}`,
        details: [{ path: error.path.split("."), message: error.message }],
      });
    }
  });
  return control.listen(server, port);
};
