// A local stand-in for Upstash: an HTTP server speaking Upstash Redis's REST protocol in front of a plain
// redis-server, so the Worker's `@upstash/redis` and `@upstash/ratelimit` clients run unchanged in dev and
// tests. It follows https://upstash.com/docs/redis/features/restapi and what @upstash/redis actually sends
// and decodes; where the two differ from stock Redis, the comments below say why the bridge does what it does.
//
// Usage: node scripts/stack/upstash-bridge.mjs --port 25480 --redis redis://127.0.0.1:25479 --token T
import { createHash, timingSafeEqual } from "node:crypto";
import { realpathSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
// ioredis is CommonJS: take its members off the module object, which works under Node and under Vite alike.
import ioredis from "ioredis";

const { Redis, ReplyError } = ioredis;

const TAG = "[upstash-bridge]";
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const OK = Buffer.from("OK");

// Every request shares one Redis connection, so commands that change that connection's state, or park it
// waiting, would leak into or stall everybody else's requests. Upstash's REST API refuses them too (it
// serves pub/sub and MONITOR through separate streaming endpoints, which this bridge does not offer).
const REFUSED = new Set(
  [
    ["auth", "hello", "select", "quit", "reset", "readonly", "readwrite", "sync", "psync", "replconf"],
    ["multi", "exec", "discard", "watch", "unwatch", "monitor"],
    ["subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe"],
    ["blpop", "brpop", "brpoplpush", "blmove", "blmpop", "bzpopmin", "bzpopmax", "bzmpop", "wait", "waitaof"],
  ].flat(),
);
const REFUSED_CLIENT_SUBCOMMANDS = new Set(["reply", "tracking", "caching", "setname", "setinfo", "no-evict"]);

// The only shebang flags stock Redis 7 accepts. Upstash adds its own (e.g. `allow-key-locking`, which
// every @upstash/ratelimit script declares) and Redis rejects those with "Unexpected flag in script shebang".
const REDIS_SCRIPT_FLAGS = new Set(["no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"]);

/** An error that becomes an HTTP answer as it stands: `{ "error": message }` with this status. */
class HttpError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** @typedef {string | Buffer} Arg */
/** @typedef {{ args: Arg[], reply?: (raw: unknown) => unknown }} Prepared A command ready for ioredis. */
/** @typedef {{ result: unknown } | { error: string }} Outcome One entry of a pipeline or transaction answer. */

/** @param {unknown} value */
const lower = (value) => String(value ?? "").toLowerCase();
/** @param {string | Buffer} text */
const sha1 = (text) => createHash("sha1").update(text).digest("hex");

/**
 * Rewrites scripts that carry Upstash-only shebang flags so Redis accepts them, and remembers which SHA the
 * client knows each one by: the client computes the SHA of its own text and calls EVALSHA with it, so that
 * SHA must keep working (and NOSCRIPT must still appear when Redis has truly never seen the script, so the
 * client falls back to EVAL, which re-registers the alias).
 */
const createScriptTable = () => {
  /** @type {Map<string, string>} client's SHA → SHA of the text Redis actually holds */
  const aliases = new Map();

  /** @param {string} script */
  const portable = (script) => {
    const match = /^#!lua([^\r\n]*)/.exec(script);
    if (!match) return script;
    const params = (match[1] ?? "")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((param) => {
        if (!param.startsWith("flags=")) return param;
        const kept = param
          .slice(6)
          .split(",")
          .filter((flag) => REDIS_SCRIPT_FLAGS.has(flag));
        return kept.length > 0 ? `flags=${kept.join(",")}` : "";
      })
      .filter(Boolean);
    // Keep a `#!lua` line even when no flag survives, so line numbers in script errors stay the same.
    return ["#!lua", ...params].join(" ") + script.slice(match[0].length);
  };

  /** @param {Arg} original @returns {string | undefined} the rewritten text, when it had to change */
  const register = (original) => {
    const text = original.toString();
    const rewritten = portable(text);
    if (rewritten === text) return undefined;
    aliases.set(sha1(text), sha1(rewritten));
    return rewritten;
  };
  /** @param {Arg} sha */
  const resolve = (sha) => aliases.get(lower(sha)) ?? sha;

  /** @param {Arg[]} args @returns {Prepared} */
  return (args) => {
    const [name = "", first = "", ...rest] = args;
    const command = lower(name);
    if ((command === "eval" || command === "eval_ro") && args.length > 1) {
      const rewritten = register(first);
      return { args: rewritten === undefined ? args : [name, rewritten, ...rest] };
    }
    if ((command === "evalsha" || command === "evalsha_ro") && args.length > 1) {
      return { args: [name, resolve(first), ...rest] };
    }
    if (command === "script" && lower(first) === "load" && rest.length === 1) {
      const script = rest[0] ?? "";
      const rewritten = register(script);
      // Answer with the SHA of the text the client sent, as Upstash would, not of the rewritten copy.
      if (rewritten !== undefined) return { args: [name, first, rewritten], reply: () => sha1(script.toString()) };
    }
    if (command === "script" && lower(first) === "exists") return { args: [name, first, ...rest.map(resolve)] };
    return { args };
  };
};

/** @param {Arg[]} args @returns {string | undefined} why the command is refused, if it is */
const refusal = (args) => {
  const command = lower(args[0]);
  const blocking = (command === "xread" || command === "xreadgroup") && args.some((arg) => lower(arg) === "block");
  const clientState = command === "client" && REFUSED_CLIENT_SUBCOMMANDS.has(lower(args[1]));
  if (!REFUSED.has(command) && !blocking && !clientState) return undefined;
  const what = clientState ? `${command} ${lower(args[1])}` : command;
  return `ERR Command is not available: '${what}'. The REST bridge shares one connection, so it refuses blocking and connection-state commands`;
};

/**
 * One command as JSON gives it. Upstash's client sends numbers and booleans unquoted (`["SETEX","k",13,"v"]`),
 * so scalars are turned into the strings Redis expects; anything else is a malformed request.
 * @param {unknown} value @returns {string[]}
 */
const commandFromJson = (value) => {
  if (!Array.isArray(value) || value.length === 0) {
    throw new HttpError(400, "ERR Invalid command array. Expected a non-empty array of the command and its arguments");
  }
  return value.map((arg) => {
    if (typeof arg === "string") return arg;
    if (typeof arg === "number" || typeof arg === "boolean") return String(arg);
    throw new HttpError(400, "ERR Invalid command array. Arguments must be strings or numbers");
  });
};

/** @param {Buffer} body */
const parseJson = (body) => {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new HttpError(400, `ERR Request body is not valid JSON: ${/** @type {Error} */ (error).message}`);
  }
};

