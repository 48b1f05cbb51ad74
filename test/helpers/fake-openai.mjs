// A local server that speaks the OpenAI-compatible HTTP API (what OpenAI, Groq, Ollama and vLLM serve): model
// list, chat completions (plain and streamed as server-sent events) and embeddings, so the official SDKs can be
// driven against it. Answers are deterministic from the request: the assistant says `echo: <last user message>`,
// token counts are word counts, embeddings are meaning-aware unit vectors (see `embed` below). Tests script
// failures and replies through POST /__fake/next and read what was sent through GET /__fake/requests.
//
// Embeddings are a bag of concepts, so tests can rely on what is near what: the text's words, lower-cased, stop
// words dropped ("the", "of", "a", "for", …), lightly stemmed (plural `s`, `ies` → `y`, `ing`, `ed`), each word
// mapped to its synonym group, if any; every concept is hashed to one dimension with a sign, the vector scaled
// to unit length. Texts with the same concepts embed identically, texts sharing none are orthogonal (barring a
// hash collision, rare at the default 256 dimensions; `dimensions` in the request changes the length). Groups:
//   car automobile vehicle auto · repair fix maintenance maintain service mend · doctor physician medic
//   clinician · illness disease sickness ailment · buy purchase acquire bought · sell sale sold vend · big large
//   huge enormous giant · small little tiny minor · fast quick rapid speedy swift · house home dwelling residence
//   · money cash fund(s) currency · price cost fee charge · invoice bill receipt · contract agreement deal · job
//   work employment occupation career · child children kid youngster · dog puppy hound · cake dessert pastry ·
//   chocolate cocoa · recipe cook cuisine · error bug fault defect mistake · start begin commence launch · happy
//   glad joyful cheerful · sad unhappy sorrowful gloomy
// So "automobile repair" = "car maintenance", and both are orthogonal to "chocolate cake recipe". A text with no
// content word at all gets a pseudo-random unit vector seeded by its text.
//
// Routes live under /v1 and, for groq-sdk (whose paths are /openai/v1/...), under /openai/v1 as well: the base
// URL is `${url}/v1` for the openai SDK and plain `url` for groq-sdk. Under a scope (see fake-control.mjs) put
// /s/<scope> after `url` in both: `${url}/s/<scope>/v1` and `${url}/s/<scope>`.
import { createServer } from "node:http";
import { createFakeControl } from "./fake-control.mjs";
import { instanceOf } from "./schema-instance.mjs";

/**
 * One scripted answer. `model` limits it to requests for that model; `times` (default 1) is how many requests
 * it answers before it is used up. `hangMs` holds the request first (then the rest of the entry applies).
 * @typedef {{
 *   status?: number,
 *   retryAfter?: number,
 *   message?: string,
 *   param?: string,
 *   hangMs?: number,
 *   breakAfterChunks?: number,
 *   chunkDelayMs?: number,
 *   malformed?: boolean,
 *   reply?: string | object,
 *   finishReason?: string,
 *   cachedTokens?: number,
 *   model?: string,
 *   times?: number,
 * }} ScriptEntry
 */

/**
 * Tools, structured outputs and images, as OpenAI's API handles them (and Groq's and compatible servers'):
 * - `tools` with `tool_choice` other than `none`, and no tool result yet after the last user message: the
 *   answer calls the named tool (`tool_choice: {type: function, function: {name}}`) or the first one, with
 *   arguments made from its `parameters` schema (see schema-instance.mjs), finish reason `tool_calls`; with
 *   `parallel_tool_calls` not false and two or more tools and `tool_choice: "required"`, it calls the first two.
 *   Streamed, each call's id, type and name come in one delta, then its arguments in fragments.
 * - After `tool` messages the answer is `echo: tool said <their contents>`.
 * - A `tool` message whose `tool_call_id` no earlier assistant call has, or a `tool_choice` naming no tool,
 *   answers 400 as OpenAI does.
 * - `response_format: json_schema` answers a value made from the schema sent; `json_object` answers `{}`.
 * - Image parts (`image_url`) add ` [images: N]` to the echo; one whose URL is neither https nor data: is 400.
 * - `cachedTokens` in a script reports that many cached input tokens in `prompt_tokens_details`.
 */

