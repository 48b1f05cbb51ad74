import { BedrockRuntimeClient, InvokeModelCommand } from "@aws-sdk/client-bedrock-runtime";
import { FetchHttpHandler } from "@smithy/fetch-http-handler";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDatabase, type Database } from "../../src/db/client.js";
import { checkEnv, type Env } from "../../src/env.js";
import { createEmbedder, EmbeddingFailure, isRetryableEmbeddingFailure } from "../../src/integrations/embeddings.js";
import {
  createVectorStore,
  userDocumentsNamespace,
  type VectorItem,
  type VectorStore,
} from "../../src/integrations/vector-store.js";
import { createUpstashVectorStore } from "../../src/integrations/vector-store-upstash.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { llmFakes } from "../helpers/llm-fakes.js";

// Both vector stores, inside workerd, through their real wire paths: Postgres on this file's own database (over
// the WebSocket bridge, as on Neon), Upstash Vector through @upstash/vector against test/helpers/
// fake-upstash-vector.mjs (a scope of its own per store, so an index of its own). Then the embedders against the
// OpenAI-compatible and Bedrock fakes, whose embeddings are meaning-aware (see fake-openai.mjs's header).

const UPSTASH_TOKEN = "fake-upstash-vector-token";

let h: Harness;
let database: { db: Database; close: () => Promise<void> };
beforeAll(async () => {
  h = await createHarness();
  database = createDatabase(h.databaseUrl);
});
afterAll(() => database.close());

const parsedEnv = (overrides: Record<string, string> = {}): Env => {
  const check = checkEnv({ ...h.env, ...overrides });
  if (!check.ok) throw new Error(check.problems.join("; "));
  return check.env;
};

const upstashScope = () => `${inject("fakeUpstashVectorUrl")}/s/${crypto.randomUUID()}`;
type Received = { command: string; namespace: string; body: unknown };
const upstashRequests = async (scope: string) => (await (await fetch(`${scope}/__fake/requests`)).json()) as Received[];

/** A store of each kind; the Upstash one must never open the database, so its context throws if asked. */
const makeStore = (kind: "postgres" | "upstash", scope = upstashScope(), token = UPSTASH_TOKEN): VectorStore =>
  kind === "postgres"
    ? createVectorStore({ env: parsedEnv(), db: database.db })
    : createVectorStore({
        env: parsedEnv({ UPSTASH_VECTOR_REST_URL: scope, UPSTASH_VECTOR_REST_TOKEN: token }),
        get db(): Database {
          throw new Error("the Upstash store opened the database");
        },
      });

/** A namespace no other test uses (the Postgres store shares this file's database). */
const freshNamespace = () => userDocumentsNamespace(`usr_${crypto.randomUUID().slice(0, 8)}`);

const item = (id: string, vector: number[], extra: Record<string, unknown> = {}): VectorItem => ({
  id,
  vector,
  metadata: { document_id: id.slice(0, id.indexOf("#")), ...extra },
});

const ids = (matches: { id: string }[]) => matches.map((match) => match.id);

