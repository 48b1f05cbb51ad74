import { beforeEach, describe, expect, inject, it } from "vitest";
import {
  createFirecrawl,
  type FirecrawlClient,
  FirecrawlFailure,
  firecrawlFromEnv,
} from "../../src/integrations/firecrawl.js";

// APE's Firecrawl client, inside workerd, against test/helpers/fake-firecrawl.mjs (Firecrawl's v2 API over an
// in-memory site each test registers). Each test takes its own scope of the shared fake.
const scoped = () => `${inject("fakeFirecrawlUrl")}/s/${crypto.randomUUID()}`;
let base = scoped();
beforeEach(() => {
  base = scoped();
});

const KEY = "fc-secret-key-never-shown";
const client = (options: { apiKey?: string; timeoutMs?: number } = {}): FirecrawlClient =>
  createFirecrawl({ apiKey: KEY, apiUrl: base, ...options });

const script = (next: Record<string, unknown>) =>
  fetch(`${base}/__fake/next`, { method: "POST", body: JSON.stringify(next) });
const site = (pages: Record<string, string>) =>
  fetch(`${base}/__fake/site`, { method: "POST", body: JSON.stringify({ pages }) });
type Received = {
  method: string;
  route: string;
  query: Record<string, string>;
  authorization: string | null;
  body: Record<string, unknown> | null;
};
const received = async () => (await (await fetch(`${base}/__fake/requests`)).json()) as Received[];

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(FirecrawlFailure);
      return error as FirecrawlFailure;
    },
  );

/** A page of the test site: a nav and footer around the main content, which links to `links`. */
const page = (title: string, links: string[] = [], text = `All about ${title}.`) => `<!doctype html>
<html lang="en"><head><title>${title}</title><meta name="description" content="${title} page"></head>
<body><nav><a href="/">Home</a></nav><main><h1>${title}</h1><p>${text}</p>
<ul>${links.map((link) => `<li><a href="${link}">${link}</a></li>`).join("")}</ul></main>
<footer>© Site</footer></body></html>`;

/** Polls until the crawl is no longer scraping; returns the last status and how many polls it took. */
const pollCrawl = async (firecrawl: FirecrawlClient, id: string) => {
  for (let polls = 1; polls <= 20; polls += 1) {
    const status = await firecrawl.crawlStatus(id);
    if (status.status !== "scraping") return { status, polls };
  }
  throw new Error("the crawl never finished");
};

describe("scrape", () => {
  it("returns the page's main content as Markdown, its links and metadata, from the v2 body the SDK sends", async () => {
    await site({
      "http://docs.site.test/guide": page("Guide", ["/guide/install", "https://other.test/elsewhere"]),
    });
    const doc = await client().scrape("http://docs.site.test/guide", { formats: ["markdown", "links"] });

    expect(doc.markdown).toContain("# Guide");
    expect(doc.markdown).toContain("All about Guide.");
    expect(doc.markdown).toContain("[/guide/install](http://docs.site.test/guide/install)");
    // onlyMainContent (the default) leaves the nav and footer out of the text, not out of the links.
    expect(doc.markdown).not.toContain("© Site");
    expect(doc.links).toEqual([
      "http://docs.site.test/",
      "http://docs.site.test/guide/install",
      "https://other.test/elsewhere",
    ]);
    expect(doc.html).toBeNull();
    expect(doc.metadata).toEqual({
      title: "Guide",
      description: "Guide page",
      sourceURL: "http://docs.site.test/guide",
      url: "http://docs.site.test/guide",
      statusCode: 200,
    });
    const [request] = await received();
    expect(request).toMatchObject({ method: "POST", route: "/v2/scrape", authorization: "Bearer [redacted]" });
    expect(request?.body).toEqual({
      url: "http://docs.site.test/guide",
      formats: ["markdown", "links"],
      onlyMainContent: true,
      origin: "ape",
    });
  });

  it("keeps the whole page with onlyMainContent off, and reports a missing page as a 404 document", async () => {
    await site({ "http://docs.site.test/": page("Home") });
    const firecrawl = client();
    const whole = await firecrawl.scrape("http://docs.site.test/", { formats: ["html"], onlyMainContent: false });
    expect(whole.html).toContain("<footer>© Site</footer>");
    expect(whole.markdown).toBeNull();

    const missing = await firecrawl.scrape("http://docs.site.test/nope");
    expect(missing.metadata.statusCode).toBe(404);
    expect(missing.markdown).toContain("Not Found");
  });

  it("fails as SCRAPE_FAILED, not retryable, when the site's host does not resolve", async () => {
    const failure = await failureOf(client().scrape("http://no-such-host.test/"));
    expect(failure).toMatchObject({ code: "SCRAPE_FAILED", retryable: false, apiCode: "SCRAPE_DNS_RESOLUTION_ERROR" });
  });
});

