import { BedrockRuntimeClient, InvokeModelCommand } from "@aws-sdk/client-bedrock-runtime";
import { FetchHttpHandler } from "@smithy/fetch-http-handler";
import OpenAI from "openai";
import type { Env } from "../env.js";

/**
 * Turns texts into vectors with the model EMBEDDING_MODEL names. `model` is the setting as written
 * (`openai/text-embedding-3-small`), the name documents record their vectors under; `tokens` is what the
 * provider counted. Vectors come back in the order of the texts. Failures are {@link EmbeddingFailure}s.
 * @example
 * const embedder = createEmbedder(ctx.env);
 * if (embedder) {
 *   const { vectors, tokens } = await embedder.embed(["car maintenance", "chocolate cake recipe"]);
 * }
 */
export type Embedder = {
  model: string;
  embed(texts: string[], signal?: AbortSignal): Promise<{ vectors: number[][]; tokens: number }>;
};

/**
 * An embedding call that failed, or a model that cannot be used. `retryable` says whether the same texts may
 * succeed later (rate limits, 5xx, network trouble, timeouts); a permanent failure (bad key, unknown model,
 * missing settings, rejected input) needs a change first. `code` is one of `RATE_LIMITED`, `SERVER_ERROR`,
 * `NETWORK`, `TIMEOUT`, `ABORTED`, `MALFORMED`, `AUTH`, `MODEL_NOT_FOUND`, `BAD_REQUEST`, `NOT_CONFIGURED`.
 * The message never holds a key.
 * @example
 * try {
 *   await embedder.embed(texts);
 * } catch (error) {
 *   if (isRetryableEmbeddingFailure(error)) return { error: "EMBEDDING_FAILED", retry: true };
 *   throw error;
 * }
 */
export class EmbeddingFailure extends Error {
  readonly retryable: boolean;
  readonly code: string;
  /** The provider's HTTP status, when it answered. */
  readonly status: number | null;
  /** How long the provider asked to wait (Retry-After), when it said. */
  readonly retryAfterMs: number | null;

