// What every local wire fake shares: reading a body, a script of answers tests queue through POST /__fake/next
// (each entry optionally limited to one model and used `times` times), the log of received requests, holding
// a request open ("hang") until a time passes or the client leaves, and listening on loopback.
//
// Scopes: one fake serves every test file of a run, and those run in parallel, so a global script and log would
// let one file eat (or reset away) another's scripted answers. A request whose path starts with /s/<scope>/ is
// handled as the same request without that prefix, but against that scope's own script and log (created on
// first use); /s/<scope>/__fake/... act on that scope only. Paths without the prefix use the default scope.

/**
 * @template {{ model?: string, times?: number }} Entry
 * @template Received
 */
export const createFakeControl = () => {
  /** @type {Map<string, ReturnType<typeof scope>>} */
  const scopes = new Map();
  /** @type {Set<() => void>} */
  const hanging = new Set();

  const scope = () => {
    /** @type {Entry[]} */
    const script = [];
    /** @type {Received[]} */
    const received = [];
    return {
      received,

      /**
       * Answers the test-only routes (/__fake/next, /__fake/reset, /__fake/requests); false for any other.
       * @param {string} pathname @param {string | undefined} method @param {string} raw
       * @param {import("node:http").ServerResponse} response
       */
      handleControl: (pathname, method, raw, response) => {
        if (pathname === "/__fake/next" && method === "POST") {
          script.push(JSON.parse(raw));
          response.writeHead(204).end();
          return true;
        }
        if (pathname === "/__fake/reset" && method === "POST") {
          script.length = 0;
          received.length = 0;
          response.writeHead(204).end();
          return true;
        }
        if (pathname === "/__fake/requests" && method === "GET") {
          response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(received));
          return true;
        }
        return false;
      },

      /** The next scripted entry for `model`, used up after its `times`. @param {string | undefined} model */
      takeScript: (model) => {
        const index = script.findIndex((entry) => entry.model === undefined || entry.model === model);
        if (index < 0) return undefined;
        const entry = /** @type {Entry} */ (script[index]);
        entry.times = (entry.times ?? 1) - 1;
        if (entry.times <= 0) script.splice(index, 1);
        return entry;
      },
    };
  };

  /**
   * The path without its /s/<scope> prefix (and query), and the state of that scope ("" when unscoped).
   * @param {string | undefined} url
   */
  const route = (url) => {
    const [path = "/"] = (url ?? "/").split("?");
    const match = /^\/s\/([A-Za-z0-9_-]{1,64})(\/.*)$/.exec(path);
    const name = match?.[1] ?? "";
    const state = scopes.get(name) ?? scope();
    scopes.set(name, state);
    return { pathname: match?.[2] ?? path, state };
  };

  /** @param {import("node:http").IncomingMessage} request @returns {Promise<string>} */
  const read = (request) =>
    new Promise((resolve, reject) => {
      let body = "";
      request.setEncoding("utf8");
      request.on("data", (chunk) => {
        body += chunk;
      });
      request.on("end", () => resolve(body));
      request.on("error", reject);
    });

  return {
    route,

    /**
     * What every fake does first with a request: finds its scope and path, reads its body, and answers the
     * test-only routes. Null when the request is answered already (a control route, or a body that broke off,
     * whose connection is dropped); else the path, the scope's state and the body for the fake's own routes.
     * @param {import("node:http").IncomingMessage} request @param {import("node:http").ServerResponse} response
     */
    receive: async (request, response) => {
      const { pathname, state } = route(request.url);
      let raw = "";
      try {
        raw = await read(request);
      } catch {
        response.destroy();
        return null;
      }
      if (state.handleControl(pathname, request.method, raw, response)) return null;
      return { pathname, state, raw };
    },

    /**
     * A request body read as JSON: the value (null for an empty body), or, when it does not parse, the raw text
     * with `invalidJson` set, so a fake can answer the way its service does.
     * @param {string} raw @returns {{ body: any, invalidJson: boolean }}
     */
    parseJson: (raw) => {
      if (raw === "") return { body: null, invalidJson: false };
      try {
        return { body: JSON.parse(raw), invalidJson: false };
      } catch {
        return { body: raw, invalidJson: true };
      }
    },

    read,

    /** Waits `ms`, or less if the client gives up (closes the connection) or the server closes. */
    hang: (/** @type {number} */ ms, /** @type {import("node:http").ServerResponse} */ response) =>
      new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          hanging.delete(done);
          response.off("close", done);
          resolve(undefined);
        };
        const timer = setTimeout(done, ms);
        hanging.add(done);
        response.on("close", done);
      }),

    /** Resolves once the data is handed to the socket, so a later destroy cannot drop it. */
    write: (/** @type {import("node:http").ServerResponse} */ response, /** @type {Uint8Array | string} */ data) =>
      new Promise((resolve) => response.write(data, () => resolve(undefined))),

    /**
     * Listens on loopback and returns the fake's URL and a close() that also ends held requests.
     * @param {import("node:http").Server} server @param {number} port
     * @returns {Promise<{ url: string, close: () => Promise<void> }>}
     */
    listen: async (server, port) => {
      await new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(undefined)));
      const address = server.address();
      return {
        url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : port}`,
        close: () =>
          new Promise((resolve) => {
            for (const done of [...hanging]) done();
            server.closeAllConnections();
            server.close(() => resolve());
          }),
      };
    },
  };
};
