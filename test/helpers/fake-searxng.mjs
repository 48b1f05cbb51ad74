// A local server that speaks SearXNG's search API as APE's client (src/integrations/searxng.ts) calls it:
//
//   GET /search?q=<query>&format=json   → 200 { query, number_of_results, results: [{ url, title, content, engine,
//                                          engines, parsed_url, template, positions, score, category }], answers,
//                                          corrections, infoboxes, suggestions, unresponsive_engines }
//
// as SearXNG answers when `json` is in its `search.formats`. Any other `format` is a 403 ("Forbidden", as
// SearXNG answers a format it does not serve); no `q` is a 400. The index it searches is per scope (see
// fake-control.mjs): POST /__fake/index `{ results: [{ url, title, content }] }` (added to what is there;
// POST /__fake/reset empties it too). A result matches when its title or content holds any word of the query,
// ranked by how many (ties keep the order they were added); no match is the empty answer SearXNG gives
// (`results: []`, `number_of_results: 0`).
//
// Scripted answers: POST /__fake/next `{ status, body?, times? }` answers the next `times` (default 1)
// searches with that status and body (text; default SearXNG's plain error page), e.g. 429 as its limiter
// answers, or 500. Every search is logged: GET /__fake/requests lists `{ path, q, format, at }`.
import { createServer } from "node:http";
import { createFakeControl } from "./fake-control.mjs";

/** @typedef {{ url: string, title: string, content: string }} IndexedPage */
/** @typedef {{ path: string, q: string | null, format: string | null, at: number }} ReceivedSearch */

const words = (/** @type {string} */ text) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/** Starts the fake on loopback (an OS-chosen port unless `port`). */
export const startFakeSearxng = async ({ port = 0 } = {}) => {
  /** @type {ReturnType<typeof createFakeControl<{ status: number, body?: string, times?: number }, ReceivedSearch>>} */
  const control = createFakeControl();
  /** @type {WeakMap<object, IndexedPage[]>} */
  const indexes = new WeakMap();

  const server = createServer(async (request, response) => {
    const received = await control.receive(request, response);
    if (!received) return;
    const { pathname, state, raw } = received;
    const index = indexes.get(state) ?? [];
    indexes.set(state, index);
    if (pathname === "/__fake/index" && request.method === "POST") {
      index.push(...JSON.parse(raw).results);
      return response.writeHead(204).end();
    }
    if (pathname !== "/search") return response.writeHead(404, { "content-type": "text/plain" }).end("Not Found");
    const params = new URL(request.url ?? "/", "http://fake").searchParams;
    const q = params.get("q");
    const format = params.get("format");
    state.received.push({ path: pathname, q, format, at: Date.now() });
    const scripted = state.takeScript(undefined);
    if (scripted) {
      return response
        .writeHead(scripted.status, { "content-type": "text/html; charset=utf-8" })
        .end(scripted.body ?? `<html><body><h1>${scripted.status}</h1></body></html>`);
    }
    if (format !== "json") return response.writeHead(403, { "content-type": "text/plain" }).end("Forbidden");
    if (!q) return response.writeHead(400, { "content-type": "text/plain" }).end("Bad Request");
    const asked = new Set(words(q));
    const results = index
      .map((page, order) => {
        const held = new Set(words(`${page.title} ${page.content}`));
        return { page, order, score: [...asked].filter((word) => held.has(word)).length };
      })
      .filter((entry) => entry.score > 0)
      .sort((a, b) => b.score - a.score || a.order - b.order)
      .map(({ page, score }, position) => {
        const url = new URL(page.url);
        return {
          url: page.url,
          title: page.title,
          content: page.content,
          engine: "fake",
          engines: ["fake"],
          parsed_url: [url.protocol.slice(0, -1), url.host, url.pathname, "", url.search.slice(1), url.hash.slice(1)],
          template: "default.html",
          positions: [position + 1],
          score,
          category: "general",
        };
      });
    response.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({
        query: q,
        number_of_results: results.length,
        results,
        answers: [],
        corrections: [],
        infoboxes: [],
        suggestions: [],
        unresponsive_engines: [],
      }),
    );
  });
  return control.listen(server, port);
};