  constructor(options: {
    code: string;
    retryable: boolean;
    message: string;
    status?: number | null;
    retryAfterMs?: number | null;
  }) {
    super(options.message.slice(0, 300));
    this.name = "EmbeddingFailure";
    this.code = options.code;
    this.retryable = options.retryable;
    this.status = options.status ?? null;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
}

/**
 * Whether a failure is worth another try later (an {@link EmbeddingFailure} with `retryable`).
 * @example
 * const retry = isRetryableEmbeddingFailure(error); // true for a 429, a 5xx, a timeout or a network error
 */
export const isRetryableEmbeddingFailure = (error: unknown) => error instanceof EmbeddingFailure && error.retryable;

/**
 * US dollars per million input tokens of the embedding models APE knows (the providers' public prices, read
 * 2025-06-01). A model of an OpenAI-compatible server costs nothing (your hardware); an OpenAI or Bedrock model
 * missing here is priced as the dearest known one, so an unknown model never spends unseen.
 */
const EMBEDDING_PRICES_PER_MILLION: Record<string, number> = {
  "openai/text-embedding-3-small": 0.02,
  "openai/text-embedding-3-large": 0.13,
  "openai/text-embedding-ada-002": 0.1,
  "bedrock/amazon.titan-embed-text-v2:0": 0.02,
};
const DEAREST_EMBEDDING_PRICE = Math.max(...Object.values(EMBEDDING_PRICES_PER_MILLION));

/**
 * What `tokens` of input to the model EMBEDDING_MODEL names cost, in US dollars.
 * @example
 * embeddingCostUsd("openai/text-embedding-3-small", 1_000_000) // 0.02
 */
export const embeddingCostUsd = (model: string, tokens: number): number => {
  if (model.startsWith("compat/")) return 0;
  // Bedrock's cross-region prefixes (`us.`, `eu.`) price as the model itself.
  const known = EMBEDDING_PRICES_PER_MILLION[model.replace(/^bedrock\/[a-z]{2}\./, "bedrock/")];
  return ((known ?? DEAREST_EMBEDDING_PRICE) * tokens) / 1_000_000;
};

/** Texts per OpenAI-style request (the API takes up to 2,048; smaller requests fail and retry cheaply). */
const OPENAI_BATCH = 96;
/** Requests in flight at once: OpenAI-style batches, and Bedrock's one-text calls. */
const OPENAI_PARALLEL = 4;
const BEDROCK_PARALLEL = 8;
/** How long one attempt may take. */
const ATTEMPT_TIMEOUT_MS = 30_000;
/** The wait before the one retry, unless the provider's Retry-After asks for longer (up to the cap). */
const RETRY_DELAY_MS = 250;
const MAX_RETRY_DELAY_MS = 2_000;

/** What the provider of each model prefix needs set. */
const REQUIRED_SETTINGS = {
  openai: ["OPENAI_API_KEY"],
  compat: ["OPENAI_COMPATIBLE_BASE_URL"],
  bedrock: ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
} as const satisfies Record<string, readonly (keyof Env)[]>;

type Provider = keyof typeof REQUIRED_SETTINGS;

/** Amazon Titan Text Embeddings v2 (also through a cross-region prefix such as `us.`). */
const TITAN_V2 = /^([a-z]{2}\.)?amazon\.titan-embed-text-v2/;

const permanent = (code: string, message: string, status: number | null = null) =>
  new EmbeddingFailure({ code, retryable: false, message, status });

/** The code a status means: 429, 408/504 and 5xx are worth a retry, other 4xx are not. */
const codeOfStatus = (status: number): [code: string, retryable: boolean] => {
  if (status === 429) return ["RATE_LIMITED", true];
  if (status === 408 || status === 504) return ["TIMEOUT", true];
  if (status >= 500) return ["SERVER_ERROR", true];
  if (status === 401 || status === 403) return ["AUTH", false];
  if (status === 404) return ["MODEL_NOT_FOUND", false];
  return ["BAD_REQUEST", false];
};

const failureOfStatus = (status: number, message: string, retryAfterMs: number | null = null) => {
  const [code, retryable] = codeOfStatus(status);
  return new EmbeddingFailure({ code, retryable, status, message, retryAfterMs });
};

type Attempt = { signal: AbortSignal; caller: AbortSignal | undefined };

/** A call that got no answer: the caller's abort, a timeout (ours or the SDK's), or the network. */
const unanswered = (attempt: Attempt, message: string, timedOut = false) => {
  if (attempt.caller?.aborted) return new EmbeddingFailure({ code: "ABORTED", retryable: true, message: "aborted" });
  if (timedOut || attempt.signal.aborted) {
    return new EmbeddingFailure({ code: "TIMEOUT", retryable: true, message: "no answer in time" });
  }
  return new EmbeddingFailure({ code: "NETWORK", retryable: true, message });
};

const malformed = (message: string) => new EmbeddingFailure({ code: "MALFORMED", retryable: true, message });

/** Replaces every secret (and anything shaped like an API key) in a provider's message. */
const scrubber = (secrets: (string | undefined)[]) => {
  const known = secrets.filter((secret): secret is string => typeof secret === "string" && secret.length >= 4);
  return (message: string) =>
    known
      .reduce((text, secret) => text.replaceAll(secret, "[redacted]"), message)
      .replace(/\b(sk|gsk|key)-[A-Za-z0-9_*-]{6,}/g, "[redacted]")
      .replace(/Bearer\s+\S+/gi, "Bearer [redacted]");
};

/** Waits `ms`, or less if `signal` aborts. */
const sleep = (ms: number, signal: AbortSignal | undefined) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });

/** Runs `call` with an attempt timeout joined to the caller's signal; once more after a retryable failure. */
const withRetry = async <T>(caller: AbortSignal | undefined, call: (attempt: Attempt) => Promise<T>): Promise<T> => {
  for (let tries = 1; ; tries++) {
    const timeout = AbortSignal.timeout(ATTEMPT_TIMEOUT_MS);
    const signal = caller ? AbortSignal.any([caller, timeout]) : timeout;
    try {
      return await call({ signal, caller });
    } catch (error) {
      const failure = error instanceof EmbeddingFailure ? error : malformed(String(error));
      if (tries >= 2 || !failure.retryable || failure.code === "ABORTED" || caller?.aborted) throw failure;
      await sleep(Math.min(MAX_RETRY_DELAY_MS, Math.max(RETRY_DELAY_MS, failure.retryAfterMs ?? 0)), caller);
    }
  }
};

/** `fn` over `items` with at most `limit` calls in flight, results in the items' order; stops at a failure. */
const mapLimit = async <T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> => {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !failed) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
};

const isVector = (value: unknown): value is number[] =>
  Array.isArray(value) && value.length > 0 && value.every((x) => typeof x === "number" && Number.isFinite(x));

const retryAfterMs = (headers: unknown) => {
  const value = headers instanceof Headers ? headers.get("retry-after") : null;
  const seconds = value === null ? Number.NaN : Number(value);
  return Number.isFinite(seconds) ? seconds * 1000 : null;
};