/**
 * @typedef {{ method: string, path: string, headers: Record<string, string | string[] | undefined>, body: unknown }} ReceivedRequest
 */

const DEFAULT_MODELS = ["gpt-4o-mini", "llama-3.3-70b-versatile", "text-embedding-3-small"];

/** @param {string} text */
export const countTokens = (text) => text.split(/\s+/).filter(Boolean).length;

/**
 * The text of a message's content: a string, or the text parts of an array of content parts.
 * @param {unknown} content
 * @returns {string}
 */
const contentText = (content) => {
  if (typeof content === "string") return content;
  if (Array.isArray(content))
    return content
      .map((part) => (part && typeof part === "object" && typeof part.text === "string" ? part.text : ""))
      .filter(Boolean)
      .join(" ");
  return "";
};

/**
 * Length of every embedding unless the request asks for `dimensions`: wide enough that the concepts of a few
 * texts rarely share a dimension, so unrelated topics come out (nearly always exactly) orthogonal.
 */
export const EMBEDDING_DIMENSIONS = 256;

/**
 * The fake's synonym groups: every word of a group is one concept, so "automobile repair" and "car
 * maintenance" embed to the same vector. Words are matched after lower-casing and light stemming.
 */
export const SYNONYMS = [
  ["car", "automobile", "vehicle", "auto"],
  ["repair", "fix", "maintenance", "maintain", "service", "mend"],
  ["doctor", "physician", "medic", "clinician"],
  ["illness", "disease", "sickness", "ailment"],
  ["buy", "purchase", "acquire", "bought"],
  ["sell", "sale", "sold", "vend"],
  ["big", "large", "huge", "enormous", "giant"],
  ["small", "little", "tiny", "minor"],
  ["fast", "quick", "rapid", "speedy", "swift"],
  ["house", "home", "dwelling", "residence"],
  ["money", "cash", "fund", "currency"],
  ["price", "cost", "fee", "charge"],
  ["invoice", "bill", "receipt"],
  ["contract", "agreement", "deal"],
  ["job", "work", "employment", "occupation", "career"],
  ["child", "children", "kid", "youngster"],
  ["dog", "puppy", "hound"],
  ["cake", "dessert", "pastry"],
  ["chocolate", "cocoa"],
  ["recipe", "cook", "cuisine"],
  ["error", "bug", "fault", "defect", "mistake"],
  ["start", "begin", "commence", "launch"],
  ["happy", "glad", "joyful", "cheerful"],
  ["sad", "unhappy", "sorrowful", "gloomy"],
];

/** Words that carry no topic, dropped before embedding. */
export const STOP_WORDS = new Set(
  (
    "a an the of and or to in on for with by at as is are was were be been being it its this that these those " +
    "from into about my your our their his her i we you they he she how what which who whom do does did can " +
    "could will would should may might must not no so if then than but also just very"
  ).split(" "),
);

/** @type {Map<string, string>} word → its group's first word */
const CONCEPT_OF = new Map(SYNONYMS.flatMap((group) => group.map((word) => [word, /** @type {string} */ (group[0])])));

/**
 * The forms light stemming may reduce a word to, most likely first: strip `ies` (→ `y`), `ing`, `ed` (also
 * keeping an `e`: "purchased" → "purchase"), a doubled final consonant, and a plural `s` (not `ss`).
 * @param {string} word
 */
const stems = (word) => {
  const out = [];
  if (word.length > 4 && word.endsWith("ies")) out.push(`${word.slice(0, -3)}y`);
  for (const suffix of ["ing", "ed"]) {
    if (word.length > suffix.length + 2 && word.endsWith(suffix)) {
      const stem = word.slice(0, -suffix.length);
      out.push(stem, `${stem}e`);
      if (/([^aeiou])\1$/.test(stem)) out.push(stem.slice(0, -1));
    }
  }
  if (word.length > 3 && word.endsWith("s") && !word.endsWith("ss")) out.push(word.slice(0, -1));
  return out;
};

/**
 * The concepts of a text, with counts: its words lower-cased, stop words dropped, each word (or the first of
 * its stems) mapped to its synonym group, else to its first stem, else kept as it is.
 * @param {string} text
 * @returns {Map<string, number>}
 */
