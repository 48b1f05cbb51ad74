// Small local websites for code that fetches a user's URL: pages, redirects (to anywhere, hostile targets
// included), large and slow answers, and a log of every request received, to prove what reached a server and
// what never did. It listens on two ports with the same routes and the same scopes: `url` and `altUrl` are two
// origins, for cross-origin redirects, and for a target that must stay out of FETCH_ALLOW_HOSTS while the site
// that redirects to it is in (each logged request names the `listener` that took it).
//
// Routes (under a scope, see fake-control.mjs, as `${url}/s/<scope>/page/home`; paths in Locations and links
// that the fake makes keep the scope):
//   GET  /page/<name>?links=a,b&type=<content-type>   a small HTML page titled <name>, linking to /page/a and
//                                                     /page/b; `type` changes its Content-Type
//   ANY  /redirect?to=<url>&status=302                answers `status` (default 302) with `Location: <to>`
//                                                     exactly as given (relative ones included)
//   ANY  /chain/<n>?status=302                        redirects to /chain/<n-1>; /chain/0 is a page
//   GET  /big?bytes=N&length=0&type=<content-type>    N bytes (default 1 MiB) of text/plain, in 64 KiB chunks;
//                                                     `length=0` leaves Content-Length out (chunked)
//   GET  /slow?ms=N&stage=headers|body                waits N ms (default 5000) before the headers, or, with
//                                                     stage=body, sends headers and a first chunk, then waits
//   ANY  /status/<code>                               answers <code> with a short text body
//   ANY  /echo                                        answers JSON of the method, headers and body it got
//   ANY  /hook[/<anything>]                           a webhook receiver: answers the scope's next scripted
//                                                     answer (POST /__fake/next { status, headers, body,
//                                                     delayMs, times }), else 200 "ok"; tests verify the
//                                                     logged requests' signatures with `standardwebhooks`
//   GET  /site/<host>/<path>                          <path> of the small website of <host> (SITES below),
//                                                     written as if it were at that host's own origin root:
//                                                     its links and Locations are root-relative, its rules at
//                                                     /site/<host>/robots.txt. A test reaches it through a
//                                                     fetcher that maps http://<host>/<path> here (an unknown
//                                                     host or path is a 404)
//   anything else                                     404, text/html
//   GET  <path>                                       a page the test registered for its scope (below)
// Test-only, per scope: GET /__fake/requests (the log, below), POST /__fake/reset, POST /__fake/pages.
import { createServer } from "node:http";
import { createFakeControl } from "./fake-control.mjs";

/**
 * One request as received. `path` is without the scope prefix, `query` the raw search string ("" or "?…"),
 * `body` the first 64 KiB of the body as text, `at` when it arrived (Date.now()); `sent` counts the body
 * bytes the fake wrote, and `left` turns true when the client closed the connection before the answer's end
 * (it stopped reading, or gave up).
 * @typedef {{
 *   listener: "main" | "alt",
 *   method: string,
 *   path: string,
 *   query: string,
 *   headers: Record<string, string>,
 *   body: string,
 *   sent: number,
 *   left: boolean,
 *   at: number,
 * }} ReceivedRequest
 */

const CHUNK = 64 * 1024;

/** @param {string} text */
const escapeHtml = (text) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/** @typedef {{ status: number, type: string, body: string, location?: string }} SiteAnswer */

/** @param {string} title @param {string} body @param {string} [head] @returns {SiteAnswer} */
const sitePage = (title, body, head = "") => ({
  status: 200,
  type: "text/html; charset=utf-8",
  body: `<!doctype html><html><head><title>${title}</title>${head}</head><body>${body}</body></html>`,
});
/** Anchors to each href, as given. @param {string[]} hrefs */
const anchors = (...hrefs) => hrefs.map((href) => `<a href="${href}">${escapeHtml(href)}</a>`).join(" ");
/** @param {string} body @returns {SiteAnswer} */
const robotsTxt = (body) => ({ status: 200, type: "text/plain", body });
/** @param {number} status @param {string} location @returns {SiteAnswer} */
const siteRedirect = (status, location) => ({ status, type: "text/plain", body: "Moved", location });
/** @param {Record<string, SiteAnswer>} pages */
const staticSite = (pages) => {
  const byPath = new Map(Object.entries(pages));
  return (/** @type {string} */ path) => byPath.get(path);
};
/**
 * A static site that also answers /go?to=<url> with a 302 to <url>, as given.
 * @param {Record<string, SiteAnswer>} pages
 */
