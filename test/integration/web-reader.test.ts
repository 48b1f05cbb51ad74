import { beforeEach, describe, expect, inject, it } from "vitest";
import { createSafeFetch } from "../../src/integrations/safe-fetch.js";
import {
  type CrawlSummary,
  createWebReader,
  DEFAULT_USER_AGENT,
  type SkippedPage,
  type WebPage,
  WebReadError,
} from "../../src/integrations/web-reader.js";

// The web reader inside workerd, against the small websites of test/helpers/fake-sites.mjs (SITES there). Each
// site is served as if at the root of its own origin, `http://<host>/`: the reader sees those URLs, and the
// safe fetch checks them (the hosts are allow-listed, as FETCH_ALLOW_HOSTS would), and only at the wire does
// a fetcher map `http://<host>.test/<path>` to the fake's `/s/<scope>/site/<host>/<path>`. So robots.txt is
// at each origin's root, each test has its own request log, and each site is its own host for the per-host
// pace. The fake's alt listener stands for an internal target: it is never allow-listed, and its log must
// stay empty.
const sitesUrl = inject("fakeSitesUrl");
const targetUrl = inject("fakeSitesAltUrl");
const dnsUrl = inject("fakeDnsUrl");
const SITE_HOSTS = [
  "shop.test",
  "docs.test",
  "list.test",
  "hub.test",
  "blog.hub.test",
  "elsewhere.test",
  "down.test",
  "slow.test",
];

let scope = crypto.randomUUID();
beforeEach(() => {
  scope = crypto.randomUUID();
});

type Received = {
  listener: "main" | "alt";
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  at: number;
};
const received = async () => (await (await fetch(`${sitesUrl}/s/${scope}/__fake/requests`)).json()) as Received[];
/** The requests a site received, as `<path><query>` of the site, in order. */
const siteLog = async (host: string) =>
  (await received())
    .filter((request) => request.path === `/site/${host}` || request.path.startsWith(`/site/${host}/`))
    .map((request) => ({ ...request, at: request.at, path: request.path.slice(`/site/${host}`.length) || "/" }));
const sitePaths = async (host: string) => (await siteLog(host)).map((request) => `${request.path}${request.query}`);

/** The reader as production builds it, over a safe fetch whose fetcher maps the sites' hosts to the fake. */
const readerFor = (options: { perHostIntervalMs?: number; userAgent?: string } = {}) => {
  const fetched: string[] = [];
  const fetcher: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    if (url.href.startsWith(dnsUrl)) return fetch(input, init);
    fetched.push(url.href);
    if (!url.hostname.endsWith(".test")) return fetch(input, init);
    return fetch(`${sitesUrl}/s/${scope}/site/${url.hostname}${url.pathname}${url.search}`, init);
  };
  const safeFetch = createSafeFetch({ allowHosts: SITE_HOSTS, resolverUrl: `${dnsUrl}/s/${scope}/dns-query`, fetcher });
  const reader = createWebReader({ safeFetch, perHostIntervalMs: 0, timeoutMs: 5_000, ...options });
  return { reader, fetched };
};

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected the read to fail");
    },
    (error: unknown) => {
      if (!(error instanceof WebReadError)) throw error;
      return error;
    },
  );

/** Every item a crawl yields, and the summary it returns. */
const drain = async (crawl: AsyncGenerator<WebPage | SkippedPage, CrawlSummary, undefined>) => {
  const items: (WebPage | SkippedPage)[] = [];
  for (;;) {
    const next = await crawl.next();
    if (next.done) return { items, summary: next.value };
    items.push(next.value);
  }
};
const urlsOf = (items: (WebPage | SkippedPage)[]) => items.map((item) => item.url);
const skipsOf = (items: (WebPage | SkippedPage)[]) =>
  items.flatMap((item) => ("skipped" in item ? [[item.url, item.reason, item.status]] : []));

