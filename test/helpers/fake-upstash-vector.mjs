// A local server that speaks Upstash Vector's REST API as @upstash/vector 1.2.3 sends it, so the SDK can be
// driven against it from inside workerd. Every command is a POST of a JSON body to `/<command>` (default
// namespace) or `/<command>/<namespace>`; every answer is `{ "result": … }`, or `{ "error": "…", "status": N }`
// with that HTTP status (the SDK throws `UpstashError(error)` for any non-2xx answer).
//
//   upsert/{ns}            one `{ id, vector, metadata?, data? }` or an array of them      → "Success"
//   query/{ns}             `{ vector, topK, includeMetadata?, includeVectors?, includeData?, filter? }`, or an
//                          array of those (queryMany, answered with an array of arrays)      → [{ id, score, … }]
//   delete/{ns}            `{ ids }` | `{ prefix }` | `{ filter }` | a bare id or array of ids → { deleted }
//   fetch/{ns}             `{ ids | prefix, includeMetadata?, includeVectors?, includeData? }` → [item | null]
//   range/{ns}             `{ cursor, limit, prefix?, include… }`                             → { nextCursor, vectors }
//   reset/{ns}, reset?all  wipes one namespace (or all)                                       → "Success"
//   delete-namespace/{ns}  404 for a namespace that does not exist, 400 for the default one   → "Success"
//   list-namespaces, info  the namespaces; counts, dimension and COSINE as the similarity function
//
// As Upstash does: the score of a cosine index is `(1 + cosine) / 2`, in [0, 1]; the index's dimension is fixed
// by its first upsert (a later vector of another length is a 400); namespaces appear on first upsert, and a
// query of one that does not exist answers no matches. Filters: the subset of Upstash's SQL-like syntax APE
// sends and a little more: `key = literal`, `!=`, `<`, `<=`, `>`, `>=`, `key IN (…)`, `key NOT IN (…)`, joined
// by AND / OR (AND binds tighter) and parentheses; keys may be dotted paths into the metadata; literals are
// 'single' or "double" quoted strings (a backslash escapes the next character), numbers, true and false.
// Anything else in a filter is a 400.
//
// Auth: `Authorization: Bearer fake-upstash-vector-token` (FAKE_UPSTASH_VECTOR_TOKEN); anything else is a 401.
//
// Scopes (see fake-control.mjs): with the base URL `${url}/s/<scope>` a test gets an index of its own, and its
// own script and request log. Tests script failures through POST /__fake/next with
// `{ status, message?, hangMs?, times?, model? }` — `model` (the field fake-control matches on) names the one
// command the entry applies to ("query", "upsert", …), or it applies to any; e.g. `{ status: 429, times: 2 }`.
// GET /__fake/requests lists what arrived (`{ method, path, command, namespace, body }`).
import { createServer } from "node:http";
import { createFakeControl } from "./fake-control.mjs";

/** The only token the fake accepts. */
export const FAKE_UPSTASH_VECTOR_TOKEN = "fake-upstash-vector-token";

/**
 * @typedef {{ status?: number, message?: string, hangMs?: number, model?: string, times?: number }} ScriptEntry
 * @typedef {{ method: string, path: string, command: string, namespace: string, body: unknown }} ReceivedRequest
 * @typedef {{ id: string, vector: number[], metadata?: Record<string, unknown>, data?: string }} Item
 * @typedef {{ dimension: number | null, namespaces: Map<string, Map<string, Item>> }} FakeIndex
 */

const COMMANDS = new Set([
  "upsert",
  "upsert-data",
  "query",
  "query-data",
  "delete",
  "fetch",
  "range",
  "reset",
  "info",
  "list-namespaces",
  "delete-namespace",
  "update",
]);

/** An answer Upstash would give: the HTTP status and `{ result }` or `{ error, status }`. */
class VectorError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const bad = (/** @type {string} */ message) => new VectorError(400, message);

/** @param {number[]} a @param {number[]} b */
const cosine = (a, b) => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
};

// --- filters ----------------------------------------------------------------------------------------------

/**
 * Splits a filter into tokens: strings, numbers, words (keys, keywords, booleans), operators and parentheses.
 * @param {string} text
 * @returns {Array<{ kind: "string" | "number" | "word" | "op" | "(" | ")" | ",", value: string }>}
 */
