// A local server that speaks AWS Bedrock Runtime's Converse and ConverseStream wire protocol (REST + JSON in,
// JSON or binary event-stream frames out, SigV4-signed requests), so the official SDK can be driven against it
// through its `endpoint` setting. Answers are deterministic from the request: the assistant says
// `echo: <last user text>`, token counts are word counts (input: every text block of `system` and `messages`;
// output: the answer), the same for both operations. Tests script failures and replies through
// POST /__fake/next and read what was received through GET /__fake/requests.
//
// Routes (model ids arrive URL-encoded, `anthropic.claude-3-haiku-20240307-v1%3A0`):
//   POST /model/{modelId}/converse          → application/json
//   POST /model/{modelId}/converse-stream   → application/vnd.amazon.eventstream: messageStart, contentBlockDelta
//                                             (one per word), contentBlockStop, messageStop, metadata
//   POST /model/{modelId}/invoke            → InvokeModel, for Amazon Titan Text Embeddings v2 only
//                                             (amazon.titan-embed-text-v2:0): `{ inputText, dimensions?,
//                                             normalize?, embeddingTypes? }` → `{ embedding, embeddingsByType,
//                                             inputTextTokenCount }`, the embedding from fake-openai.mjs's `embed`
//                                             (meaning-aware, always unit length) at 256, 512 or 1024 (default)
//                                             dimensions; token count = word count. Scripts apply as for Converse.
//
// HTTP/1.1 only: in Node the SDK defaults to NodeHttp2Handler (h2c against an http:// endpoint, which fails with
// ERR_HTTP2_ERROR here), so Node-side clients pass `requestHandler: new NodeHttpHandler()`. Inside workerd the SDK
// uses fetch over HTTP/1.1 and needs nothing.
//
// Under a scope (see fake-control.mjs) the endpoint is `${url}/s/<scope>`: the SDK keeps an endpoint's path and
// puts /model/... after it. The SigV4 check is of the header's shape only, so the prefix needs no care there.
import { createServer } from "node:http";
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";
import { createFakeControl } from "./fake-control.mjs";
import { embed } from "./fake-openai.mjs";
import { instanceOf } from "./schema-instance.mjs";

// Tools, structured output and images, as Converse handles them:
// - `toolConfig.tools` with no tool result after the last user text: the answer is a `toolUse` block for the
//   tool `toolChoice.tool` names (or the first), its input made from the tool's `inputSchema.json`, stop
//   reason `tool_use`; streamed as contentBlockStart (toolUseId, name) and contentBlockDelta `toolUse.input`
//   fragments. `toolChoice.any` with two or more tools calls the first two.
// - After `toolResult` blocks the answer is `echo: tool said <their texts>`.
// - `toolUse`/`toolResult` blocks without a `toolConfig`, or a toolResult whose id no toolUse has: 400.
// - `outputConfig.textFormat` of type json_schema: the text answer is a value made from that schema.
// - `image` blocks add ` [images: N]` to the echo; a format other than png, jpeg, gif or webp, or no bytes: 400.
// - `cachedTokens` in a script reports `cacheReadInputTokens`.

/** The embedding model InvokeModel serves (also under a cross-region prefix such as `us.`). */
const TITAN_EMBED_V2 = /^([a-z]{2}\.)?amazon\.titan-embed-text-v2:0$/;

/** Words the fake guardrail blocks (ApplyGuardrail), in input and output alike. */
export const BLOCKED_WORDS = ["forbidden-topic"];

/**
 * One scripted answer. `model` limits it to requests for that model id (decoded); `times` (default 1) is how
 * many requests it answers before it is used up. `hangMs` holds the request first (then the rest of the entry
 * applies). `status` answers with AWS's error shape, `type` naming the exception (default from the status).
 * `breakAfterChunks` streams that many deltas and then destroys the socket (Converse: half the JSON).
 * `streamException` (a union member such as `modelStreamErrorException`) streams messageStart and one delta,
 * then an exception frame. `reply` replaces the echo; `stopReason` replaces `end_turn`.
 * @typedef {{
 *   status?: number,
 *   type?: string,
 *   message?: string,
 *   hangMs?: number,
 *   breakAfterChunks?: number,
 *   streamException?: string,
 *   reply?: string,
 *   stopReason?: string,
 *   cachedTokens?: number,
 *   model?: string,
 *   times?: number,
 * }} ScriptEntry
 */