const withRedirect = (pages) => {
  const site = staticSite(pages);
  return (/** @type {string} */ path, /** @type {URLSearchParams} */ query) =>
    path === "/go" ? siteRedirect(302, query.get("to") ?? "/") : site(path);
};

/**
 * Small websites by host, each answering `(path, query)` (undefined: 404), for the web reader's tests:
 * - shop.test: robots.txt rules (per user agent), a home page with every kind of link, a 500, redirects
 *   (within the site, into a disallowed path, in a loop, to the cloud metadata address, and /go?to=<url>
 *   anywhere), binary and plain text, and /crawl, a page linking to most of these;
 * - docs.test (no robots.txt): a home page and a guide, for crawl bounds and URL canonicalisation;
 * - list.test: /products?page=1..5, a listing paginated with rel=next links, in <head> and in the body;
 * - hub.test: links to its own pages, a subdomain, another site and look-alike hosts; blog.hub.test and
 *   elsewhere.test are one page each;
 * - down.test: robots.txt answers 503; slow.test: robots.txt asks for a Crawl-delay of 0.2 s.
 * @type {Map<string, (path: string, query: URLSearchParams) => SiteAnswer | undefined>}
 */
const SITES = new Map([
  [
    "shop.test",
    withRedirect({
      "/robots.txt": robotsTxt(
        "# The shop's rules\nUser-agent: *\nDisallow: /private\nAllow: /private/open\n\nUser-agent: otherbot\nDisallow: /\n",
      ),
      "/": sitePage(
        "Shop &amp; Co",
        `<h1>Welcome</h1><p>Everything for the <strong>home</strong>.</p>${anchors(
          "about",
          "/catalog/",
          "/about#team",
          "#top",
          "mailto:shop@example.com",
          "javascript:void(0)",
          "http://elsewhere.test/partners?ref=shop&amp;x=1",
          "/private/stash",
        )}`,
      ),
      "/about": sitePage("About", "<h1>About</h1><p>A small shop.</p>"),
      "/catalog/": sitePage("Catalog", "<h1>Catalog</h1><p>Things.</p>"),
      "/private/stash": sitePage("Stash", "<p>Not for robots.</p>"),
      "/private/open": sitePage("Open", "<p>Robots may read this one.</p>"),
      "/broken": { status: 500, type: "text/html", body: "<title>Broken</title><p>Internal error</p>" },
      "/moved": siteRedirect(301, "/about"),
      "/to-private": siteRedirect(302, "/private/stash"),
      "/leave": siteRedirect(302, "http://169.254.169.254/latest/meta-data/"),
      "/loop": siteRedirect(302, "/loop"),
      "/data.bin": { status: 200, type: "application/octet-stream", body: "\u0000\u0001binary" },
      "/notes.txt": { status: 200, type: "text/plain; charset=utf-8", body: "Plain notes.\n" },
      // Over the reader's 2 MiB a page.
      "/huge.html": {
        status: 200,
        type: "text/html; charset=utf-8",
        body: `<html><body>${"<p>Bulk text.</p>".repeat(160_000)}</body></html>`,
      },
      "/crawl": sitePage(
        "Crawl start",
        anchors("/about", "/broken", "/leave", "/private/stash", "/data.bin", "/logo.png", "/moved"),
      ),
    }),
  ],
  [
    "docs.test",
    staticSite({
      "/": sitePage(
        "Docs",
        anchors(
          "/guide/intro",
          "/guide/intro/",
          "http://DOCS.test:80/guide/setup#install",
          "/guide/setup",
          "/guide/advanced",
          "/blog/news",
        ),
      ),
      "/guide/intro": sitePage("Intro", anchors("/guide/intro/deep", "/guide/setup", "/")),
      "/guide/intro/deep": sitePage("Deep", "<p>Two links away.</p>"),
      "/guide/setup": sitePage("Setup", anchors("/")),
      "/guide/advanced": sitePage("Advanced", "<p>Excluded.</p>"),
      "/blog/news": sitePage("News", "<p>Not in the guide.</p>"),
    }),
  ],
  [
    "list.test",
    (path, query) => {
      const page = Number(query.get("page") ?? 1);
      if (path !== "/products" || !Number.isInteger(page) || page < 1 || page > 5) return undefined;
      const next = page < 5 ? `/products?page=${page + 1}` : null;
      const items = [1, 2, 3].map((item) => `<li>Product ${(page - 1) * 3 + item}</li>`).join("");
      return sitePage(
        `Products, page ${page}`,
        `<ul>${items}</ul>${page > 1 ? `<a rel="prev" href="/products?page=${page - 1}">Previous</a> ` : ""}${
          next ? `<a rel="next" href="${next}">Next</a>` : ""
        }`,
        next ? `<link rel="next" href="?page=${page + 1}">` : "",
      );
    },
  ],
  [
    "hub.test",
    staticSite({
      "/": sitePage(
        "Hub",
        anchors(
          "/local",
          "http://blog.hub.test/",
          "http://elsewhere.test/",
          "http://evilhub.test/",
          "http://hub.test.evil.test/",
        ),
      ),
      "/local": sitePage("Local", "<p>On the hub.</p>"),
    }),
  ],
  ["blog.hub.test", staticSite({ "/": sitePage("Blog", "<p>The hub's blog.</p>") })],
  [
    "elsewhere.test",
    staticSite({
      "/": sitePage("Elsewhere", "<p>Another site.</p>"),
      "/partners": sitePage("Partners", "<p>Partners.</p>"),
    }),
  ],
  [
    "down.test",
    staticSite({
      "/robots.txt": { status: 503, type: "text/plain", body: "Down for maintenance" },
      "/": sitePage("Down", "<p>Robots may not know.</p>"),
    }),
  ],
  [
    "slow.test",
    staticSite({
      "/robots.txt": robotsTxt("User-agent: *\nCrawl-delay: 0.2\n"),
      "/a": sitePage("A", ""),
      "/b": sitePage("B", ""),
      "/c": sitePage("C", ""),
    }),
  ],
]);