const tokenize = (text) => {
  const tokens = [];
  let i = 0;
  while (i < text.length) {
    const c = /** @type {string} */ (text[i]);
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"') {
      let value = "";
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === "\\" && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
      if (i >= text.length) throw bad(`Invalid filter: unterminated string in ${text}`);
      i++;
      tokens.push({ kind: /** @type {const} */ ("string"), value });
    } else if (c === "(" || c === ")" || c === ",") {
      tokens.push({ kind: c, value: c });
      i++;
    } else if ("=!<>".includes(c)) {
      const two = text.slice(i, i + 2);
      const op = ["!=", "<=", ">="].includes(two) ? two : c;
      if (op === "!") throw bad(`Invalid filter: unexpected '!' in ${text}`);
      tokens.push({ kind: /** @type {const} */ ("op"), value: op });
      i += op.length;
    } else {
      const match = /^(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|^([A-Za-z_][\w.[\]]*)/.exec(text.slice(i));
      if (!match) throw bad(`Invalid filter: unexpected '${c}' in ${text}`);
      tokens.push(
        match[1] !== undefined
          ? { kind: /** @type {const} */ ("number"), value: match[1] }
          : { kind: /** @type {const} */ ("word"), value: /** @type {string} */ (match[2]) },
      );
      i += match[0].length;
    }
  }
  return tokens;
};

/**
 * Compiles a filter into a predicate over an item's metadata.
 * @param {string} text
 * @returns {(metadata: Record<string, unknown>) => boolean}
 */
export const compileFilter = (text) => {
  const tokens = tokenize(text);
  let at = 0;
  const peek = () => tokens[at];
  const isWord = (/** @type {string} */ word) => peek()?.kind === "word" && peek()?.value.toUpperCase() === word;
  const expect = (/** @type {string} */ kind) => {
    const token = tokens[at++];
    if (token?.kind !== kind) throw bad(`Invalid filter: expected ${kind} in ${text}`);
    return token;
  };
  const literal = () => {
    const token = tokens[at++];
    if (token?.kind === "string") return token.value;
    if (token?.kind === "number") return Number(token.value);
    if (token?.kind === "word" && /^(true|false)$/i.test(token.value)) return token.value.toLowerCase() === "true";
    throw bad(`Invalid filter: expected a literal in ${text}`);
  };
  /** @param {Record<string, unknown>} metadata @param {string} path */
  const lookup = (metadata, path) =>
    path.split(".").reduce((value, key) => (value && typeof value === "object" ? value[key] : undefined), metadata);

  /** @returns {(m: Record<string, unknown>) => boolean} */
  const comparison = () => {
    if (peek()?.kind === "(") {
      at++;
      const inner = disjunction();
      expect(")");
      return inner;
    }
    const key = expect("word").value;
    const negated = isWord("NOT");
    if (negated) at++;
    if (isWord("IN")) {
      at++;
      expect("(");
      const values = [literal()];
      while (peek()?.kind === ",") {
        at++;
        values.push(literal());
      }
      expect(")");
      return (m) => values.includes(/** @type {never} */ (lookup(m, key))) !== negated;
    }
    if (negated) throw bad(`Invalid filter: expected IN after NOT in ${text}`);
    const op = expect("op").value;
    const value = literal();
    return (m) => {
      const actual = lookup(m, key);
      if (op === "=") return actual === value;
      if (op === "!=") return actual !== value;
      if (typeof actual !== "number" || typeof value !== "number") return false;
      if (op === "<") return actual < value;
      if (op === "<=") return actual <= value;
      if (op === ">") return actual > value;
      return actual >= value;
    };
  };
  const conjunction = () => {
    const parts = [comparison()];
    while (isWord("AND")) {
      at++;
      parts.push(comparison());
    }
    return (/** @type {Record<string, unknown>} */ m) => parts.every((part) => part(m));
  };
  const disjunction = () => {
    const parts = [conjunction()];
    while (isWord("OR")) {
      at++;
      parts.push(conjunction());
    }
    return (/** @type {Record<string, unknown>} */ m) => parts.some((part) => part(m));
  };
  const predicate = disjunction();
  if (at !== tokens.length) throw bad(`Invalid filter: unexpected '${peek()?.value}' in ${text}`);
  return predicate;
};

// --- commands ---------------------------------------------------------------------------------------------

/**
 * Runs one command against a scope's index and returns its `result`.
 * @param {FakeIndex} index @param {string} command @param {string} namespace @param {boolean} all
 * @param {any} body
 */