/**
 * @typedef {{
 *   method: string,
 *   path: string,
 *   operation: "Converse" | "ConverseStream" | "InvokeModel" | null,
 *   modelId: string | null,
 *   headers: string[],
 *   body: unknown,
 * }} ReceivedRequest
 */

/** @param {string} text */
export const countTokens = (text) => text.split(/\s+/).filter(Boolean).length;

/** The exception each status stands for, when a script names none (Bedrock Runtime's modeled errors). */
const ERROR_TYPES = /** @type {Record<number, [string, string]>} */ ({
  400: ["ValidationException", "The provided request is not valid."],
  403: ["AccessDeniedException", "You don't have access to the model with the specified model ID."],
  404: ["ResourceNotFoundException", "The requested resource could not be found."],
  408: ["ModelTimeoutException", "The model took too long to respond."],
  424: ["ModelErrorException", "The model returned an error."],
  429: ["ThrottlingException", "Too many requests, please wait before trying again."],
  500: ["InternalServerException", "The server encountered an internal error."],
  503: ["ServiceUnavailableException", "The service is unavailable. Please try again later."],
});

/** Exceptions the ConverseStream union can carry as an exception frame (`:exception-type`). */
const STREAM_EXCEPTIONS = new Set([
  "internalServerException",
  "modelStreamErrorException",
  "validationException",
  "throttlingException",
  "serviceUnavailableException",
]);

const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=\w+\/\d{8}\/[\w-]+\/bedrock\/aws4_request, SignedHeaders=[\w;-]+, Signature=[0-9a-f]{64}$/;

/**
 * The text of a list of content blocks (`[{ text }]`), other blocks ignored.
 * @param {unknown} blocks
 * @returns {string}
 */
const blocksText = (blocks) =>
  Array.isArray(blocks)
    ? blocks
        .map((block) => (block && typeof block === "object" && typeof block.text === "string" ? block.text : ""))
        .filter(Boolean)
        .join(" ")
    : "";

/** Split a reply into deltas that join back to it: "echo: a b" → ["echo:", " a", " b"]. */
const deltas = (/** @type {string} */ text) => {
  const pieces = text.split(/(?=\s+\S)/);
  return pieces.length > 0 ? pieces : [""];
};

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/**
 * One event-stream frame with a JSON payload.
 * @param {"event" | "exception"} messageType
 * @param {string} type the event (or exception) type: a member of the ConverseStreamOutput union
 * @param {unknown} payload
 */