describe("reading a page", () => {
  it("reads a page as Markdown, with its title and its links made absolute", async () => {
    const { reader } = readerFor();
    const page = await reader.read("http://shop.test/");
    expect(page).toMatchObject({
      url: "http://shop.test/",
      requestedUrl: "http://shop.test/",
      status: 200,
      contentType: "text/html",
      title: "Shop & Co",
      description: null,
    });
    expect(page.markdown).toContain("# Welcome");
    expect(page.markdown).toContain("Everything for the **home**.");
    expect(page.html).toContain("<h1>Welcome</h1>");
    expect(Date.parse(page.fetchedAt)).not.toBeNaN();
    // Relative and root-relative resolved, `about` and `about#team` one link, and no fragment, mail or script.
    expect(page.links).toEqual([
      "http://shop.test/about",
      "http://shop.test/catalog/",
      "http://elsewhere.test/partners?ref=shop&x=1",
      "http://shop.test/private/stash",
    ]);
    const log = await siteLog("shop.test");
    expect(log.map((request) => request.path)).toEqual(["/robots.txt", "/"]);
    expect(log.map((request) => request.headers["user-agent"])).toEqual([DEFAULT_USER_AGENT, DEFAULT_USER_AGENT]);
  });

  it("follows a redirect, each hop spaced and checked, and says where it ended", async () => {
    const { reader } = readerFor();
    const page = await reader.read("http://shop.test/moved#top");
    expect(page).toMatchObject({
      url: "http://shop.test/about",
      requestedUrl: "http://shop.test/moved",
      title: "About",
    });
    expect(await sitePaths("shop.test")).toEqual(["/robots.txt", "/moved", "/about"]);
  });

  it("reads plain text as it is, and refuses what is not a page", async () => {
    const { reader } = readerFor();
    expect(await reader.read("http://shop.test/notes.txt")).toMatchObject({
      contentType: "text/plain",
      markdown: "Plain notes.",
      html: null,
      links: [],
      title: null,
    });
    const binary = await failureOf(reader.read("http://shop.test/data.bin"));
    expect({ reason: binary.reason, retryable: binary.retryable }).toEqual({
      reason: "content_type",
      retryable: false,
    });
    expect(binary.message).toMatch(/application\/octet-stream/);
  });

  it("refuses a page over 2 MiB instead of holding it", async () => {
    const { reader } = readerFor();
    const huge = await failureOf(reader.read("http://shop.test/huge.html"));
    expect({ reason: huge.reason, retryable: huge.retryable }).toEqual({ reason: "too_large", retryable: false });
  });

  it("fails a page that answers outside 2xx, or redirects without end, rather than read an error page", async () => {
    const { reader } = readerFor();
    const broken = await failureOf(reader.read("http://shop.test/broken"));
    expect({ reason: broken.reason, status: broken.status, retryable: broken.retryable }).toEqual({
      reason: "status",
      status: 500,
      retryable: true,
    });
    const missing = await failureOf(reader.read("http://shop.test/missing"));
    expect({ reason: missing.reason, status: missing.status, retryable: missing.retryable }).toEqual({
      reason: "status",
      status: 404,
      retryable: false,
    });
    expect((await failureOf(reader.read("http://shop.test/loop"))).reason).toBe("too_many_redirects");
    // The first request and five redirects followed, then no more.
    expect((await sitePaths("shop.test")).filter((path) => path === "/loop")).toHaveLength(6);
  });

  it("refuses a redirect to an internal address, sending it nothing", async () => {
    const { reader, fetched } = readerFor();
    const internal = `${targetUrl}/s/${scope}/page/secret?token=hunter2`;
    const failure = await failureOf(reader.read(`http://shop.test/go?to=${encodeURIComponent(internal)}`));
    expect({ reason: failure.reason, retryable: failure.retryable }).toEqual({
      reason: "address_not_allowed",
      retryable: false,
    });
    expect(failure.message).not.toMatch(/hunter2|secret/);
    expect((await failureOf(reader.read("http://shop.test/leave"))).reason).toBe("address_not_allowed");
    // Neither the target's robots.txt nor its page was asked for, and the target saw nothing.
    expect(fetched.filter((url) => !url.startsWith("http://shop.test/"))).toEqual([]);
    expect((await received()).filter((request) => request.listener === "alt")).toEqual([]);
  });

  it("throws for a URL that is not http(s), before any request", async () => {
    const { reader, fetched } = readerFor();
    for (const url of ["not a url", "ftp://shop.test/", "file:///etc/passwd", "javascript:alert(1)"]) {
      expect((await failureOf(reader.read(url))).reason).toBe("invalid_url");
    }
    expect(fetched).toEqual([]);
  });
});