const run = (index, command, namespace, all, body) => {
  const existing = index.namespaces.get(namespace);
  const space = () => {
    let items = index.namespaces.get(namespace);
    if (!items) {
      items = new Map();
      index.namespaces.set(namespace, items);
    }
    return items;
  };
  /** An item as Upstash answers it, with what the request asked to include. @param {Item} item @param {any} options @param {number} [score] */
  const shape = (item, options, score) => ({
    id: item.id,
    ...(score === undefined ? {} : { score }),
    ...(options?.includeVectors ? { vector: item.vector } : {}),
    ...(options?.includeMetadata && item.metadata !== undefined ? { metadata: item.metadata } : {}),
    ...(options?.includeData && item.data !== undefined ? { data: item.data } : {}),
  });
  /** @param {unknown} vector */
  const checkVector = (vector) => {
    if (!Array.isArray(vector) || vector.length === 0 || !vector.every((x) => typeof x === "number")) {
      throw bad("vector must be a non-empty array of numbers");
    }
    if (index.dimension !== null && vector.length !== index.dimension) {
      throw bad(`Invalid vector dimension: ${vector.length}, expected: ${index.dimension}`);
    }
    return /** @type {number[]} */ (vector);
  };

  switch (command) {
    case "upsert": {
      const items = Array.isArray(body) ? body : [body];
      for (const item of items) {
        if (!item || typeof item !== "object" || (typeof item.id !== "string" && typeof item.id !== "number")) {
          throw bad("id must be a string or a number");
        }
        checkVector(item.vector);
        index.dimension ??= item.vector.length;
        if (item.metadata !== undefined && (typeof item.metadata !== "object" || item.metadata === null)) {
          throw bad("metadata must be a JSON object");
        }
      }
      const target = space();
      for (const item of items) {
        target.set(String(item.id), {
          id: String(item.id),
          vector: item.vector,
          ...(item.metadata !== undefined ? { metadata: item.metadata } : {}),
          ...(typeof item.data === "string" ? { data: item.data } : {}),
        });
      }
      return "Success";
    }
    case "upsert-data":
    case "query-data":
      throw bad("Embedding data for this index is not allowed. The index must be created with an embedding model.");
    case "update":
      throw bad("update is not supported by the fake");
    case "query": {
      const one = (/** @type {any} */ q) => {
        if (!q || typeof q !== "object") throw bad("query must be a JSON object");
        const vector = checkVector(q.vector);
        const topK = q.topK ?? 10;
        if (!Number.isInteger(topK) || topK < 1 || topK > 1000) throw bad("topK must be between 1 and 1000");
        const keep = typeof q.filter === "string" && q.filter.trim() !== "" ? compileFilter(q.filter) : () => true;
        return [...(existing?.values() ?? [])]
          .filter((item) => keep(item.metadata ?? {}))
          .map((item) => ({ item, score: (1 + cosine(vector, item.vector)) / 2 }))
          .sort((a, b) => b.score - a.score || a.item.id.localeCompare(b.item.id))
          .slice(0, topK)
          .map(({ item, score }) => shape(item, q, score));
      };
      return Array.isArray(body) ? body.map(one) : one(body);
    }
    case "delete": {
      if (!existing) return { deleted: 0 };
      /** @type {(item: Item) => boolean} */
      let doomed;
      if (typeof body === "string" || typeof body === "number") doomed = (item) => item.id === String(body);
      else if (Array.isArray(body)) doomed = (item) => body.map(String).includes(item.id);
      else if (Array.isArray(body?.ids)) doomed = (item) => body.ids.map(String).includes(item.id);
      else if (typeof body?.prefix === "string") doomed = (item) => item.id.startsWith(body.prefix);
      else if (typeof body?.filter === "string") {
        const keep = compileFilter(body.filter);
        doomed = (item) => keep(item.metadata ?? {});
      } else throw bad("delete needs ids, a prefix or a filter");
      let deleted = 0;
      for (const item of [...existing.values()]) {
        if (doomed(item)) {
          existing.delete(item.id);
          deleted++;
        }
      }
      return { deleted };
    }
    case "fetch": {
      if (Array.isArray(body?.ids))
        return body.ids.map((id) => {
          const item = existing?.get(String(id));
          return item ? shape(item, body) : null;
        });
      if (typeof body?.prefix === "string") {
        return [...(existing?.values() ?? [])]
          .filter((item) => item.id.startsWith(body.prefix))
          .sort((a, b) => a.id.localeCompare(b.id))
          .map((item) => shape(item, body));
      }
      throw bad("fetch needs ids or a prefix");
    }
    case "range": {
      const limit = body?.limit;
      if (!Number.isInteger(limit) || limit < 1) throw bad("limit must be a positive integer");
      const start = Number(body?.cursor || 0);
      const matching = [...(existing?.values() ?? [])]
        .filter((item) => typeof body?.prefix !== "string" || item.id.startsWith(body.prefix))
        .sort((a, b) => a.id.localeCompare(b.id));
      const page = matching.slice(start, start + limit);
      const next = start + page.length;
      return { nextCursor: next < matching.length ? String(next) : "", vectors: page.map((item) => shape(item, body)) };
    }
    case "reset":
      if (all) index.namespaces.clear();
      else existing?.clear();
      return "Success";
    case "delete-namespace":
      if (namespace === "") throw bad("Cannot delete the default namespace");
      if (!existing) throw new VectorError(404, `Namespace ${namespace} for the index fake does not exist`);
      index.namespaces.delete(namespace);
      return "Success";
    case "list-namespaces":
      return ["", ...[...index.namespaces.keys()].filter((name) => name !== "")];
    case "info": {
      const namespaces = { "": { vectorCount: 0, pendingVectorCount: 0 } };
      let vectorCount = 0;
      for (const [name, items] of index.namespaces) {
        namespaces[name] = { vectorCount: items.size, pendingVectorCount: 0 };
        vectorCount += items.size;
      }
      return {
        vectorCount,
        pendingVectorCount: 0,
        indexSize: vectorCount * 4 * (index.dimension ?? 0),
        dimension: index.dimension ?? 0,
        similarityFunction: "COSINE",
        indexType: "DENSE",
        namespaces,
      };
    }
    default:
      throw new VectorError(404, `Unknown command ${command}`);
  }
};