/**
 * The documented path form: `/set/foo/bar`, each segment URL-decoded; a request body is the value, appended
 * raw (binary-safe) as the last argument, and query parameters (other than `_token`) follow it, so
 * `POST /set/foo?EX=100` with body `v` is `SET foo v EX 100`.
 * @param {URL} url @param {Buffer} body @returns {Arg[]}
 */
const commandFromPath = (url, body) => {
  /** @type {Arg[]} */
  const args = url.pathname
    .slice(1)
    .replace(/\/$/, "")
    .split("/")
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        throw new HttpError(400, "ERR Malformed URL encoding in the command path");
      }
    });
  if (body.length > 0) args.push(body);
  for (const [key, value] of url.searchParams) {
    if (key === "_token") continue;
    args.push(key);
    if (value !== "") args.push(value);
  }
  return args;
};

/**
 * Shapes a Redis reply as Upstash does. With `Upstash-Encoding: base64` every string is base64, except a
 * top-level "OK" (Upstash's documented exception; the client passes a bare "OK" through and base64-decodes
 * everything else). Inside arrays "OK" must be encoded too: the client decodes array items unconditionally,
 * and a bare "OK" would come out as "8". Without the header, strings are UTF-8 (invalid bytes become U+FFFD,
 * as Upstash documents). Integers and nulls pass as they are; nested arrays keep their shape.
 * @param {unknown} value @param {boolean} base64 @param {boolean} [topLevel]
 * @returns {unknown}
 */
const toJson = (value, base64, topLevel = false) => {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return value;
  if (Array.isArray(value)) return value.map((item) => toJson(item, base64));
  // A Lua script can put an error reply inside a table; it arrives as an Error inside the array.
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value instanceof Error ? value.message : String(value));
  if (!base64) return bytes.toString("utf8");
  return topLevel && bytes.equals(OK) ? "OK" : bytes.toString("base64");
};

/** @param {unknown} error */
const isReplyError = (error) => error instanceof ReplyError;