export const concepts = (text) => {
  /** @type {Map<string, number>} */
  const counts = new Map();
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    if (STOP_WORDS.has(word)) continue;
    const forms = [word, ...stems(word)];
    const concept = forms.map((form) => CONCEPT_OF.get(form)).find(Boolean) ?? forms[1] ?? word;
    if (STOP_WORDS.has(concept)) continue;
    counts.set(concept, (counts.get(concept) ?? 0) + 1);
  }
  return counts;
};

/** FNV-1a of a string, then a final mix so nearby strings land far apart. @param {string} text */
const hash = (text) => {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
};

/**
 * A deterministic pseudo-random unit vector for a text (FNV-1a seed, mulberry32 stream): what a text without
 * a single content word embeds to.
 * @param {string} text @param {number} dimensions
 */
const randomUnit = (text, dimensions) => {
  let seed = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) seed = Math.imul(seed ^ byte, 0x01000193) >>> 0;
  const next = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: dimensions }, () => next() * 2 - 1);
};

/**
 * A deterministic, meaning-aware unit vector for a text: a bag of its {@link concepts}, each hashed into one
 * dimension with a sign (feature hashing) and weighted by its count, then scaled to unit length and rounded to
 * float32 (so the float and base64 encodings decode to the same numbers). So texts with the same concepts
 * embed alike whatever their wording ("automobile repair" = "car maintenance"), texts sharing some concepts
 * are near, and texts sharing none are orthogonal unless two concepts happen to share a dimension (rare at
 * the default 256). A text with no content word gets a pseudo-random unit vector seeded by its text.
 * @param {string} text
 * @param {number} dimensions
 * @returns {number[]}
 */
export const embed = (text, dimensions = EMBEDDING_DIMENSIONS) => {
  const raw = new Array(dimensions).fill(0);
  for (const [concept, count] of concepts(text)) {
    const h = hash(concept);
    raw[h % dimensions] += (h & 0x80000000 ? -1 : 1) * count;
  }
  const vector = raw.some((x) => x !== 0) ? raw : randomUnit(text, dimensions);
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0)) || 1;
  return vector.map((x) => Math.fround(x / norm));
};

/** @param {number[]} vector */
const toBase64Float32 = (vector) => Buffer.from(new Float32Array(vector).buffer).toString("base64");

/** Split a reply into content deltas that join back to it: "echo: a b" → ["echo:", " a", " b"]. */
const deltas = (/** @type {string} */ text) => {
  const pieces = text.split(/(?=\s+\S)/);
  return pieces.length > 0 ? pieces : [""];
};

const ERROR_TYPES = /** @type {Record<number, [string, string | null, string]>} */ ({
  400: ["invalid_request_error", null, "Bad request."],
  401: ["invalid_request_error", "invalid_api_key", "Incorrect API key provided."],
  403: ["invalid_request_error", "unsupported_country_region_territory", "Forbidden."],
  404: ["invalid_request_error", "model_not_found", "The model does not exist or you do not have access to it."],
  408: ["timeout", null, "Request timed out."],
  413: ["invalid_request_error", "request_too_large", "Request too large."],
  422: ["invalid_request_error", null, "Unprocessable entity."],
  429: ["requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later."],
  500: ["server_error", null, "The server had an error while processing your request. Sorry about that!"],
  502: ["server_error", null, "Bad gateway."],
  503: ["server_error", "service_unavailable", "The engine is currently overloaded, please try again later."],
});