describe("crawl", () => {
  // /docs links to two pages in bounds and to four that are not: one excluded, one outside includePaths, one
  // outside the start path, one on another host; /docs/a links one level deeper than maxDiscoveryDepth.
  const SITE = {
    "http://site.test/docs": page("Docs", [
      "/docs/a",
      "/docs/b#install",
      "/docs/private/keys",
      "/docs-old",
      "/blog/news",
      "https://other.test/docs/x",
    ]),
    "http://site.test/docs/a": page("A", ["/docs/a/deep", "/docs"]),
    "http://site.test/docs/b": page("B", ["/docs/a"]),
    "http://site.test/docs/a/deep": page("Deep"),
    "http://site.test/docs/private/keys": page("Keys"),
    "http://site.test/docs-old": page("Old docs"),
    "http://site.test/blog/news": page("News"),
    "http://other.test/docs/x": page("Elsewhere"),
  };

  it("reaches completed after polling and returns exactly the pages within depth, include and exclude", async () => {
    await site(SITE);
    await script({ path: "/v2/crawl", polls: 3 });
    const firecrawl = client();
    const started = await firecrawl.startCrawl("http://site.test/docs", {
      limit: 10,
      maxDiscoveryDepth: 1,
      includePaths: ["^/docs/"],
      excludePaths: ["^/docs/private/"],
    });
    expect(started.id).toMatch(/^[0-9a-f-]{36}$/);

    const { status, polls } = await pollCrawl(firecrawl, started.id);
    expect(polls).toBe(3);
    expect(status).toMatchObject({ id: started.id, status: "completed", total: 3, completed: 3, next: null });
    expect(status.data.map((doc) => doc.metadata.sourceURL).sort()).toEqual([
      "http://site.test/docs",
      "http://site.test/docs/a",
      "http://site.test/docs/b",
    ]);
    expect(status.data.every((doc) => doc.markdown?.startsWith("# "))).toBe(true);

    const [start] = await received();
    expect(start?.body).toEqual({
      url: "http://site.test/docs",
      excludePaths: ["^/docs/private/"],
      includePaths: ["^/docs/"],
      maxDiscoveryDepth: 1,
      limit: 10,
      allowExternalLinks: false,
      scrapeOptions: { formats: ["markdown"], onlyMainContent: true },
      origin: "ape",
    });
  });

  it("shows a crawl in progress with the documents done so far", async () => {
    await site(SITE);
    await script({ path: "/v2/crawl", polls: 2 });
    const firecrawl = client();
    const { id } = await firecrawl.startCrawl("http://site.test/docs", { limit: 10, maxDiscoveryDepth: 0 });
    // maxDiscoveryDepth 0: the start page only. Half-way through, nothing is done yet.
    const during = await firecrawl.crawlStatus(id);
    expect(during).toMatchObject({ status: "scraping", completed: 0, data: [] });
    expect(during.next).toContain(`/v2/crawl/${id}?skip=0`);
    const after = await firecrawl.crawlStatus(id);
    expect(after.data.map((doc) => doc.metadata.sourceURL)).toEqual(["http://site.test/docs"]);
  });

  const bigSite = () => {
    const children = Array.from({ length: 24 }, (_, index) => `/p${index + 1}`);
    return {
      children,
      pages: Object.fromEntries([
        ["http://big.site.test/", page("Big", children)],
        ...children.map((path) => [`http://big.site.test${path}`, page(`Page ${path}`)]),
      ]),
    };
  };

  it("brings a crawl of 25 pages back whole across Firecrawl's `next` pages", async () => {
    const { children, pages } = bigSite();
    await site(pages);
    await script({ path: "/v2/crawl", polls: 1 });
    const firecrawl = client();
    const { id } = await firecrawl.startCrawl("http://big.site.test/", { limit: 100 });
    const status = await firecrawl.crawlStatus(id);

    expect(status).toMatchObject({ status: "completed", total: 25, completed: 25, next: null });
    expect(status.data.map((doc) => doc.metadata.sourceURL)).toEqual([
      "http://big.site.test/",
      ...children.map((path) => `http://big.site.test${path}`),
    ]);
    // Ten documents a page: the poll, then skip=10 and skip=20.
    const reads = (await received()).filter((request) => request.route === "/v2/crawl/{id}");
    expect(reads.map((request) => request.query.skip ?? null)).toEqual([null, "10", "20"]);
  });

  it("resumes a read of a crawl still scraping from its `next`, fetching only the later documents", async () => {
    const { pages } = bigSite();
    await site(pages);
    await script({ path: "/v2/crawl", polls: 2 });
    const firecrawl = client();
    const { id } = await firecrawl.startCrawl("http://big.site.test/", { limit: 100 });

    const during = await firecrawl.crawlStatus(id);
    expect(during).toMatchObject({ status: "scraping", total: 25 });
    expect(during.data).toHaveLength(12);
    const done = await firecrawl.crawlStatus(id);
    expect(done.data).toHaveLength(25);
    const rest = await firecrawl.crawlStatus(id, during.next ?? "");
    expect(rest).toMatchObject({ status: "completed", next: null });
    expect([...during.data, ...rest.data].map((doc) => doc.metadata.sourceURL)).toEqual(
      done.data.map((doc) => doc.metadata.sourceURL),
    );
  });

  it("fails the whole read when one results page fails, instead of returning fewer documents", async () => {
    const { pages } = bigSite();
    await site(pages);
    await script({ path: "/v2/crawl", polls: 1 });
    const firecrawl = client();
    const { id } = await firecrawl.startCrawl("http://big.site.test/", { limit: 100 });
    await script({ path: "/v2/crawl/{id}" }); // the poll itself goes through
    await script({ path: "/v2/crawl/{id}", status: 500 });
    const failure = await failureOf(firecrawl.crawlStatus(id));
    expect(failure).toMatchObject({ code: "SERVER_ERROR", retryable: true, status: 500 });
  });

  it("refuses a `next` that is not this crawl's, and a crawl that does not exist is NOT_FOUND", async () => {
    const firecrawl = client();
    expect(await failureOf(firecrawl.crawlStatus("abc", `${base}/v2/scrape?skip=1`))).toMatchObject({
      code: "BAD_REQUEST",
    });
    expect(await failureOf(firecrawl.crawlStatus("no-such-crawl"))).toMatchObject({
      code: "NOT_FOUND",
      retryable: false,
      status: 404,
    });
  });

  it("reports a crawl that failed as failed", async () => {
    await site(SITE);
    await script({ path: "/v2/crawl", polls: 1, outcome: "failed" });
    const firecrawl = client();
    const { id } = await firecrawl.startCrawl("http://site.test/docs", { limit: 1 });
    expect((await firecrawl.crawlStatus(id)).status).toBe("failed");
  });
});