describe("robots.txt", () => {
  it("never requests a page robots.txt disallows (nor one a redirect leads into), reading it once", async () => {
    const { reader } = readerFor();
    const disallowed = await failureOf(reader.read("http://shop.test/private/stash"));
    expect({ reason: disallowed.reason, retryable: disallowed.retryable }).toEqual({
      reason: "robots",
      retryable: false,
    });
    expect(disallowed.message).toBe("robots.txt of shop.test disallows this path for ape");
    expect((await failureOf(reader.read("http://shop.test/to-private"))).reason).toBe("robots");
    // `Allow: /private/open` is longer than `Disallow: /private`, so it wins.
    expect((await reader.read("http://shop.test/private/open")).title).toBe("Open");
    expect((await reader.read("http://shop.test/about")).title).toBe("About");
    expect(await sitePaths("shop.test")).toEqual(["/robots.txt", "/to-private", "/private/open", "/about"]);
  });

  it("follows the group of its own user agent", async () => {
    const { reader } = readerFor({ userAgent: "OtherBot/2.0 (+https://example.com/bot)" });
    const failure = await failureOf(reader.read("http://shop.test/about"));
    expect(failure.message).toBe("robots.txt of shop.test disallows this path for otherbot");
    const log = await siteLog("shop.test");
    expect(log.map((request) => [request.path, request.headers["user-agent"]])).toEqual([
      ["/robots.txt", "OtherBot/2.0 (+https://example.com/bot)"],
    ]);
  });

  it("reads nothing of a site whose robots.txt answers 5xx, and everything of one that has none", async () => {
    const { reader } = readerFor();
    const failure = await failureOf(reader.read("http://down.test/"));
    expect({ reason: failure.reason, retryable: failure.retryable }).toEqual({ reason: "robots", retryable: true });
    expect(failure.message).toMatch(/robots\.txt of down\.test answered 503/);
    expect((await failureOf(reader.read("http://down.test/other"))).reason).toBe("robots");
    expect(await sitePaths("down.test")).toEqual(["/robots.txt"]);

    expect((await reader.read("http://docs.test/")).title).toBe("Docs");
    expect(await sitePaths("docs.test")).toEqual(["/robots.txt", "/"]);
  });

  it("waits a Crawl-delay longer than its own interval", async () => {
    const { reader } = readerFor({ perHostIntervalMs: 10 });
    for (const path of ["/a", "/b", "/c"]) await reader.read(`http://slow.test${path}`);
    const log = await siteLog("slow.test");
    expect(log.map((request) => request.path)).toEqual(["/robots.txt", "/a", "/b", "/c"]);
    // robots.txt is read at the reader's own pace; the pages after it at the site's 0.2 s. The reader books
    // each request's start 200 ms after the last; the fake sees arrivals, which a loaded machine delays by a
    // varying amount each, so a gap may come out short of 200 by the earlier request's delay. 150 leaves 50 ms
    // for that and is still far past the 10 ms the reader's own interval would give.
    for (const [index, request] of log.entries()) {
      if (index < 2) continue;
      expect(request.at - (log[index - 1]?.at ?? 0)).toBeGreaterThanOrEqual(150);
    }
  });
});

describe("the per-host pace", () => {
  it("spaces requests to one host, concurrent ones too, none dropped, and leaves other hosts alone", async () => {
    const { reader } = readerFor({ perHostIntervalMs: 50 });
    const pages = await Promise.all([
      reader.read("http://shop.test/"),
      reader.read("http://shop.test/about"),
      reader.read("http://shop.test/catalog/"),
      reader.read("http://docs.test/"),
    ]);
    expect(pages.map((page) => page.title)).toEqual(["Shop & Co", "About", "Catalog", "Docs"]);
    const shop = await siteLog("shop.test");
    expect(shop.map((request) => request.path)).toEqual(["/robots.txt", "/", "/about", "/catalog/"]);
    for (const [index, request] of shop.entries()) {
      if (index === 0) continue;
      // 50 ms apart as the reader booked them; a little less on arrival, for the way there.
      expect(request.at - (shop[index - 1]?.at ?? 0)).toBeGreaterThanOrEqual(40);
    }
    // The other host went at its own pace: its page came before the shop's last, not after it.
    const docs = await siteLog("docs.test");
    expect(docs.map((request) => request.path)).toEqual(["/robots.txt", "/"]);
    expect(docs[1]?.at).toBeLessThan(shop[3]?.at ?? 0);
  });
});