/**
 * @param {number} [port]
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export const startFakeUpstashVector = async (port = 0) => {
  /** @type {ReturnType<typeof createFakeControl<ScriptEntry, ReceivedRequest>>} */
  const control = createFakeControl();
  const { hang } = control;
  /** One index per scope. @type {WeakMap<object, FakeIndex>} */
  const indexes = new WeakMap();

  /** @param {import("node:http").ServerResponse} response @param {number} status @param {unknown} body */
  const answer = (response, status, body) =>
    response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  /** @param {import("node:http").ServerResponse} response @param {number} status @param {string} message */
  const fail = (response, status, message) => answer(response, status, { error: message, status });

  const server = createServer(async (request, response) => {
    const received = await control.receive(request, response);
    if (!received) return;
    const { pathname, state, raw } = received;

    let index = indexes.get(state);
    if (!index) {
      index = { dimension: null, namespaces: new Map() };
      indexes.set(state, index);
    }
    const [, command = "", ...rest] = pathname.split("/");
    let namespace = rest.join("/");
    try {
      namespace = decodeURIComponent(namespace);
    } catch {
      return fail(response, 400, "Invalid namespace");
    }
    const all = /\?(.*&)?all(&|=|$)/.test(request.url ?? "");
    const { body, invalidJson } = control.parseJson(raw);
    state.received.push({ method: request.method ?? "GET", path: pathname, command, namespace, body });

    if (request.headers.authorization !== `Bearer ${FAKE_UPSTASH_VECTOR_TOKEN}`) {
      return fail(response, 401, "Unauthorized: Invalid auth token");
    }
    if (!COMMANDS.has(command)) return fail(response, 404, `Unknown command ${command}`);
    if (request.method !== "POST" && request.method !== "GET" && request.method !== "DELETE") {
      return fail(response, 405, "Method not allowed");
    }
    if (invalidJson) return fail(response, 400, "Invalid JSON body");

    const next = state.takeScript(command);
    if (next?.hangMs) {
      await hang(next.hangMs, response);
      if (response.destroyed || response.writableEnded) return;
    }
    if (next?.status && next.status >= 400) {
      return fail(
        response,
        next.status,
        next.message ?? (next.status === 429 ? "ERR max requests limit exceeded" : "Internal server error"),
      );
    }
    try {
      return answer(response, 200, { result: run(index, command, namespace, all, body) });
    } catch (error) {
      if (error instanceof VectorError) return fail(response, error.status, error.message);
      return fail(response, 500, String(error));
    }
  });
  return control.listen(server, port);
};