/**
 * @param {{ port?: number, models?: string[], chunkDelayMs?: number }} [options] `chunkDelayMs`: a delay before
 *   every streamed token after the first, for all requests (benchmarks); a script entry's own wins.
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export const startFakeOpenAi = async ({ port = 0, models = DEFAULT_MODELS, chunkDelayMs = 0 } = {}) => {
  /** @type {ReturnType<typeof createFakeControl<ScriptEntry, ReceivedRequest>>} */
  const control = createFakeControl();
  const { hang, write } = control;
  let counter = 0;

  /**
   * @param {import("node:http").ServerResponse} response
   * @param {number} status
   * @param {{ message?: string, type?: string, code?: string | null, param?: string | null, headers?: Record<string, string> }} [details]
   */
  const fail = (response, status, details = {}) => {
    const [type, code, message] = ERROR_TYPES[status] ?? ["server_error", null, `Error ${status}.`];
    response
      .writeHead(status, {
        "content-type": "application/json",
        "x-request-id": `req_fake_${++counter}`,
        ...details.headers,
      })
      .end(
        JSON.stringify({
          error: {
            message: details.message ?? message,
            type: details.type ?? type,
            param: details.param ?? null,
            code: details.code === undefined ? code : details.code,
          },
        }),
      );
  };

  /**
   * @param {import("node:http").ServerResponse} response
   * @param {any} body
   * @param {ScriptEntry | undefined} next
   */
  const chatCompletion = async (response, body, next) => {
    if (typeof body?.model !== "string" || body.model === "")
      return fail(response, 400, { message: "you must provide a model parameter", param: "model" });
    if (!Array.isArray(body.messages) || body.messages.length === 0)
      return fail(response, 400, { message: "'messages' must contain at least one message", param: "messages" });

    const format = body.response_format?.type;
    /** @type {any[]} */
    const messages = body.messages;
    const callIds = new Set(
      messages
        .flatMap((m) => (m?.role === "assistant" && Array.isArray(m.tool_calls) ? m.tool_calls : []))
        .map((c) => c?.id),
    );
    const orphan = messages.findIndex((m) => m?.role === "tool" && !callIds.has(m.tool_call_id));
    if (orphan >= 0)
      return fail(response, 400, {
        message: `Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.`,
        param: `messages.[${orphan}].role`,
      });
    /** @type {any[]} */
    const tools = Array.isArray(body.tools) ? body.tools : [];
    const named = typeof body.tool_choice === "object" ? body.tool_choice?.function?.name : undefined;
    if (named !== undefined && !tools.some((tool) => tool?.function?.name === named))
      return fail(response, 400, {
        message: `Invalid value for 'tool_choice': no function named '${named}' was specified in the 'tools' parameter.`,
        param: "tool_choice",
      });
    const images = messages.flatMap((m) =>
      m?.role === "user" && Array.isArray(m.content) ? m.content.filter((part) => part?.type === "image_url") : [],
    );
    if (images.some((part) => !/^(https:|data:image\/)/.test(String(part?.image_url?.url ?? ""))))
      return fail(response, 400, { message: "Invalid image URL.", param: "messages", code: "invalid_image_url" });
    const lastUserAt = messages.map((m) => m?.role).lastIndexOf("user");
    const toolResults = messages.slice(lastUserAt + 1).filter((m) => m?.role === "tool");
    const callsTools =
      tools.length > 0 && body.tool_choice !== "none" && toolResults.length === 0 && next?.reply === undefined;
    /** @type {{ id: string, type: "function", function: { name: string, arguments: string } }[]} */
    const toolCalls = [];
    if (callsTools) {
      const chosen = named !== undefined ? tools.filter((tool) => tool?.function?.name === named) : tools;
      const count =
        named === undefined && body.tool_choice === "required" && body.parallel_tool_calls !== false ? 2 : 1;
      for (const tool of chosen.slice(0, count)) {
        toolCalls.push({
          id: `call_fake_${++counter}`,
          type: "function",
          function: { name: tool.function.name, arguments: JSON.stringify(instanceOf(tool.function.parameters ?? {})) },
        });
      }
    }
    const lastUser = [...messages].reverse().find((m) => m?.role === "user");
    const scripted = next?.reply;
    const imageNote = images.length > 0 ? ` [images: ${images.length}]` : "";
    const text =
      toolCalls.length > 0
        ? ""
        : scripted !== undefined
          ? typeof scripted === "string"
            ? scripted
            : JSON.stringify(scripted)
          : toolResults.length > 0
            ? `echo: tool said ${toolResults.map((m) => contentText(m.content)).join(" ")}`
            : format === "json_schema"
              ? JSON.stringify(instanceOf(body.response_format?.json_schema?.schema ?? {}))
              : format === "json_object"
                ? "{}"
                : `echo: ${contentText(lastUser?.content)}${imageNote}`;
    const promptTokens = body.messages.reduce((sum, m) => sum + countTokens(contentText(m?.content)), 0);
    const completionTokens =
      countTokens(text) + toolCalls.reduce((sum, call) => sum + countTokens(call.function.arguments), 0);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      ...(next?.cachedTokens !== undefined ? { prompt_tokens_details: { cached_tokens: next.cachedTokens } } : {}),
    };
    const finishReason = next?.finishReason ?? (toolCalls.length > 0 ? "tool_calls" : "stop");
    const id = `chatcmpl-fake-${++counter}`;
    const created = Math.floor(Date.now() / 1000);
    const common = { id, created, model: body.model, system_fingerprint: "fp_fake" };
    const requestId = `req_fake_${counter}`;

    if (body.stream !== true) {
      const completion = JSON.stringify({
        ...common,
        object: "chat.completion",
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: toolCalls.length > 0 ? null : text,
              refusal: null,
              ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
            },
            logprobs: null,
            finish_reason: finishReason,
          },
        ],
        usage,
      });
      response.writeHead(200, { "content-type": "application/json", "x-request-id": requestId });
      if (next?.malformed) return response.end(completion.slice(0, Math.ceil(completion.length / 2)));
      if (next?.breakAfterChunks !== undefined) {
        await write(response, completion.slice(0, Math.ceil(completion.length / 2)));
        return response.destroy();
      }
      return response.end(completion);
    }

    const includeUsage = body.stream_options?.include_usage === true;
    /** @param {unknown[]} choices */
    const chunk = (choices, extra = {}) =>
      `data: ${JSON.stringify({
        ...common,
        object: "chat.completion.chunk",
        choices,
        ...(includeUsage ? { usage: null } : {}),
        ...extra,
      })}\n\n`;
    /** @param {object} delta */
    const choice = (delta, finish = null) => ({ index: 0, delta, logprobs: null, finish_reason: finish });

    response.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-request-id": requestId,
    });
    response.flushHeaders();
    await write(response, chunk([choice({ role: "assistant", content: "", refusal: null })]));
    if (next?.malformed) {
      await write(response, 'data: {"id": "chatcmpl-broken", "choices": [\n\n');
      return response.end("data: [DONE]\n\n");
    }
    for (const [index, call] of toolCalls.entries()) {
      const { name, arguments: args } = call.function;
      await write(
        response,
        chunk([choice({ tool_calls: [{ index, id: call.id, type: "function", function: { name, arguments: "" } }] })]),
      );
      // Arguments in fragments of a few characters, as OpenAI streams them.
      for (let at = 0; at < args.length; at += 7) {
        await write(
          response,
          chunk([choice({ tool_calls: [{ index, function: { arguments: args.slice(at, at + 7) } }] })]),
        );
      }
    }
    let sent = 0;
    for (const piece of toolCalls.length > 0 ? [] : deltas(text)) {
      if (next?.breakAfterChunks !== undefined && sent >= next.breakAfterChunks) return response.destroy();
      // A fixed delay before each token, as a real model streams; ends early if the client goes away.
      const delay = next?.chunkDelayMs ?? chunkDelayMs;
      if (delay > 0 && sent > 0) {
        await hang(delay, response);
        if (response.destroyed || response.writableEnded) return;
      }
      await write(response, chunk([choice({ content: piece })]));
      sent += 1;
    }
    if (next?.breakAfterChunks !== undefined && sent >= next.breakAfterChunks) return response.destroy();
    await write(response, chunk([choice({}, finishReason)]));
    if (includeUsage) await write(response, chunk([], { usage }));
    response.end("data: [DONE]\n\n");
  };

  /**
   * @param {import("node:http").ServerResponse} response
   * @param {any} body
   * @param {ScriptEntry | undefined} next
   */
  const embeddings = (response, body, next) => {
    if (typeof body?.model !== "string" || body.model === "")
      return fail(response, 400, { message: "you must provide a model parameter", param: "model" });
    const input = body.input;
    /** @type {string[]} */
    const texts =
      typeof input === "string"
        ? [input]
        : Array.isArray(input) && input.every((x) => typeof x === "string")
          ? input
          : Array.isArray(input) && input.every((x) => typeof x === "number")
            ? [input.join(" ")]
            : Array.isArray(input) && input.every((x) => Array.isArray(x))
              ? input.map((tokens) => tokens.join(" "))
              : [];
    if (texts.length === 0) return fail(response, 400, { message: "'input' is required", param: "input" });
    const dimensions =
      Number.isInteger(body.dimensions) && body.dimensions > 0 ? body.dimensions : EMBEDDING_DIMENSIONS;
    const base64 = body.encoding_format === "base64";
    const tokens = texts.reduce((sum, text) => sum + countTokens(text), 0);
    const answer = JSON.stringify({
      object: "list",
      data: texts.map((text, index) => {
        const vector = embed(text, dimensions);
        return { object: "embedding", index, embedding: base64 ? toBase64Float32(vector) : vector };
      }),
      model: body.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
    response.writeHead(200, { "content-type": "application/json", "x-request-id": `req_fake_${++counter}` });
    response.end(next?.malformed ? answer.slice(0, Math.ceil(answer.length / 2)) : answer);
  };

  const server = createServer(async (request, response) => {
    const got = await control.receive(request, response);
    if (!got) return;
    const { pathname, state, raw } = got;
    const { received, takeScript } = state;

    // groq-sdk prefixes every path with /openai.
    const path = pathname.replace(/^\/openai(?=\/v1\/)/, "");
    const { body, invalidJson } = control.parseJson(raw);
    const headers = { ...request.headers };
    if (headers.authorization !== undefined) headers.authorization = "Bearer [redacted]";
    /** @type {Record<string, unknown>} */
    const entry = { method: request.method ?? "GET", path: pathname, headers, body };
    received.push(entry);
    // A client that goes away before the answer ended (an aborted call) is on the record: tests check it.
    response.on("close", () => {
      if (!response.writableEnded) entry.closedByClient = true;
    });

    const authorization = request.headers.authorization ?? "";
    if (!/^Bearer \S+/i.test(authorization)) {
      return fail(response, 401, {
        message:
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        code: "invalid_api_key",
      });
    }

    const route = `${request.method} ${path.replace(/^\/v1\/models\/.+$/, "/v1/models/{model}")}`;
    const known = [
      "GET /v1/models",
      "GET /v1/models/{model}",
      "POST /v1/chat/completions",
      "POST /v1/embeddings",
    ].includes(route);
    if (!known) return fail(response, 404, { message: `Invalid URL (${request.method} ${pathname})`, code: null });
    if (invalidJson)
      return fail(response, 400, {
        message: "We could not parse the JSON body of your request.",
        code: null,
      });

    const model =
      body && typeof body === "object" && "model" in body && typeof body.model === "string"
        ? body.model
        : route === "GET /v1/models/{model}"
          ? decodeURIComponent(path.slice("/v1/models/".length))
          : undefined;
    const next = takeScript(model);
    if (next?.hangMs) {
      await hang(next.hangMs, response);
      if (response.destroyed || response.writableEnded) return;
    }
    if (next?.status && next.status >= 400) {
      return fail(response, next.status, {
        ...(next.message ? { message: next.message } : {}),
        ...(next.param ? { param: next.param } : {}),
        headers: next.retryAfter !== undefined ? { "retry-after": String(next.retryAfter) } : {},
      });
    }

    if (route === "GET /v1/models") {
      const created = 1_700_000_000;
      return response.writeHead(200, { "content-type": "application/json" }).end(
        next?.malformed
          ? '{"object": "list", "data": ['
          : JSON.stringify({
              object: "list",
              data: models.map((id) => ({ id, object: "model", created, owned_by: "fake-openai" })),
            }),
      );
    }
    if (route === "GET /v1/models/{model}") {
      if (!model || !models.includes(model))
        return fail(response, 404, { message: `The model '${model}' does not exist`, code: "model_not_found" });
      return response
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ id: model, object: "model", created: 1_700_000_000, owned_by: "fake-openai" }));
    }
    if (route === "POST /v1/embeddings") return embeddings(response, body, next);
    return chatCompletion(response, body, next);
  });
  return control.listen(server, port);
};