/** The OpenAI embeddings API (OpenAI itself, or a compatible server: Ollama, vLLM, LM Studio). */
const openAiEmbedder = (options: {
  name: string;
  apiKey: string;
  baseURL: string;
  /** Ask for plain floats: some compatible servers do not know the SDK's default, base64. */
  floats: boolean;
}): Embedder["embed"] => {
  const client = new OpenAI({ apiKey: options.apiKey, baseURL: options.baseURL, maxRetries: 0 });
  const scrub = scrubber([options.apiKey]);

  const classify = (error: unknown, attempt: Attempt) => {
    if (error instanceof EmbeddingFailure) return error;
    const e = error as { status?: unknown; headers?: unknown; message?: unknown; name?: unknown };
    const message = scrub(typeof e?.message === "string" ? e.message : String(error));
    if (typeof e?.status === "number") return failureOfStatus(e.status, message, retryAfterMs(e.headers));
    if (error instanceof SyntaxError) return malformed(message);
    return unanswered(attempt, message, e?.name === "APIConnectionTimeoutError");
  };

  const batch = (texts: string[], caller: AbortSignal | undefined) =>
    withRetry(caller, async (attempt) => {
      try {
        const answer = await client.embeddings.create(
          { model: options.name, input: texts, ...(options.floats ? { encoding_format: "float" as const } : {}) },
          { signal: attempt.signal, timeout: ATTEMPT_TIMEOUT_MS },
        );
        const vectors = new Array<number[]>(texts.length);
        for (const item of answer.data ?? []) {
          if (Number.isInteger(item.index) && item.index < texts.length && isVector(item.embedding)) {
            vectors[item.index] = item.embedding;
          }
        }
        if (vectors.filter(Boolean).length !== texts.length) {
          throw malformed(`the answer held ${answer.data?.length ?? 0} usable embeddings for ${texts.length} texts`);
        }
        return { vectors, tokens: answer.usage?.prompt_tokens ?? 0 };
      } catch (error) {
        throw classify(error, attempt);
      }
    });

  return async (texts, signal) => {
    const batches: string[][] = [];
    for (let start = 0; start < texts.length; start += OPENAI_BATCH) {
      batches.push(texts.slice(start, start + OPENAI_BATCH));
    }
    const answers = await mapLimit(batches, OPENAI_PARALLEL, (part) => batch(part, signal));
    return {
      vectors: answers.flatMap((answer) => answer.vectors),
      tokens: answers.reduce((sum, answer) => sum + answer.tokens, 0),
    };
  };
};

/** Bedrock's exception names, for when no HTTP status came with one. */
const BEDROCK_STATUS: Record<string, number> = {
  ThrottlingException: 429,
  ServiceQuotaExceededException: 429,
  ModelNotReadyException: 503,
  ServiceUnavailableException: 503,
  InternalServerException: 500,
  ModelTimeoutException: 408,
  ModelErrorException: 500,
  AccessDeniedException: 403,
  UnrecognizedClientException: 403,
  ValidationException: 400,
  ResourceNotFoundException: 404,
};

/**
 * Amazon Titan Text Embeddings v2 through InvokeModel: one text a call, a few calls at once. As in the LLM
 * provider (src/llm/providers/bedrock.ts), the SDK's retries are off and its HTTP handler is a FetchHttpHandler
 * made here, since inside workerd the default one drops the abort signal.
 */
const titanEmbedder = (options: {
  name: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  endpoint?: string | undefined;
}): Embedder["embed"] => {
  const client = new BedrockRuntimeClient({
    region: options.region,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    maxAttempts: 1,
    requestHandler: new FetchHttpHandler({ requestTimeout: ATTEMPT_TIMEOUT_MS }),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });
  const scrub = scrubber([options.accessKeyId, options.secretAccessKey]);

  const classify = (error: unknown, attempt: Attempt) => {
    if (error instanceof EmbeddingFailure) return error;
    const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const name = e?.name ?? "Error";
    const message = scrub(`${name}: ${e?.message ?? String(error)}`);
    if (name === "TimeoutError" || name === "AbortError") return unanswered(attempt, message, name === "TimeoutError");
    const status = e?.$metadata?.httpStatusCode ?? BEDROCK_STATUS[name];
    if (typeof status === "number" && status >= 400) return failureOfStatus(status, message);
    if (error instanceof SyntaxError) return malformed(message);
    return unanswered(attempt, message);
  };

  const one = (text: string, caller: AbortSignal | undefined) =>
    withRetry(caller, async (attempt) => {
      try {
        const result = await client.send(
          new InvokeModelCommand({
            modelId: options.name,
            contentType: "application/json",
            accept: "application/json",
            body: JSON.stringify({ inputText: text, normalize: true }),
          }),
          { abortSignal: attempt.signal },
        );
        const answer = JSON.parse(new TextDecoder().decode(result.body)) as {
          embedding?: unknown;
          inputTextTokenCount?: unknown;
        };
        if (!isVector(answer.embedding)) throw malformed("the answer held no embedding");
        return {
          vector: answer.embedding,
          tokens: typeof answer.inputTextTokenCount === "number" ? answer.inputTextTokenCount : 0,
        };
      } catch (error) {
        throw classify(error, attempt);
      }
    });

  return async (texts, signal) => {
    const answers = await mapLimit(texts, BEDROCK_PARALLEL, (text) => one(text, signal));
    return {
      vectors: answers.map((answer) => answer.vector),
      tokens: answers.reduce((sum, answer) => sum + answer.tokens, 0),
    };
  };
};