const frame = (messageType, type, payload) =>
  codec.encode({
    headers: {
      [messageType === "event" ? ":event-type" : ":exception-type"]: { type: "string", value: type },
      ":content-type": { type: "string", value: "application/json" },
      ":message-type": { type: "string", value: messageType },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });

/**
 * @param {{ port?: number }} [options]
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export const startFakeBedrock = async ({ port = 0 } = {}) => {
  /** @type {ReturnType<typeof createFakeControl<ScriptEntry, ReceivedRequest>>} */
  const control = createFakeControl();
  const { hang, write } = control;

  /**
   * AWS's JSON error shape: the exception's name in `x-amzn-errortype`, `{ message }` as the body.
   * @param {import("node:http").ServerResponse} response
   * @param {number} status
   * @param {string} [type]
   * @param {string} [message]
   */
  const fail = (response, status, type, message) => {
    const [defaultType, defaultMessage] = ERROR_TYPES[status] ?? ["InternalServerException", `Error ${status}.`];
    response
      .writeHead(status, {
        "content-type": "application/json",
        "x-amzn-errortype": `${type ?? defaultType}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
        "x-amzn-requestid": crypto.randomUUID(),
      })
      .end(JSON.stringify({ message: message ?? defaultMessage }));
  };

  /**
   * The answer both operations give: text, stop reason and usage.
   * @param {any} body
   * @param {ScriptEntry | undefined} next
   */
  const answer = (body, next) => {
    const messages = /** @type {any[]} */ (body.messages);
    const lastUserText = [...messages]
      .reverse()
      .find(
        (m) => m?.role === "user" && Array.isArray(m.content) && m.content.some((b) => typeof b?.text === "string"),
      );
    const lastUserAt = lastUserText ? messages.lastIndexOf(lastUserText) : -1;
    const results = messages
      .slice(lastUserAt)
      .flatMap((m) => (Array.isArray(m?.content) ? m.content : []))
      .filter((b) => b?.toolResult);
    const images = (lastUserText?.content ?? []).filter((b) => b?.image);
    const tools = /** @type {any[]} */ (body.toolConfig?.tools ?? []);
    const choice = body.toolConfig?.toolChoice;
    /** @type {{ toolUseId: string, name: string, input: unknown }[]} */
    const toolUses = [];
    if (tools.length > 0 && results.length === 0 && next?.reply === undefined) {
      const chosen = choice?.tool ? tools.filter((t) => t?.toolSpec?.name === choice.tool.name) : tools;
      for (const tool of chosen.slice(0, choice?.any ? 2 : 1)) {
        toolUses.push({
          toolUseId: `tooluse_fake_${crypto.randomUUID().slice(0, 8)}`,
          name: tool.toolSpec.name,
          input: instanceOf(tool.toolSpec.inputSchema?.json ?? {}),
        });
      }
    }
    const format = body.outputConfig?.textFormat;
    let text = "";
    if (toolUses.length === 0) {
      if (next?.reply !== undefined) text = next.reply;
      else if (results.length > 0)
        text = `echo: tool said ${results.map((b) => blocksText(b.toolResult.content)).join(" ")}`;
      else if (format?.type === "json_schema")
        text = JSON.stringify(instanceOf(JSON.parse(format.structure?.jsonSchema?.schema ?? "{}")));
      else text = `echo: ${blocksText(lastUserText?.content)}${images.length > 0 ? ` [images: ${images.length}]` : ""}`;
    }
    const inputTokens =
      countTokens(blocksText(body.system)) + messages.reduce((sum, m) => sum + countTokens(blocksText(m?.content)), 0);
    const outputTokens =
      countTokens(text) + toolUses.reduce((sum, use) => sum + countTokens(JSON.stringify(use.input)), 0);
    return {
      text,
      toolUses,
      stopReason: next?.stopReason ?? (toolUses.length > 0 ? "tool_use" : "end_turn"),
      usage: {
        inputTokens,
        outputTokens,
        totalTokens: inputTokens + outputTokens,
        ...(next?.cachedTokens !== undefined ? { cacheReadInputTokens: next.cachedTokens } : {}),
      },
    };
  };

  /**
   * What Converse refuses in tool and image blocks, as a ValidationException message, or null.
   * @param {any} body
   */
  const invalidBlocks = (body) => {
    const blocks = /** @type {any[]} */ (body.messages).flatMap((m) => (Array.isArray(m?.content) ? m.content : []));
    const uses = new Set(blocks.filter((b) => b?.toolUse).map((b) => b.toolUse.toolUseId));
    const hasToolBlocks = blocks.some((b) => b?.toolUse || b?.toolResult);
    if (hasToolBlocks && !body.toolConfig)
      return "The toolConfig field must be defined when using toolUse and toolResult content blocks.";
    if (blocks.some((b) => b?.toolResult && !uses.has(b.toolResult.toolUseId)))
      return "The toolResult block's toolUseId does not match any toolUse block in the previous turn.";
    for (const block of blocks.filter((b) => b?.image)) {
      if (!["png", "jpeg", "gif", "webp"].includes(block.image.format)) return "The image format is not supported.";
      if (typeof block.image.source?.bytes !== "string" || block.image.source.bytes.length === 0)
        return "The image block has no bytes.";
    }
    return null;
  };

  /**
   * ApplyGuardrail: intervenes when any text block contains a word of BLOCKED_WORDS (case-insensitive), and
   * then answers the guardrail's blocked message in `outputs`, as Bedrock does.
   * @param {import("node:http").ServerResponse} response @param {string} raw
   */
  const applyGuardrail = (response, raw) => {
    /** @type {any} */
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      return fail(response, 400, "ValidationException", "The request body is not valid JSON.");
    }
    if (body?.source !== "INPUT" && body?.source !== "OUTPUT") {
      return fail(response, 400, "ValidationException", "source must be INPUT or OUTPUT.");
    }
    const texts = (Array.isArray(body.content) ? body.content : []).map((block) => String(block?.text?.text ?? ""));
    const hit = texts.some((text) => BLOCKED_WORDS.some((word) => text.toLowerCase().includes(word)));
    response.writeHead(200, { "content-type": "application/json", "x-amzn-requestid": crypto.randomUUID() }).end(
      JSON.stringify({
        usage: { topicPolicyUnits: texts.length, contentPolicyUnits: texts.length, wordPolicyUnits: texts.length },
        action: hit ? "GUARDRAIL_INTERVENED" : "NONE",
        outputs: hit ? [{ text: "Sorry, the model cannot answer this." }] : [],
        assessments: hit ? [{ wordPolicy: { customWords: [{ match: "blocked", action: "BLOCKED" }] } }] : [],
      }),
    );
  };

  /**
   * InvokeModel for Titan Text Embeddings v2, validated as Bedrock does (the body's JSON schema).
   * @param {import("node:http").ServerResponse} response @param {string} modelId @param {string} raw
   * @param {ScriptEntry | undefined} next
   */
  const invokeTitan = (response, modelId, raw, next) => {
    if (!TITAN_EMBED_V2.test(modelId)) {
      return fail(response, 400, "ValidationException", "The provided model identifier is invalid.");
    }
    /** @type {any} */
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      return fail(
        response,
        400,
        "ValidationException",
        "Malformed input request, please reformat your input and try again.",
      );
    }
    const text = body?.inputText;
    if (typeof text !== "string") {
      return fail(
        response,
        400,
        "ValidationException",
        "Malformed input request: #: required key [inputText] not found",
      );
    }
    if (text.length === 0) {
      return fail(
        response,
        400,
        "ValidationException",
        "Malformed input request: #/inputText: expected minLength: 1, actual: 0",
      );
    }
    const dimensions = body.dimensions ?? 1024;
    if (![256, 512, 1024].includes(dimensions)) {
      return fail(
        response,
        400,
        "ValidationException",
        `Malformed input request: #/dimensions: ${dimensions} is not a valid enum value`,
      );
    }
    if (body.normalize !== undefined && typeof body.normalize !== "boolean") {
      return fail(response, 400, "ValidationException", "Malformed input request: #/normalize: expected type: Boolean");
    }
    const embedding = embed(text, dimensions);
    const types = Array.isArray(body.embeddingTypes) ? body.embeddingTypes : ["float"];
    const answer = JSON.stringify({
      embedding,
      embeddingsByType: {
        ...(types.includes("float") ? { float: embedding } : {}),
        ...(types.includes("binary") ? { binary: embedding.map((x) => (x > 0 ? 1 : 0)) } : {}),
      },
      inputTextTokenCount: countTokens(text),
    });
    response.writeHead(200, { "content-type": "application/json", "x-amzn-requestid": crypto.randomUUID() });
    if (next?.breakAfterChunks !== undefined) return response.end(answer.slice(0, Math.ceil(answer.length / 2)));
    return response.end(answer);
  };

  const server = createServer(async (request, response) => {
    const started = Date.now();
    const got = await control.receive(request, response);
    if (!got) return;
    const { pathname, state, raw } = got;
    const { received, takeScript } = state;

    const guardrail = /^\/guardrail\/([^/]+)\/version\/([^/]+)\/apply$/.exec(pathname);
    if (guardrail && request.method === "POST") {
      received.push({
        method: "POST",
        path: pathname,
        operation: "ApplyGuardrail",
        modelId: null,
        headers: [],
        body: raw,
      });
      if (!SIGV4.test(request.headers.authorization ?? "")) {
        return fail(response, 403, "InvalidSignatureException", "The request signature is missing or malformed.");
      }
      return applyGuardrail(response, raw);
    }

    const invoke = /^\/model\/([^/]+)\/invoke$/.exec(pathname);
    if (invoke && request.method === "POST") {
      let invokedModel = /** @type {string} */ (invoke[1]);
      try {
        invokedModel = decodeURIComponent(invokedModel);
      } catch {}
      /** @type {unknown} */
      let sent = raw;
      try {
        sent = JSON.parse(raw);
      } catch {}
      received.push({
        method: "POST",
        path: pathname,
        operation: "InvokeModel",
        modelId: invokedModel,
        headers: Object.keys(request.headers).sort(),
        body: sent,
      });
      if (!SIGV4.test(request.headers.authorization ?? "")) {
        return fail(response, 403, "InvalidSignatureException", "The request signature is missing or malformed.");
      }
      const next = takeScript(invokedModel);
      if (next?.hangMs) {
        await hang(next.hangMs, response);
        if (response.destroyed || response.writableEnded) return;
      }
      if (next?.status && next.status >= 400) return fail(response, next.status, next.type, next.message);
      return invokeTitan(response, invokedModel, raw, next);
    }

    const match = /^\/model\/([^/]+)\/(converse|converse-stream)$/.exec(pathname);
    const operation = match ? (match[2] === "converse" ? "Converse" : "ConverseStream") : null;
    let modelId = null;
    try {
      modelId = match ? decodeURIComponent(/** @type {string} */ (match[1])) : null;
    } catch {
      modelId = match?.[1] ?? null;
    }
    const { body, invalidJson } = control.parseJson(raw);
    received.push({
      method: request.method ?? "GET",
      path: pathname,
      operation,
      modelId,
      headers: Object.keys(request.headers).sort(),
      body,
    });

    if (!match || request.method !== "POST" || modelId === null) {
      return fail(response, 404, "UnknownOperationException", `Unknown operation ${request.method} ${pathname}`);
    }
    const authorization = request.headers.authorization;
    if (authorization === undefined) {
      return fail(response, 403, "MissingAuthenticationTokenException", "Missing Authentication Token");
    }
    if (!SIGV4.test(authorization)) {
      return fail(response, 403, "InvalidSignatureException", "The request signature is missing or malformed.");
    }
    if (invalidJson || !body || typeof body !== "object") {
      return fail(response, 400, "ValidationException", "The request body is not valid JSON.");
    }
    const input = /** @type {any} */ (body);
    if (!Array.isArray(input.messages) || input.messages.length === 0) {
      return fail(response, 400, "ValidationException", "A conversation must start with a user message.");
    }

    const refused = invalidBlocks(input);
    if (refused) return fail(response, 400, "ValidationException", refused);

    const next = takeScript(modelId);
    if (next?.hangMs) {
      await hang(next.hangMs, response);
      if (response.destroyed || response.writableEnded) return;
    }
    if (next?.status && next.status >= 400) return fail(response, next.status, next.type, next.message);

    const { text, toolUses, stopReason, usage } = answer(input, next);
    const requestId = crypto.randomUUID();

    if (operation === "Converse") {
      const json = JSON.stringify({
        output: {
          message: {
            role: "assistant",
            content: toolUses.length > 0 ? toolUses.map((toolUse) => ({ toolUse })) : [{ text }],
          },
        },
        stopReason,
        usage,
        metrics: { latencyMs: Date.now() - started },
      });
      response.writeHead(200, { "content-type": "application/json", "x-amzn-requestid": requestId });
      if (next?.breakAfterChunks !== undefined) {
        await write(response, json.slice(0, Math.ceil(json.length / 2)));
        return response.destroy();
      }
      return response.end(json);
    }

    response.writeHead(200, {
      "content-type": "application/vnd.amazon.eventstream",
      "x-amzn-requestid": requestId,
    });
    response.flushHeaders();
    await write(response, frame("event", "messageStart", { role: "assistant" }));
    for (const [contentBlockIndex, use] of toolUses.entries()) {
      const { toolUseId, name } = use;
      await write(
        response,
        frame("event", "contentBlockStart", { contentBlockIndex, start: { toolUse: { toolUseId, name } } }),
      );
      const input = JSON.stringify(use.input);
      for (let at = 0; at < input.length; at += 7) {
        await write(
          response,
          frame("event", "contentBlockDelta", {
            contentBlockIndex,
            delta: { toolUse: { input: input.slice(at, at + 7) } },
          }),
        );
      }
      await write(response, frame("event", "contentBlockStop", { contentBlockIndex }));
    }
    if (toolUses.length > 0) {
      await write(response, frame("event", "messageStop", { stopReason }));
      return response.end(frame("event", "metadata", { usage, metrics: { latencyMs: Date.now() - started } }));
    }
    let sent = 0;
    for (const piece of deltas(text)) {
      if (next?.breakAfterChunks !== undefined && sent >= next.breakAfterChunks) return response.destroy();
      if (next?.streamException !== undefined && sent >= 1) break;
      await write(response, frame("event", "contentBlockDelta", { contentBlockIndex: 0, delta: { text: piece } }));
      sent += 1;
    }
    if (next?.breakAfterChunks !== undefined && sent >= next.breakAfterChunks) return response.destroy();
    if (next?.streamException !== undefined) {
      const type = STREAM_EXCEPTIONS.has(next.streamException) ? next.streamException : "modelStreamErrorException";
      await write(
        response,
        frame("exception", type, {
          message: next.message ?? "The model failed while streaming its answer.",
          ...(type === "modelStreamErrorException"
            ? { originalStatusCode: 500, originalMessage: "Model stream interrupted." }
            : {}),
        }),
      );
      return response.end();
    }
    await write(response, frame("event", "contentBlockStop", { contentBlockIndex: 0 }));
    await write(response, frame("event", "messageStop", { stopReason }));
    response.end(frame("event", "metadata", { usage, metrics: { latencyMs: Date.now() - started } }));
  });
  return control.listen(server, port);
};