describe.each(["postgres", "upstash"] as const)("the %s vector store", (kind) => {
  it("answers the nearest vectors first, with their metadata and cosine similarity as the score", async () => {
    const store = makeStore(kind);
    expect(store.kind).toBe(kind);
    const namespace = freshNamespace();
    await store.upsert(namespace, [
      item("doc_a#0", [1, 0, 0], { page: 1 }),
      item("doc_a#1", [0.8, 0.6, 0], { page: 2 }),
      item("doc_b#0", [0, 3, 0], { page: 1 }),
      item("doc_c#0", [-1, 0, 0], { page: 7 }),
    ]);
    // Not unit length on purpose: both stores compare directions only.
    const matches = await store.query(namespace, { vector: [2, 0, 0], topK: 3 });
    expect(ids(matches)).toEqual(["doc_a#0", "doc_a#1", "doc_b#0"]);
    expect(matches[0]?.metadata).toEqual({ document_id: "doc_a", page: 1 });
    expect(matches.map((match) => match.score)).toEqual([
      expect.closeTo(1, 5),
      expect.closeTo(0.8, 5),
      expect.closeTo(0, 5),
    ]);
    const all = await store.query(namespace, { vector: [1, 0, 0], topK: 10 });
    expect(all.at(-1)).toMatchObject({ id: "doc_c#0", score: expect.closeTo(-1, 5), metadata: { page: 7 } });
  });

  it("keeps only the given documents' vectors when asked to, and answers nothing for an empty list", async () => {
    const store = makeStore(kind);
    const namespace = freshNamespace();
    await store.upsert(namespace, [
      item("doc_a#0", [1, 0]),
      item("doc_b#0", [0.9, 0.1]),
      item("doc_b#1", [0, 1]),
      // A quote in an id must neither break nor widen the filter.
      item("doc_q'x#0", [0.95, 0.05]),
    ]);
    const some = await store.query(namespace, { vector: [1, 0], topK: 10, filter: { documentIds: ["doc_b"] } });
    expect(ids(some)).toEqual(["doc_b#0", "doc_b#1"]);
    const quoted = await store.query(namespace, {
      vector: [1, 0],
      topK: 10,
      filter: { documentIds: ["doc_q'x", "doc_a"] },
    });
    expect(ids(quoted)).toEqual(["doc_a#0", "doc_q'x#0"]);
    expect(await store.query(namespace, { vector: [1, 0], topK: 10, filter: { documentIds: [] } })).toEqual([]);
  });

  it("deletes one document's vectors by their id prefix and leaves the rest, even ids that merely begin alike", async () => {
    const store = makeStore(kind);
    const namespace = freshNamespace();
    await store.upsert(namespace, [
      item("doc_a#0", [1, 0]),
      item("doc_a#1", [1, 1]),
      item("doc_ab#0", [0, 1]),
      item("doc_b#0", [1, -1]),
    ]);
    await store.deleteByPrefix(namespace, "doc_a#");
    expect(ids(await store.query(namespace, { vector: [1, 0], topK: 10 })).sort()).toEqual(["doc_ab#0", "doc_b#0"]);
    await expect(store.deleteByPrefix(namespace, "")).rejects.toThrow(/non-empty prefix/);
  });

  it("never answers one user's query from another user's namespace, and deletes a namespace whole", async () => {
    const store = makeStore(kind);
    const alice = freshNamespace();
    const bob = freshNamespace();
    await store.upsert(alice, [item("doc_a#0", [1, 0]), item("doc_a#1", [0, 1])]);
    await store.upsert(bob, [item("doc_b#0", [1, 0])]);
    expect(ids(await store.query(alice, { vector: [1, 0], topK: 10 }))).toEqual(["doc_a#0", "doc_a#1"]);
    expect(ids(await store.query(bob, { vector: [1, 0], topK: 10 }))).toEqual(["doc_b#0"]);
    expect(await store.query(freshNamespace(), { vector: [1, 0], topK: 10 })).toEqual([]);
    await store.deleteNamespace(alice);
    expect(await store.query(alice, { vector: [1, 0], topK: 10 })).toEqual([]);
    expect(ids(await store.query(bob, { vector: [1, 0], topK: 10 }))).toEqual(["doc_b#0"]);
    // Deleting what is already gone (or never was) is not an error.
    await store.deleteNamespace(alice);
    await store.deleteNamespace(freshNamespace());
  });

  it("overwrites a vector upserted again under the same id, metadata included", async () => {
    const store = makeStore(kind);
    const namespace = freshNamespace();
    await store.upsert(namespace, [item("doc_a#0", [1, 0], { version: 1 })]);
    await store.upsert(namespace, [item("doc_a#0", [0, 1], { version: 2 })]);
    const matches = await store.query(namespace, { vector: [0, 1], topK: 10 });
    expect(matches).toEqual([
      { id: "doc_a#0", score: expect.closeTo(1, 5), metadata: { document_id: "doc_a", version: 2 } },
    ]);
  });

  it("stores more vectors than one request carries, and answers at most topK of them", async () => {
    const scope = upstashScope();
    const store = makeStore(kind, scope);
    const namespace = freshNamespace();
    const items = Array.from({ length: 2_500 }, (_, i) => item(`doc_${i % 50}#${i}`, [Math.cos(i), Math.sin(i), 1]));
    await store.upsert(namespace, items);
    const matches = await store.query(namespace, { vector: [1, 0, 1], topK: 1_000 });
    expect(matches).toHaveLength(1_000);
    expect(new Set(ids(matches)).size).toBe(1_000);
    expect(matches[0]?.score).toBeGreaterThanOrEqual(matches[999]?.score ?? 1);
    if (kind === "upstash") {
      const upserts = (await upstashRequests(scope)).filter((request) => request.command === "upsert");
      expect(upserts.map((request) => (request.body as unknown[]).length)).toEqual([1_000, 1_000, 500]);
      expect(upserts.every((request) => request.namespace === namespace)).toBe(true);
    }
  });

  it("refuses vectors without a document_id or of mixed dimensions before writing any", async () => {
    const store = makeStore(kind);
    const namespace = freshNamespace();
    await expect(store.upsert(namespace, [{ id: "x#0", vector: [1, 0], metadata: {} }])).rejects.toThrow(/document_id/);
    await expect(store.upsert(namespace, [item("doc_a#0", [1, 0]), item("doc_a#1", [1, 0, 0])])).rejects.toThrow(
      /dimensions/,
    );
    expect(await store.query(namespace, { vector: [1, 0], topK: 10 })).toEqual([]);
  });

  it("finds chunks by meaning with the fake's embeddings: a question about an automobile finds the car text", async () => {
    const fakes = llmFakes();
    const embedder = createEmbedder(parsedEnv(fakes.env({ EMBEDDING_MODEL: "openai/text-embedding-3-small" })));
    const texts = ["Chocolate cake recipe with cocoa", "Car maintenance schedule", "Buying a large house"];
    const { vectors } = (await embedder?.embed(texts)) ?? { vectors: [] };
    const store = makeStore(kind);
    const namespace = freshNamespace();
    await store.upsert(
      namespace,
      texts.map((_, i) => item(`doc_${i}#0`, vectors[i] ?? [], { text: texts[i] })),
    );
    const [question] = (await embedder?.embed(["How do I repair my automobile?"]))?.vectors ?? [];
    const matches = await store.query(namespace, { vector: question ?? [], topK: 3 });
    expect(matches[0]?.metadata.text).toBe("Car maintenance schedule");
    expect(matches[0]?.score).toBeGreaterThan(0.8);
    expect(matches[1]?.score).toBeLessThan(0.1);
  });
});

