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
//   anything else                                     404, text/html
// Test-only, per scope: GET /__fake/requests (the log, below), POST /__fake/reset.
import { createServer } from "node:http";
import { createFakeControl } from "./fake-control.mjs";

/**
 * One request as received. `path` is without the scope prefix, `query` the raw search string ("" or "?…"),
 * `body` the first 64 KiB of the body as text; `sent` counts the body bytes the fake wrote, and `left` turns
 * true when the client closed the connection before the answer's end (it stopped reading, or gave up).
 * @typedef {{
 *   listener: "main" | "alt",
 *   method: string,
 *   path: string,
 *   query: string,
 *   headers: Record<string, string>,
 *   body: string,
 *   sent: number,
 *   left: boolean,
 * }} ReceivedRequest
 */

const CHUNK = 64 * 1024;

/** @param {string} text */
const escapeHtml = (text) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/**
 * @param {{ port?: number, altPort?: number }} [options]
 * @returns {Promise<{ url: string, altUrl: string, close: () => Promise<void> }>}
 */
export const startFakeSites = async ({ port = 0, altPort = 0 } = {}) => {
  /** @type {ReturnType<typeof createFakeControl<{}, ReceivedRequest>>} */
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
      if (route === "echo") {
        return answer(
          200,
          { "content-type": "application/json" },
          JSON.stringify({ method: record.method, headers: record.headers, body: raw }),
        );
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
