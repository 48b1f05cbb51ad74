// A local stand-in for Neon's WebSocket proxy: `@neondatabase/serverless` (and drizzle on top of it) speaks
// the Postgres wire protocol over a WebSocket, so the Worker can reach a plain local Postgres exactly the way
// it reaches Neon. With `neonConfig.wsProxy = (host, port) => "127.0.0.1:<bridgePort>/v1"` and TLS off, the
// client opens `ws://127.0.0.1:<bridgePort>/v1` and sends raw Postgres protocol bytes in binary frames; each
// such WebSocket becomes one TCP connection to the Postgres fixed at start. The `address` query parameter
// Neon's proxy honours is ignored on purpose: this is not an open proxy to whatever host a client names.
//
// Usage: node scripts/stack/pg-ws-bridge.mjs --port 25433 --target 127.0.0.1:25432
import { realpathSync } from "node:fs";
import { createServer } from "node:http";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { WebSocketServer } from "ws";

const TAG = "[pg-ws-bridge]";
// Above this much unsent data towards the client, stop reading from Postgres until the client catches up,
// so a large result set does not pile up in memory.
const HIGH_WATER_BYTES = 4 * 1024 * 1024;

/**
 * Starts the bridge. Listens on loopback only: the bridge does no authentication of its own.
 * @param {{ port: number, host?: string, target: { host: string, port: number } }} options
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export const startPgWsBridge = async ({ port, host = "127.0.0.1", target }) => {
  if (!/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(host))
    throw new Error(`startPgWsBridge: ${host} is not a loopback address`);

  // Upgraded sockets leave the HTTP server's bookkeeping, so close() needs its own list of open pairs.
  /** @type {Set<{ ws: import("ws").WebSocket, tcp: import("node:net").Socket }>} */
  const pairs = new Set();
  // Postgres frames need no compression on loopback, and Neon's client does not ask for it.
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  /** @param {import("ws").WebSocket} ws */
  const bridge = (ws) => {
    const tcp = connect({ host: target.host, port: target.port });
    tcp.setNoDelay(true);
    const pair = { ws, tcp };
    pairs.add(pair);

    // The client starts writing as soon as the WebSocket opens, often before the TCP connect completes;
    // net.Socket buffers those writes until it is connected, so nothing needs holding back here.
    ws.on("message", (data) => {
      if (!tcp.write(/** @type {Buffer} */ (data))) ws.pause();
    });
    tcp.on("drain", () => ws.resume());

    tcp.on("data", (chunk) => {
      // Always binary: the client does Buffer.from(event.data), which would mangle a text frame.
      ws.send(chunk, { binary: true }, () => {
        if (tcp.isPaused() && ws.bufferedAmount < HIGH_WATER_BYTES) tcp.resume();
      });
      if (ws.bufferedAmount >= HIGH_WATER_BYTES) tcp.pause();
    });

    // A graceful end lets Postgres see the client leave; an error on the WebSocket means nobody is left to
    // read, so the TCP side is dropped at once.
    ws.on("close", () => {
      pairs.delete(pair);
      tcp.end();
    });
    ws.on("error", () => tcp.destroy());
    // 1011 tells the client the database side failed (e.g. Postgres is not running), not the WebSocket.
    tcp.on("error", () => closeWs(ws, 1011, "postgres connection failed"));
    tcp.on("close", () => closeWs(ws, 1000, ""));
  };

  const server = createServer((req, res) => {
    const { pathname } = new URL(req.url ?? "/", "http://bridge");
    if (req.method === "GET" && pathname === "/__ape/health") {
      return send(res, 200, { ok: true, service: "ape-pg-ws-bridge" });
    }
    if (pathname === "/v1") return send(res, 426, { error: "Expected a WebSocket upgrade" });
    send(res, 404, { error: "Not found" });
  });

  server.on("upgrade", (req, socket, head) => {
    const { pathname } = new URL(req.url ?? "/", "http://bridge");
    if (pathname !== "/v1") {
      socket.on("error", () => {});
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, bridge);
  });

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(undefined);
    });
  });
  const address = /** @type {import("node:net").AddressInfo} */ (server.address());
  const hostPart = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `ws://${hostPart}:${address.port}/v1`;
  console.log(`${TAG} listening on ${url}, forwarding to Postgres at ${target.host}:${target.port}`);

  return {
    url,
    close: async () => {
      for (const { ws, tcp } of pairs) {
        ws.terminate();
        tcp.destroy();
      }
      pairs.clear();
      wss.close();
      await new Promise((resolve) => {
        server.close(() => resolve(undefined));
        server.closeAllConnections();
      });
    },
  };
};

/** @param {import("ws").WebSocket} ws @param {number} code @param {string} reason */
function closeWs(ws, code, reason) {
  if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
}

/** @param {import("node:http").ServerResponse} res @param {number} status @param {unknown} payload */
function send(res, status, payload) {
  const body = JSON.stringify(payload);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

const runAsCli = () => {
  try {
    return realpathSync(process.argv[1] ?? "") === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
};

if (runAsCli()) {
  const { values } = parseArgs({ options: { port: { type: "string" }, target: { type: "string" } } });
  const port = Number(values.port);
  const target = /^(.+):(\d+)$/.exec(values.target ?? "");
  if (!Number.isInteger(port) || port < 0 || port > 65535 || !target) {
    console.error("usage: node scripts/stack/pg-ws-bridge.mjs --port <port> --target <host>:<port>");
    process.exit(2);
  }
  const bridge = await startPgWsBridge({
    port,
    target: { host: (target[1] ?? "").replace(/^\[(.*)\]$/, "$1"), port: Number(target[2]) },
  });
  for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"])) {
    process.once(signal, () => {
      bridge.close().finally(() => process.exit(0));
    });
  }
}