const build = (env: Env, model: string): Embedder => {
  const slash = model.indexOf("/");
  const provider = model.slice(0, slash) as Provider;
  const name = model.slice(slash + 1);
  const required: readonly (keyof Env)[] = REQUIRED_SETTINGS[provider] ?? [];
  if (required.length === 0) {
    throw permanent("NOT_CONFIGURED", `EMBEDDING_MODEL ${model}: the provider must be openai, compat or bedrock`);
  }
  const missing = required.filter((setting) => !env[setting]);
  if (missing.length > 0) {
    throw permanent("NOT_CONFIGURED", `EMBEDDING_MODEL ${model} needs ${missing.join(", ")}, which are not set`);
  }
  let embed: Embedder["embed"];
  if (provider === "bedrock") {
    if (!TITAN_V2.test(name)) {
      throw permanent(
        "NOT_CONFIGURED",
        `EMBEDDING_MODEL ${model}: on Bedrock only Amazon Titan Text Embeddings v2 (amazon.titan-embed-text-v2:0) is supported`,
      );
    }
    embed = titanEmbedder({
      name,
      region: env.AWS_REGION as string,
      accessKeyId: env.AWS_ACCESS_KEY_ID as string,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string,
      endpoint: env.BEDROCK_ENDPOINT,
    });
  } else if (provider === "openai") {
    embed = openAiEmbedder({
      name,
      apiKey: env.OPENAI_API_KEY as string,
      baseURL: env.OPENAI_BASE_URL ?? "https://api.openai.com/v1",
      floats: false,
    });
  } else {
    embed = openAiEmbedder({
      name,
      // Local servers usually take no key; the SDK insists on one.
      apiKey: env.OPENAI_COMPATIBLE_API_KEY ?? "not-needed",
      baseURL: env.OPENAI_COMPATIBLE_BASE_URL as string,
      floats: true,
    });
  }
  return {
    model,
    embed: async (texts, signal) => (texts.length === 0 ? { vectors: [], tokens: 0 } : embed(texts, signal)),
  };
};

// Lives as long as the isolate: one embedder (and SDK client) per environment object, as for the LLM providers.
const built = new WeakMap<Env, Embedder>();
// The same for models named per request (the front door's `provider/model`): a few per environment.
const named = new WeakMap<Env, Map<string, Embedder>>();
const MAX_NAMED = 16;

/**
 * The embedder of a model named as EMBEDDING_MODEL is (`openai/text-embedding-3-small`,
 * `bedrock/amazon.titan-embed-text-v2:0`, `compat/nomic-embed-text`), for callers that pick one per request.
 * Throws a permanent {@link EmbeddingFailure} (`NOT_CONFIGURED`) when its provider lacks settings.
 * @example
 * const embedder = embedderFor(env, "openai/text-embedding-3-small");
 */
export const embedderFor = (env: Env, model: string): Embedder => {
  if (model === env.EMBEDDING_MODEL) return createEmbedder(env) as Embedder;
  let models = named.get(env);
  if (!models) {
    models = new Map();
    named.set(env, models);
  }
  let embedder = models.get(model);
  if (!embedder) {
    embedder = build(env, model);
    if (models.size >= MAX_NAMED) models.clear();
    models.set(model, embedder);
  }
  return embedder;
};

/**
 * The embedder EMBEDDING_MODEL names, or null when it is unset (documents are then searched by full text
 * only). Throws a permanent {@link EmbeddingFailure} (`NOT_CONFIGURED`) naming the missing settings when the
 * model's provider lacks them.
 * @example
 * const embedder = createEmbedder(env); // EMBEDDING_MODEL=bedrock/amazon.titan-embed-text-v2:0
 * const { vectors } = (await embedder?.embed(["hello"])) ?? { vectors: [] };
 */
export const createEmbedder = (env: Env): Embedder | null => {
  const model = env.EMBEDDING_MODEL;
  if (!model) return null;
  let embedder = built.get(env);
  if (!embedder || embedder.model !== model) {
    embedder = build(env, model);
    built.set(env, embedder);
  }
  return embedder;
};