describe("crawling", () => {
  it("crawls a small site within its depth, include and exclude bounds, and yields exactly those pages", async () => {
    const { reader } = readerFor();
    const crawl = reader.crawl("http://docs.test/", {
      maxPages: 20,
      maxDepth: 1,
      includePaths: ["/guide/**"],
      excludePaths: ["/guide/advanced"],
    });
    const { items, summary } = await drain(crawl);
    expect(urlsOf(items)).toEqual([
      "http://docs.test/",
      "http://docs.test/guide/intro",
      "http://docs.test/guide/setup",
    ]);
    expect(summary).toEqual({ finished: true, truncated: false, remaining: 0, pagesRead: 3, pagesSkipped: 0 });
    // `/guide/intro/`, `http://DOCS.test:80/guide/setup#install` were the same pages: each was read once.
    expect(await sitePaths("docs.test")).toEqual(["/robots.txt", "/", "/guide/intro", "/guide/setup"]);

    // As do a one-level glob and a plain string (a regular expression matching anywhere in the path, as
    // Firecrawl's), or an anchored regular expression; one level deeper adds the deep page, and depth 0 is
    // the start alone.
    const plain = await drain(
      readerFor().reader.crawl("http://docs.test/", {
        maxPages: 20,
        maxDepth: 1,
        includePaths: ["/guide/*"],
        excludePaths: ["advanced"],
      }),
    );
    expect(urlsOf(plain.items)).toEqual(urlsOf(items));
    const regex = await drain(
      readerFor().reader.crawl("http://docs.test/", {
        maxPages: 20,
        maxDepth: 1,
        includePaths: ["^/guide/(intro|setup)$"],
      }),
    );
    expect(urlsOf(regex.items)).toEqual(urlsOf(items));
    const deeper = await drain(
      readerFor().reader.crawl("http://docs.test/", {
        maxPages: 20,
        maxDepth: 2,
        includePaths: ["guide/**"],
        excludePaths: ["/guide/advanced"],
      }),
    );
    expect(urlsOf(deeper.items)).toEqual([...urlsOf(items), "http://docs.test/guide/intro/deep"]);
    const startOnly = await drain(readerFor().reader.crawl("http://docs.test/", { maxPages: 20, maxDepth: 0 }));
    expect(urlsOf(startOnly.items)).toEqual(["http://docs.test/"]);
    expect(startOnly.summary.truncated).toBe(false);
  });

  it("follows a paginated listing to its last page", async () => {
    const { reader } = readerFor();
    const { items, summary } = await drain(
      reader.crawl("http://list.test/products?page=1", { maxPages: 50, maxDepth: 10 }),
    );
    expect(items.map((item) => ("skipped" in item ? item.reason : item.title))).toEqual([
      "Products, page 1",
      "Products, page 2",
      "Products, page 3",
      "Products, page 4",
      "Products, page 5",
    ]);
    expect((items[4] as WebPage).markdown).toContain("Product 15");
    expect(summary).toMatchObject({ truncated: false, remaining: 0, pagesRead: 5 });
    // Next in <head> and in the body, Previous: one request a page all the same.
    expect(await sitePaths("list.test")).toEqual([
      "/robots.txt",
      "/products?page=1",
      "/products?page=2",
      "/products?page=3",
      "/products?page=4",
      "/products?page=5",
    ]);
  });

  it("says when maxPages cut it short, and how many pages still waited", async () => {
    const { reader } = readerFor();
    const progress: unknown[] = [];
    const crawl = reader.crawl("http://docs.test/", { maxPages: 2, maxDepth: 3 }, (item, state) => {
      progress.push([item.url, state]);
    });
    const { items, summary } = await drain(crawl);
    expect(urlsOf(items)).toEqual(["http://docs.test/", "http://docs.test/guide/intro"]);
    // Waiting: /guide/setup, /guide/advanced and /blog/news from the home page, /guide/intro/deep from the intro.
    expect(summary).toEqual({ finished: true, truncated: true, remaining: 4, pagesRead: 2, pagesSkipped: 0 });
    expect(progress).toEqual([
      ["http://docs.test/", { pagesRead: 1, pagesSkipped: 0, queued: 4 }],
      ["http://docs.test/guide/intro", { pagesRead: 2, pagesSkipped: 0, queued: 4 }],
    ]);
    expect(await sitePaths("docs.test")).toEqual(["/robots.txt", "/", "/guide/intro"]);
  });

  it("keeps to the start's host and its subdomains, unless told otherwise", async () => {
    const { reader, fetched } = readerFor();
    const { items } = await drain(reader.crawl("http://hub.test/", { maxPages: 20, maxDepth: 1 }));
    expect(urlsOf(items)).toEqual(["http://hub.test/", "http://hub.test/local", "http://blog.hub.test/"]);
    // Look-alikes (evilhub.test, hub.test.evil.test) are other sites: never asked for.
    expect(fetched.filter((url) => !/^http:\/\/(blog\.)?hub\.test\//.test(url))).toEqual([]);

    const open = readerFor();
    const everywhere = await drain(
      open.reader.crawl("http://hub.test/", { maxPages: 20, maxDepth: 1, sameSiteOnly: false }),
    );
    expect(urlsOf(everywhere.items)).toEqual([
      "http://hub.test/",
      "http://hub.test/local",
      "http://blog.hub.test/",
      "http://elsewhere.test/",
      "http://evilhub.test/",
      "http://hub.test.evil.test/",
    ]);
    // The look-alikes are not allow-listed, and resolve to nothing: skipped, never thrown.
    expect(skipsOf(everywhere.items)).toEqual([
      ["http://evilhub.test/", "dns_failed", null],
      ["http://hub.test.evil.test/", "dns_failed", null],
    ]);
  });

  it("yields the pages it cannot read as skipped, and goes on: robots, errors, hostile redirects, non-pages", async () => {
    const { reader, fetched } = readerFor();
    const { items, summary } = await drain(reader.crawl("http://shop.test/crawl", { maxPages: 20, maxDepth: 1 }));
    expect(urlsOf(items)).toEqual([
      "http://shop.test/crawl",
      "http://shop.test/about",
      "http://shop.test/broken",
      "http://shop.test/leave",
      "http://shop.test/private/stash",
      "http://shop.test/data.bin",
    ]);
    expect(skipsOf(items)).toEqual([
      ["http://shop.test/broken", "status", 500],
      ["http://shop.test/leave", "address_not_allowed", null],
      ["http://shop.test/private/stash", "robots", null],
      ["http://shop.test/data.bin", "content_type", null],
    ]);
    expect(summary).toEqual({ finished: true, truncated: false, remaining: 0, pagesRead: 2, pagesSkipped: 4 });
    // /logo.png is not a page, so not queued; /moved leads to /about, read already: not fetched nor yielded again.
    expect(await sitePaths("shop.test")).toEqual([
      "/robots.txt",
      "/crawl",
      "/about",
      "/broken",
      "/leave",
      "/data.bin",
      "/moved",
    ]);
    expect(fetched.filter((url) => !url.startsWith("http://shop.test/"))).toEqual([]);
  });

  it("throws at once for a start URL that is not http(s), or bounds out of range, before any request", async () => {
    const { reader, fetched } = readerFor();
    expect(() => reader.crawl("mailto:someone@example.com", { maxPages: 5, maxDepth: 1 })).toThrow(WebReadError);
    expect(() => reader.crawl("http://docs.test/", { maxPages: 0, maxDepth: 1 })).toThrow();
    expect(() => reader.crawl("http://docs.test/", { maxPages: 501, maxDepth: 1 })).toThrow();
    expect(() => reader.crawl("http://docs.test/", { maxPages: 5, maxDepth: 11 })).toThrow();
    expect(() => reader.crawl("http://docs.test/", { maxPages: 5, maxDepth: 1, includePaths: ["^(/guide"] })).toThrow();
    // A backreference is what a linear-time engine cannot run: refused, not run by a backtracking one.
    expect(() => reader.crawl("http://docs.test/", { maxPages: 5, maxDepth: 1, excludePaths: ["^/(a)\\1"] })).toThrow();
    expect(fetched).toEqual([]);
  });
});