describe("search", () => {
  const SITES = {
    "http://docs.alpha.test/workers": page("Workers guide", [], "Durable Objects and queues on workers."),
    "http://blog.alpha.test/queues": page("Queues post", [], "Why queues beat cron for background work."),
    "http://beta.test/workers": page("Beta workers", [], "Running workers elsewhere."),
    "http://gamma.test/cakes": page("Cakes", [], "Chocolate cake recipe."),
  };

  it("returns web results for the query", async () => {
    await site(SITES);
    const results = await client().search("workers queues", { limit: 10 });
    expect(results.map((hit) => hit.url).sort()).toEqual([
      "http://beta.test/workers",
      "http://blog.alpha.test/queues",
      "http://docs.alpha.test/workers",
    ]);
    // The page that holds both words ranks first.
    expect(results[0]).toEqual({
      url: "http://docs.alpha.test/workers",
      title: "Workers guide",
      description: "Workers guide page",
    });
    const [request] = await received();
    expect(request?.body).toEqual({ query: "workers queues", limit: 10, origin: "ape" });
  });

  it("keeps to includeDomains (subdomains too) and away from excludeDomains, through Firecrawl's own fields", async () => {
    await site(SITES);
    const firecrawl = client();
    const within = await firecrawl.search("workers queues", { limit: 10, includeDomains: ["alpha.test"] });
    expect(within.map((hit) => hit.url).sort()).toEqual([
      "http://blog.alpha.test/queues",
      "http://docs.alpha.test/workers",
    ]);
    const away = await firecrawl.search("workers", { limit: 10, excludeDomains: ["docs.alpha.test"] });
    expect(away.map((hit) => hit.url)).toEqual(["http://beta.test/workers"]);
    const limited = await firecrawl.search("workers queues", { limit: 1 });
    expect(limited).toHaveLength(1);

    const bodies = (await received()).map((request) => request.body);
    expect(bodies[0]).toEqual({ query: "workers queues", includeDomains: ["alpha.test"], limit: 10, origin: "ape" });
    expect(bodies[1]).toEqual({ query: "workers", excludeDomains: ["docs.alpha.test"], limit: 10, origin: "ape" });
  });

  it("refuses both domain lists at once before calling, and passes on Firecrawl's 400 for a bad domain", async () => {
    const firecrawl = client();
    const both = await failureOf(
      firecrawl.search("x", { limit: 5, includeDomains: ["a.test"], excludeDomains: ["b.test"] }),
    );
    expect(both).toMatchObject({ code: "BAD_REQUEST", retryable: false, status: null });
    expect(await received()).toEqual([]);

    const bad = await failureOf(firecrawl.search("x", { limit: 5, includeDomains: ["https://a.test/path"] }));
    expect(bad).toMatchObject({ code: "BAD_REQUEST", status: 400, apiCode: "BAD_REQUEST" });
    expect(bad.message).toContain("Domain must be a valid hostname");
  });
});