/**
 * Starts the bridge. Listens on loopback only: the token is a local, derived value, not a secret.
 * @param {{ port: number, host?: string, redisUrl: string, token: string }} options
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export const startUpstashBridge = async ({ port, host = "127.0.0.1", redisUrl, token }) => {
  if (!token) throw new Error("startUpstashBridge: a token is required");
  if (!/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(host))
    throw new Error(`startUpstashBridge: ${host} is not a loopback address`);

  const redis = new Redis(redisUrl, {
    // A stopped Redis must answer requests with a prompt error, not hold them in a queue until it returns.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Resending an in-flight INCR after a reconnect could apply it twice; fail it and let the caller decide.
    autoResendUnfulfilledCommands: false,
    connectTimeout: 2_000,
    // Keep trying for as long as the bridge runs, so it recovers by itself when Redis comes back.
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  const redisAddress = new URL(redisUrl).host;
  let redisUp = false;
  let redisLost = false;
  let closing = false;
  redis.on("ready", () => {
    if (redisLost) console.error(`${TAG} Redis at ${redisAddress} is back`);
    redisUp = true;
    redisLost = false;
  });
  redis.on("close", () => {
    if (redisUp && !closing) console.error(`${TAG} lost Redis at ${redisAddress}; answering 500 until it is back`);
    redisLost ||= redisUp;
    redisUp = false;
  });
  // ioredis emits one error per failed reconnect attempt; the close/ready transitions already tell the story.
  redis.on("error", () => {});

  // Commands are not queued while disconnected, so give the first connection a moment before serving;
  // a Redis that is down at start does not stop the bridge, which then reports it in its health answer.
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, 2_000);
    redis.once("ready", () => resolve(clearTimeout(timer)));
  });

  const prepareScript = createScriptTable();
  const expectedToken = createHash("sha256").update(token).digest();

  /** @param {Arg[]} args @returns {Prepared} */
  const prepare = (args) => {
    const refused = refusal(args);
    if (refused) throw new HttpError(400, refused);
    const { args: ready, reply } = prepareScript(args);
    // Upper case on purpose: ioredis reshapes some replies by lower-case command name (HGETALL becomes an
    // object, losing binary field names), while Upstash answers with Redis's flat array.
    return { args: [String(ready[0]).toUpperCase(), ...ready.slice(1)], reply };
  };

  /** @param {Prepared} command */
  const runOne = async ({ args, reply }) => {
    const [name, ...rest] = args;
    const raw = await redis.callBuffer(/** @type {string} */ (name), ...rest);
    return reply ? reply(raw) : raw;
  };

  /** Non-transactional: each command succeeds or fails on its own, refused ones included. */
  /** @param {Arg[][]} commands @returns {Promise<Outcome[]>} */
  const runPipeline = async (commands) => {
    /** @type {(Prepared | { error: string })[]} */
    const prepared = commands.map((args) => {
      try {
        return prepare(args);
      } catch (error) {
        return { error: /** @type {Error} */ (error).message };
      }
    });
    const runnable = /** @type {Prepared[]} */ (prepared.filter((entry) => "args" in entry));
    const pipeline = redis.pipeline();
    for (const { args } of runnable) pipeline.callBuffer(/** @type {string} */ (args[0]), ...args.slice(1));
    const results = runnable.length > 0 ? ((await pipeline.exec()) ?? []) : [];
    let next = 0;
    return prepared.map((entry) => {
      if (!("args" in entry)) return entry;
      const [error, raw] = results[next++] ?? [new Error("missing reply"), null];
      if (error && !isReplyError(error)) throw error;
      return error ? { error: error.message } : { result: entry.reply ? entry.reply(raw) : raw };
    });
  };

  /**
   * MULTI/EXEC. Upstash discards the whole transaction, answering one `{ "error" }`, when any command is
   * unsupported or fails to queue (Redis's EXECABORT); commands that fail while executing leave the rest
   * applied and report their error in place.
   * @param {Arg[][]} commands @returns {Promise<Outcome[]>}
   */
  const runTransaction = async (commands) => {
    const prepared = commands.map(prepare);
    const multi = redis.multi();
    for (const { args } of prepared) multi.callBuffer(/** @type {string} */ (args[0]), ...args.slice(1));
    /** @type {[Error | null, unknown][] | null} */
    let results;
    try {
      results = await multi.exec();
    } catch (error) {
      if (!isReplyError(error)) throw error;
      /** @type {Error[] | undefined} */
      const causes = /** @type {any} */ (error).previousErrors;
      throw new HttpError(400, causes?.[0]?.message ?? /** @type {Error} */ (error).message);
    }
    if (!results) throw new HttpError(400, "EXECABORT Transaction discarded");
    return results.map(([error, raw], i) => {
      if (error && !isReplyError(error)) throw error;
      const reply = prepared[i]?.reply;
      return error ? { error: error.message } : { result: reply ? reply(raw) : raw };
    });
  };

  /** @param {import("node:http").IncomingMessage} req @param {URL} url */
  const authorized = (req, url) => {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "")?.[1];
    const given = bearer ?? url.searchParams.get("_token");
    if (!given) return false;
    return timingSafeEqual(createHash("sha256").update(given).digest(), expectedToken);
  };

  const redisState = async () => {
    if (redis.status !== "ready") return "down";
    const timeout = new Promise((_, reject) => setTimeout(reject, 1_000).unref());
    return Promise.race([redis.ping(), timeout]).then(
      () => "up",
      () => "down",
    );
  };

  /** @param {import("node:http").IncomingMessage} req @returns {Promise<Buffer>} */
  const readBody = async (req) => {
    const chunks = [];
    let size = 0;
    for await (const chunk of req) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) throw new HttpError(413, "ERR Request body is too large");
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  };

  /** @param {import("node:http").IncomingMessage} req @param {import("node:http").ServerResponse} res */
  const handle = async (req, res) => {
    const url = new URL(req.url ?? "/", "http://bridge");
    if (url.pathname === "/__ape/health") {
      return send(res, 200, { ok: true, service: "ape-upstash-bridge", redis: await redisState() });
    }
    // Upstash's documented set; anything else is 405 there too.
    if (!["GET", "HEAD", "POST", "PUT"].includes(req.method ?? "")) {
      return send(res, 405, { error: "Method Not Allowed" });
    }
    // The client throws `${body.error}, command was: …` on non-2xx, so the text is what users will read.
    if (!authorized(req, url)) return send(res, 401, { error: "Unauthorized" });

    const body = await readBody(req);
    const base64 = lower(req.headers["upstash-encoding"]) === "base64";

    if (url.pathname === "/pipeline" || url.pathname === "/multi-exec") {
      if (req.method !== "POST" && req.method !== "PUT") return send(res, 405, { error: "Method Not Allowed" });
      const list = parseJson(body);
      if (!Array.isArray(list) || list.length === 0) {
        throw new HttpError(400, "ERR Invalid command array. Expected a non-empty array of command arrays");
      }
      const commands = list.map(commandFromJson);
      const outcomes = url.pathname === "/pipeline" ? await runPipeline(commands) : await runTransaction(commands);
      return send(
        res,
        200,
        outcomes.map((outcome) => ("error" in outcome ? outcome : { result: toJson(outcome.result, base64, true) })),
      );
    }

    const args = url.pathname === "/" ? commandFromJson(parseJson(body)) : commandFromPath(url, body);
    const result = await runOne(prepare(args));
    return send(res, 200, { result: toJson(result, base64, true) });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (error instanceof HttpError) return send(res, error.status, { error: error.message });
      if (isReplyError(error)) return send(res, 400, { error: error.message });
      // Anything else is the connection to Redis (down, reset, timed out): a server-side failure.
      send(res, 500, { error: `ERR Redis at ${redisAddress} is unreachable: ${error?.message ?? error}` });
    });
  });

  await new Promise((resolve, reject) => {
    server.once("error", (error) => {
      // Port taken, say: do not leave a Redis connection behind keeping the process alive.
      closing = true;
      redis.disconnect();
      reject(error);
    });
    server.listen(port, host, () => {
      server.removeAllListeners("error");
      resolve(undefined);
    });
  });
  const address = /** @type {import("node:net").AddressInfo} */ (server.address());
  const url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
  console.log(`${TAG} listening on ${url}, forwarding to Redis at ${redisAddress}`);

  return {
    url,
    close: async () => {
      closing = true;
      await new Promise((resolve) => {
        server.close(() => resolve(undefined));
        server.closeAllConnections();
      });
      redis.disconnect();
    },
  };
};

/** @param {import("node:http").ServerResponse} res @param {number} status @param {unknown} payload */
function send(res, status, payload) {
  if (res.headersSent) return void res.end();
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
  const { values } = parseArgs({
    options: { port: { type: "string" }, redis: { type: "string" }, token: { type: "string" } },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || !values.redis || !values.token) {
    console.error(
      "usage: node scripts/stack/upstash-bridge.mjs --port <port> --redis <redis://host:port> --token <token>",
    );
    process.exit(2);
  }
  const bridge = await startUpstashBridge({ port, redisUrl: values.redis, token: values.token });
  for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"])) {
    process.once(signal, () => {
      bridge.close().finally(() => process.exit(0));
    });
  }
}