/**
 * @param {{ port?: number, altPort?: number }} [options]
 * @returns {Promise<{ url: string, altUrl: string, close: () => Promise<void> }>}
 */
export const startFakeSites = async ({ port = 0, altPort = 0 } = {}) => {
  /**
   * A scripted answer of /hook.
   * @typedef {{ status?: number, headers?: Record<string, string>, body?: string, delayMs?: number, times?: number, model?: string }} HookAnswer
   */
  /** @type {ReturnType<typeof createFakeControl<HookAnswer, ReceivedRequest>>} */
  const control = createFakeControl();

  /** Waits until the socket takes more, or the client is gone. @param {import("node:http").ServerResponse} response */
  const drained = (response) =>
    new Promise((resolve) => {
      const done = () => {
        response.off("drain", done);
        response.off("close", done);
        resolve(undefined);
      };
      response.on("drain", done);
      response.on("close", done);
    });

  /** Pages tests registered, per scope (the scope's state object is the key). @type {WeakMap<object, Map<string, any>>} */
  const registered = new WeakMap();

  /** @param {"main" | "alt"} listener */
  const handler =
    (listener) =>
    /** @param {import("node:http").IncomingMessage} request @param {import("node:http").ServerResponse} response */
    async (request, response) => {
      const { pathname, state } = control.route(request.url);
      const [rawPath = "/"] = (request.url ?? "/").split("?");
      // The scope's prefix ("/s/<scope>" or ""), for the paths the fake writes into Locations and links.
      const prefix = rawPath.slice(0, rawPath.length - pathname.length);
      const search = new URL(request.url ?? "/", "http://fake").search;
      const query = new URLSearchParams(search);
      let raw = "";
      try {
        raw = await control.read(request);
      } catch {
        return response.destroy();
      }
      if (state.handleControl(pathname, request.method, raw, response)) return;
      // A test's own pages, registered for its scope: POST /__fake/pages { "/listing?page=2": "<html>…" } (the
      // key is the path and query; a value may be { body, type, status }). Write links relative to the page
      // (`listing?page=2`), so they keep the scope's prefix.
      if (pathname === "/__fake/pages" && request.method === "POST") {
        const pages = registered.get(state) ?? new Map();
        for (const [key, value] of Object.entries(JSON.parse(raw))) pages.set(key, value);
        registered.set(state, pages);
        return response.writeHead(204).end();
      }

      /** @type {ReceivedRequest} */
      const record = {
        listener,
        method: request.method ?? "GET",
        path: pathname,
        query: search,
        headers: Object.fromEntries(
          Object.entries(request.headers).map(([name, value]) => [
            name,
            Array.isArray(value) ? value.join(", ") : `${value}`,
          ]),
        ),
        body: raw.slice(0, CHUNK),
        sent: 0,
        left: false,
        at: Date.now(),
      };
      state.received.push(record);
      response.on("close", () => {
        if (!response.writableEnded) record.left = true;
      });
      /** @param {number} status @param {Record<string, string>} headers @param {string} body */
      const answer = (status, headers, body) => {
        record.sent = Buffer.byteLength(body);
        response.writeHead(status, headers).end(body);
      };
      const page = (/** @type {string} */ name) => {
        const links = (query.get("links") ?? "").split(",").filter(Boolean);
        const anchors = links.map(
          (link) => `<a href="${prefix}/page/${encodeURIComponent(link)}">${escapeHtml(link)}</a>`,
        );
        const html = `<!doctype html><html><head><title>${escapeHtml(name)}</title></head><body><h1>${escapeHtml(name)}</h1><p>The page called ${escapeHtml(name)}.</p>${anchors.join(" ")}</body></html>`;
        answer(200, { "content-type": query.get("type") ?? "text/html; charset=utf-8" }, html);
      };
      const redirectStatus = Number(query.get("status") ?? 302);

      const [, route = "", rest = ""] = /^\/([^/]*)\/?(.*)$/.exec(pathname) ?? [];
      if (route === "page" && rest) return page(decodeURIComponent(rest));
      if (route === "redirect") {
        return answer(redirectStatus, { location: query.get("to") ?? "/", "content-type": "text/plain" }, "Moved");
      }
      if (route === "chain" && /^\d+$/.test(rest)) {
        const remaining = Number(rest);
        if (remaining === 0) return page("chain end");
        const next = `${prefix}/chain/${remaining - 1}${search}`;
        return answer(redirectStatus, { location: next, "content-type": "text/plain" }, "Moved");
      }
      if (route === "big") {
        const bytes = Number(query.get("bytes") ?? 1024 * 1024);
        response.writeHead(200, {
          "content-type": query.get("type") ?? "text/plain",
          ...(query.get("length") === "0" ? {} : { "content-length": String(bytes) }),
        });
        const chunk = Buffer.alloc(CHUNK, "a");
        while (record.sent < bytes && !response.destroyed) {
          const size = Math.min(CHUNK, bytes - record.sent);
          record.sent += size;
          if (!response.write(size === CHUNK ? chunk : chunk.subarray(0, size))) await drained(response);
        }
        if (!response.destroyed) response.end();
        return;
      }
      if (route === "slow") {
        const ms = Number(query.get("ms") ?? 5000);
        if (query.get("stage") === "body") {
          response.writeHead(200, { "content-type": "text/plain" });
          record.sent = 5;
          await control.write(response, "start");
          await control.hang(ms, response);
          if (!response.destroyed) response.end("end");
          return;
        }
        await control.hang(ms, response);
        if (response.destroyed) return;
        return answer(200, { "content-type": "text/plain" }, "finally");
      }
      if (route === "status" && /^\d{3}$/.test(rest)) {
        return answer(Number(rest), { "content-type": "text/plain" }, `Status ${rest}`);
      }
      if (route === "hook") {
        const scripted = state.takeScript(undefined);
        if (scripted?.delayMs) {
          await control.hang(scripted.delayMs, response);
          if (response.destroyed) return;
        }
        return answer(
          scripted?.status ?? 200,
          { "content-type": "text/plain", ...(scripted?.headers ?? {}) },
          scripted?.body ?? "ok",
        );
      }
      if (route === "echo") {
        return answer(
          200,
          { "content-type": "application/json" },
          JSON.stringify({ method: record.method, headers: record.headers, body: raw }),
        );
      }
      const own = registered.get(state)?.get(`${pathname}${search}`);
      if (own !== undefined) {
        const page = typeof own === "string" ? { body: own } : own;
        return answer(page.status ?? 200, { "content-type": page.type ?? "text/html; charset=utf-8" }, page.body ?? "");
      }
      if (route === "site" && rest) {
        const slash = rest.indexOf("/");
        const host = (slash < 0 ? rest : rest.slice(0, slash)).toLowerCase();
        const found = SITES.get(host)?.(slash < 0 ? "/" : rest.slice(slash), query);
        if (found) {
          const headers = { "content-type": found.type, ...(found.location ? { location: found.location } : {}) };
          return answer(found.status, headers, found.body);
        }
      }
      answer(404, { "content-type": "text/html" }, "<!doctype html><title>Not found</title><h1>Not found</h1>");
    };

  const main = await control.listen(createServer(handler("main")), port);
  const alt = await control.listen(createServer(handler("alt")), altPort);
  return {
    url: main.url,
    altUrl: alt.url,
    close: async () => {
      await main.close();
      await alt.close();
    },
  };
};