describe("the Upstash vector store's wire", () => {
  it("sends the filter as Upstash's SQL-like string and the deletes as the SDK's commands", async () => {
    const scope = upstashScope();
    const store = makeStore("upstash", scope);
    const namespace = freshNamespace();
    await store.upsert(namespace, [item("doc_a#0", [1, 0])]);
    await store.query(namespace, { vector: [1, 0], topK: 5, filter: { documentIds: ["doc_a", "it's"] } });
    await store.deleteByPrefix(namespace, "doc_a#");
    await store.deleteNamespace(namespace);
    const sent = await upstashRequests(scope);
    expect(sent.map((request) => `${request.command}/${request.namespace}`)).toEqual([
      `upsert/${namespace}`,
      `query/${namespace}`,
      `delete/${namespace}`,
      `delete-namespace/${namespace}`,
    ]);
    expect(sent[1]?.body).toEqual({
      vector: [1, 0],
      topK: 5,
      includeMetadata: true,
      filter: "document_id IN ('doc_a', 'it\\'s')",
    });
    expect(sent[2]?.body).toEqual({ prefix: "doc_a#" });
  });

  it("fails with Upstash's message on a wrong token, and on a scripted server error (the SDK keeps no status)", async () => {
    const denied = makeStore("upstash", upstashScope(), "not-the-token");
    await expect(denied.query(freshNamespace(), { vector: [1, 0], topK: 1 })).rejects.toThrow(/Unauthorized/);
    const scope = upstashScope();
    await fetch(`${scope}/__fake/next`, {
      method: "POST",
      body: JSON.stringify({ status: 500, message: "Internal server error", model: "upsert" }),
    });
    const store = makeStore("upstash", scope);
    await expect(store.upsert(freshNamespace(), [item("doc_a#0", [1, 0])])).rejects.toThrow(/Internal server error/);
    // One attempt only: the SDK's own retries are off.
    expect((await upstashRequests(scope)).filter((request) => request.command === "upsert")).toHaveLength(1);
  });

  it("gives up on a request that hangs at its timeout, with an error rather than a made-up result", async () => {
    const scope = upstashScope();
    await fetch(`${scope}/__fake/next`, { method: "POST", body: JSON.stringify({ hangMs: 5_000, model: "query" }) });
    const store = createUpstashVectorStore({ url: scope, token: UPSTASH_TOKEN, timeoutMs: 200 });
    const started = Date.now();
    await expect(store.query(freshNamespace(), { vector: [1, 0], topK: 1 })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe("embedders", () => {
  const cosine = (a: number[] = [], b: number[] = []) => a.reduce((sum, x, i) => sum + x * (b[i] ?? 0), 0);
  const NEAR = ["automobile repair", "car maintenance", "chocolate cake recipe"];

  it("embed through OpenAI: 'automobile repair' is nearer 'car maintenance' than 'chocolate cake recipe'", async () => {
    const fakes = llmFakes();
    const embedder = createEmbedder(parsedEnv(fakes.env({ EMBEDDING_MODEL: "openai/text-embedding-3-small" })));
    expect(embedder?.model).toBe("openai/text-embedding-3-small");
    const { vectors, tokens } = (await embedder?.embed(NEAR)) ?? { vectors: [], tokens: 0 };
    expect(vectors).toHaveLength(3);
    expect(vectors[0]).toHaveLength(256);
    expect(cosine(vectors[0], vectors[1])).toBeGreaterThan(cosine(vectors[0], vectors[2]) + 0.5);
    expect(tokens).toBe(7);
    const [call] = await fakes.openAiCalls();
    expect(call).toMatchObject({ path: "/v1/embeddings", body: { model: "text-embedding-3-small", input: NEAR } });
  });

  it("embed through a compatible server without a key, asking for plain floats", async () => {
    const fakes = llmFakes();
    const embedder = createEmbedder(
      parsedEnv({
        OPENAI_COMPATIBLE_BASE_URL: `${fakes.urls.compat}/v1`,
        OPENAI_COMPATIBLE_MODELS: "llama3.2",
        EMBEDDING_MODEL: "compat/nomic-embed-text",
      }),
    );
    const { vectors } = (await embedder?.embed(NEAR)) ?? { vectors: [] };
    expect(cosine(vectors[0], vectors[1])).toBeGreaterThan(cosine(vectors[0], vectors[2]) + 0.5);
    const [call] = await fakes.compatCalls();
    expect(call?.body).toMatchObject({ model: "nomic-embed-text", encoding_format: "float" });
  });

  it("embed through Bedrock's Titan v2, one normalised text a call", async () => {
    const fakes = llmFakes();
    const embedder = createEmbedder(parsedEnv(fakes.env({ EMBEDDING_MODEL: "bedrock/amazon.titan-embed-text-v2:0" })));
    const { vectors, tokens } = (await embedder?.embed(NEAR)) ?? { vectors: [], tokens: 0 };
    expect(vectors[0]).toHaveLength(1024);
    expect(cosine(vectors[0], vectors[1])).toBeGreaterThan(cosine(vectors[0], vectors[2]) + 0.5);
    expect(tokens).toBe(7);
    const calls = (await fakes.bedrockCalls()) as unknown as { operation: string; modelId: string; body: unknown }[];
    expect(calls).toHaveLength(3);
    expect(
      calls.every((call) => call.operation === "InvokeModel" && call.modelId === "amazon.titan-embed-text-v2:0"),
    ).toBe(true);
    expect(calls.map((call) => call.body)).toEqual(
      expect.arrayContaining(NEAR.map((inputText) => ({ inputText, normalize: true }))),
    );
  });

  it("get Titan vectors of the dimension asked for from the Bedrock fake, and a ValidationException for others", async () => {
    const fakes = llmFakes();
    const client = new BedrockRuntimeClient({
      region: "us-east-1",
      endpoint: fakes.urls.bedrock,
      credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret-test" },
      maxAttempts: 1,
      requestHandler: new FetchHttpHandler(),
    });
    const invoke = (body: object) =>
      client.send(
        new InvokeModelCommand({
          modelId: "amazon.titan-embed-text-v2:0",
          contentType: "application/json",
          body: JSON.stringify(body),
        }),
      );
    const answer = JSON.parse(new TextDecoder().decode((await invoke({ inputText: "car", dimensions: 512 })).body));
    expect(answer.embedding).toHaveLength(512);
    expect(answer).toMatchObject({ inputTextTokenCount: 1, embeddingsByType: { float: answer.embedding } });
    const error = await invoke({ inputText: "car", dimensions: 300 }).catch((e: Error) => e);
    expect((error as Error).name).toBe("ValidationException");
  });

  it("splits many texts into requests of at most 96 and keeps the vectors in the texts' order", async () => {
    const fakes = llmFakes();
    const embedder = createEmbedder(parsedEnv(fakes.env({ EMBEDDING_MODEL: "openai/text-embedding-3-small" })));
    const texts = Array.from({ length: 200 }, (_, i) => `text number ${i} about ${i % 2 ? "cars" : "cakes"}`);
    const { vectors } = (await embedder?.embed(texts)) ?? { vectors: [] };
    expect(vectors).toHaveLength(200);
    const calls = await fakes.openAiCalls();
    expect(calls.map((call) => (call.body as { input: string[] }).input.length).sort()).toEqual([8, 96, 96]);
    const [alone] = (await embedder?.embed([texts[150] ?? ""]))?.vectors ?? [];
    expect(vectors[150]).toEqual(alone);
  });

  it("retries a 429 once, then reports a retryable failure with the status, never the key", async () => {
    const fakes = llmFakes();
    const env = parsedEnv(
      fakes.env({ EMBEDDING_MODEL: "openai/text-embedding-3-small", OPENAI_API_KEY: "sk-test-embedding-secret" }),
    );
    await fakes.scriptOpenAi({ status: 429 });
    expect((await createEmbedder(env)?.embed(["once throttled"]))?.vectors).toHaveLength(1);
    await fakes.scriptOpenAi({ status: 429, times: 2, message: "Rate limit for key sk-test-embedding-secret" });
    const error = await createEmbedder(env)
      ?.embed(["twice throttled"])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingFailure);
    expect(error).toMatchObject({ code: "RATE_LIMITED", retryable: true, status: 429 });
    expect(isRetryableEmbeddingFailure(error)).toBe(true);
    expect(String((error as Error).message)).not.toContain("sk-test-embedding-secret");
    expect(await fakes.openAiCalls()).toHaveLength(4);
  });

  it("reports a rejected key or request as permanent, without a retry", async () => {
    const fakes = llmFakes();
    const env = parsedEnv(fakes.env({ EMBEDDING_MODEL: "bedrock/amazon.titan-embed-text-v2:0" }));
    await fakes.scriptBedrock({ status: 400, type: "ValidationException", message: "Malformed input request." });
    const error = await createEmbedder(env)
      ?.embed(["rejected"])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "BAD_REQUEST", retryable: false, status: 400 });
    expect(String((error as Error).message)).not.toMatch(/secret-test|AKIDTEST/);
    expect(await fakes.bedrockCalls()).toHaveLength(1);
    await fakes.scriptBedrock({ status: 429, times: 2 });
    const throttled = await createEmbedder(env)
      ?.embed(["throttled"])
      .catch((e: unknown) => e);
    expect(throttled).toMatchObject({ code: "RATE_LIMITED", retryable: true });
  });

  it("reports an unreachable server as retryable, and the caller's abort as ABORTED, promptly", async () => {
    const unreachable = createEmbedder(
      parsedEnv({ OPENAI_API_KEY: "sk-x", OPENAI_BASE_URL: "http://127.0.0.1:9/v1", EMBEDDING_MODEL: "openai/m" }),
    );
    const down = await unreachable?.embed(["hello"]).catch((e: unknown) => e);
    expect(down).toMatchObject({ code: "NETWORK", retryable: true });
    const fakes = llmFakes();
    await fakes.scriptOpenAi({ hangMs: 5_000 });
    const started = Date.now();
    const aborted = await createEmbedder(parsedEnv(fakes.env({ EMBEDDING_MODEL: "openai/text-embedding-3-small" })))
      ?.embed(["slow"], AbortSignal.timeout(200))
      .catch((e: unknown) => e);
    expect(aborted).toMatchObject({ code: "ABORTED" });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("is absent without EMBEDDING_MODEL, and names the settings a configured model's provider lacks", () => {
    expect(createEmbedder(parsedEnv())).toBeNull();
    const missing = (model: string, settings: Record<string, string> = {}) => {
      try {
        createEmbedder(parsedEnv({ EMBEDDING_MODEL: model, ...settings }));
      } catch (error) {
        expect(error).toMatchObject({ code: "NOT_CONFIGURED", retryable: false });
        return (error as Error).message;
      }
      throw new Error("no failure");
    };
    expect(missing("openai/text-embedding-3-small")).toMatch(/needs OPENAI_API_KEY/);
    expect(missing("compat/nomic-embed-text")).toMatch(/needs OPENAI_COMPATIBLE_BASE_URL/);
    expect(missing("bedrock/amazon.titan-embed-text-v2:0", { AWS_REGION: "us-east-1" })).toMatch(
      /needs AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,/,
    );
    expect(
      missing("bedrock/cohere.embed-english-v3", {
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "AKIDTEST",
        AWS_SECRET_ACCESS_KEY: "secret-test",
      }),
    ).toMatch(/Titan Text Embeddings v2/);
  });
});