describe("extract", () => {
  it("starts an extraction and reads it until it is completed", async () => {
    await site({ "http://shop.test/item": page("Green tea") });
    await script({ path: "/v2/extract", polls: 2 });
    const firecrawl = client();
    const schema = { type: "object", properties: { title: { type: "string" }, price: { type: "number" } } };
    const { id } = await firecrawl.startExtract(["http://shop.test/item"], { prompt: "The product", schema });
    expect((await firecrawl.extractStatus(id)).status).toBe("processing");
    expect(await firecrawl.extractStatus(id)).toMatchObject({
      id,
      status: "completed",
      data: { title: "Green tea", price: null },
      error: null,
    });
    const [start] = await received();
    expect(start?.body).toEqual({ urls: ["http://shop.test/item"], prompt: "The product", schema, origin: "ape" });
  });
});

describe("failures", () => {
  const HOME = "http://docs.site.test/";
  beforeEach(async () => {
    await site({ [HOME]: page("Home") });
  });

  it("402 is PAYMENT_REQUIRED, not retryable", async () => {
    await script({ status: 402 });
    const failure = await failureOf(client().scrape(HOME));
    expect(failure).toMatchObject({ code: "PAYMENT_REQUIRED", retryable: false, status: 402, retryAfterSeconds: null });
    expect(failure.message).toContain("Insufficient credits");
  });

  it("429 is RATE_LIMITED, retryable after the seconds of its Retry-After", async () => {
    await script({ status: 429, retryAfter: 7, path: "/v2/search" });
    const failure = await failureOf(client().search("home", { limit: 5 }));
    expect(failure).toMatchObject({ code: "RATE_LIMITED", retryable: true, status: 429, retryAfterSeconds: 7 });
  });

  it("500 is SERVER_ERROR, retryable; 502 and 503 too", async () => {
    await script({ status: 500, path: "/v2/crawl" });
    const firecrawl = client();
    const failure = await failureOf(firecrawl.startCrawl(HOME, { limit: 1 }));
    expect(failure).toMatchObject({ code: "SERVER_ERROR", retryable: true, status: 500 });
    for (const status of [502, 503]) {
      await script({ status });
      expect(await failureOf(firecrawl.scrape(HOME))).toMatchObject({ code: "SERVER_ERROR", retryable: true, status });
    }
  });

  it("401 without a valid key is UNAUTHORIZED, not retryable", async () => {
    const failure = await failureOf(client({ apiKey: "not-a-firecrawl-key" }).scrape(HOME));
    expect(failure).toMatchObject({ code: "UNAUTHORIZED", retryable: false, status: 401 });
    expect(failure.message).toContain("Invalid token");
  });

  it("Firecrawl's own 408 and a call past timeoutMs are TIMEOUT; a dropped connection is NETWORK", async () => {
    await script({ status: 408 });
    expect(await failureOf(client().scrape(HOME))).toMatchObject({
      code: "TIMEOUT",
      retryable: true,
      apiCode: "SCRAPE_TIMEOUT",
    });
    await script({ hangMs: 5_000 });
    const started = Date.now();
    expect(await failureOf(client({ timeoutMs: 300 }).scrape(HOME))).toMatchObject({
      code: "TIMEOUT",
      retryable: true,
      status: null,
    });
    expect(Date.now() - started).toBeLessThan(3_000);
    await script({ drop: true });
    expect(await failureOf(client().scrape(HOME))).toMatchObject({ code: "NETWORK", retryable: true, status: null });
  });

  it("never shows the key, even when Firecrawl's message repeats it", async () => {
    await script({ status: 500, message: `upstream rejected Authorization: Bearer ${KEY}` });
    await script({ status: 429, message: `key ${KEY} is over its limit`, retryAfter: 1 });
    const firecrawl = client();
    const failures = [
      await failureOf(firecrawl.scrape(HOME)),
      await failureOf(firecrawl.scrape(HOME)),
      await failureOf(client({ apiKey: `sk_${KEY}` }).scrape(HOME)),
      await script({ hangMs: 2_000 }).then(() => failureOf(client({ timeoutMs: 200 }).scrape(HOME))),
      await failureOf(createFirecrawl({ apiKey: KEY, apiUrl: "http://127.0.0.1:9" }).scrape(HOME)),
    ];
    expect(failures.map((failure) => failure.code)).toEqual([
      "SERVER_ERROR",
      "RATE_LIMITED",
      "UNAUTHORIZED",
      "TIMEOUT",
      "NETWORK",
    ]);
    for (const failure of failures) {
      const shown = [failure.message, String(failure), failure.stack ?? "", JSON.stringify(failure)].join("\n");
      expect(shown).not.toContain(KEY);
      expect(shown).not.toContain("secret-key");
    }
    expect(failures[0]?.message).toContain("[redacted]");
  });
});

describe("firecrawlFromEnv", () => {
  it("is null without FIRECRAWL_API_KEY and a client of FIRECRAWL_API_URL with it", async () => {
    expect(
      firecrawlFromEnv({ FIRECRAWL_API_KEY: undefined, FIRECRAWL_API_URL: "https://api.firecrawl.dev" }),
    ).toBeNull();
    await site({ "http://docs.site.test/": page("Home") });
    const firecrawl = firecrawlFromEnv({ FIRECRAWL_API_KEY: KEY, FIRECRAWL_API_URL: `${base}/` });
    expect((await firecrawl?.scrape("http://docs.site.test/"))?.metadata.title).toBe("Home");
  });
});
