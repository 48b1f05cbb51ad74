import Groq from "groq-sdk";
import OpenAI from "openai";
import { beforeEach, describe, expect, inject, it } from "vitest";

/**
 * The OpenAI-compatible fake (test/helpers/fake-openai.mjs) driven from inside workerd through the official
 * openai and groq-sdk clients, the way the LLM layer will call real providers.
 */
// One fake serves every test file of the run, so each test takes its own scope (test/helpers/fake-control.mjs):
// its scripted answers and request log are its own.
const scoped = () => `${inject("fakeOpenAiUrl")}/s/${crypto.randomUUID()}`;
let base = scoped();
beforeEach(() => {
  base = scoped();
});
const fake = () => base;
const openai = (options: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}) =>
  new OpenAI({ apiKey: "sk-test-never-logged", baseURL: `${fake()}/v1`, maxRetries: 0, ...options });
// groq-sdk puts /openai/v1 in every path itself, so its base URL is the server's root (here, the scope's).
const groq = (options: Partial<ConstructorParameters<typeof Groq>[0]> = {}) =>
  new Groq({ apiKey: "gsk-test-never-logged", baseURL: fake(), maxRetries: 0, ...options });

const script = async (next: Record<string, unknown>, scope = fake()) => {
  const res = await fetch(`${scope}/__fake/next`, { method: "POST", body: JSON.stringify(next) });
  expect(res.status).toBe(204);
};
type Received = { method: string; path: string; headers: Record<string, string>; body: { model?: string } | null };
const requests = async (scope = fake()) => (await (await fetch(`${scope}/__fake/requests`)).json()) as Received[];
const requestsFor = async (model: string) => (await requests()).filter((r) => r.body?.model === model);
// Distinct model names keep assertions to one model's requests when a test sends to several.
const uniqueModel = (name: string) => `${name}-${crypto.randomUUID().slice(0, 8)}`;
const ask = (content: string, model = "gpt-4o-mini") => ({
  model,
  messages: [
    { role: "system" as const, content: "Be brief." },
    { role: "user" as const, content },
  ],
});

describe("the OpenAI-compatible fake through the openai SDK", () => {
  it("answers a chat completion with the echo of the last user message and word-count usage", async () => {
    const completion = await openai().chat.completions.create(ask("what is the answer"));
    expect(completion.object).toBe("chat.completion");
    expect(completion.model).toBe("gpt-4o-mini");
    expect(completion.choices[0]?.message).toMatchObject({ role: "assistant", content: "echo: what is the answer" });
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.usage).toEqual({ prompt_tokens: 6, completion_tokens: 5, total_tokens: 11 });
    expect(completion._request_id).toMatch(/^req_fake_/);
  });

  it("streams the same answer in several chunks, role first, usage in the last chunk", async () => {
    const stream = await openai().chat.completions.create({
      ...ask("stream me a few words"),
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    let text = "";
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]?.delta.content ?? "";
    }
    expect(text).toBe("echo: stream me a few words");
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBeGreaterThan(2);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe("stop");
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    const plain = await openai().chat.completions.create(ask("stream me a few words"));
    expect(last?.usage).toEqual(plain.usage);
  });

  it("streams without a usage chunk unless asked for one", async () => {
    const stream = await openai().chat.completions.create({ ...ask("no usage"), stream: true });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("stop");
    expect(chunks.every((c) => !c.usage)).toBe(true);
  });

  it("answers JSON mode with a scripted JSON string, or {} when none is scripted", async () => {
    const client = openai();
    const plain = await client.chat.completions.create({
      ...ask("extract"),
      response_format: { type: "json_object" },
    });
    expect(plain.choices[0]?.message.content).toBe("{}");
    await script({ reply: { name: "Ada", born: 1815 } });
    const scripted = await client.chat.completions.create({
      ...ask("extract"),
      response_format: {
        type: "json_schema",
        json_schema: { name: "person", schema: { type: "object", properties: { name: { type: "string" } } } },
      },
    });
    expect(JSON.parse(scripted.choices[0]?.message.content ?? "")).toEqual({ name: "Ada", born: 1815 });
  });

  it("gives deterministic embeddings of a fixed length, the same in float and base64 encodings", async () => {
    const client = openai();
    const model = "text-embedding-3-small";
    const first = await client.embeddings.create({ model, input: ["alpha beta", "gamma"] });
    const again = await client.embeddings.create({ model, input: ["alpha beta", "gamma"], encoding_format: "float" });
    expect(first.data).toHaveLength(2);
    expect(first.data[0]?.embedding).toHaveLength(256);
    expect(first.data[0]?.embedding).toEqual(again.data[0]?.embedding);
    expect(first.data[0]?.embedding).not.toEqual(first.data[1]?.embedding);
    const norm = Math.hypot(...(first.data[0]?.embedding ?? []));
    expect(norm).toBeCloseTo(1, 5);
    expect(first.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    const wide = await client.embeddings.create({ model, input: "alpha beta", dimensions: 64 });
    expect(wide.data[0]?.embedding).toHaveLength(64);
  });

  it("lists models", async () => {
    const ids: string[] = [];
    for await (const model of openai().models.list()) ids.push(model.id);
    expect(ids).toContain("gpt-4o-mini");
  });

  it("records what was sent, with the API key's value left out", async () => {
    const model = uniqueModel("recorded");
    await openai().chat.completions.create(ask("remember this", model));
    const [sent] = await requestsFor(model);
    expect(sent?.method).toBe("POST");
    expect(sent?.path).toBe("/v1/chat/completions");
    expect(sent?.headers.authorization).toBe("Bearer [redacted]");
    expect(JSON.stringify(sent)).not.toContain("sk-test-never-logged");
    expect(sent?.body).toMatchObject({ model, messages: [{ role: "system" }, { content: "remember this" }] });
  });

  it("refuses a request without an API key in OpenAI's error shape", async () => {
    const res = await fetch(`${fake()}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(ask("no key")),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: {
        message: expect.stringContaining("API key"),
        type: "invalid_request_error",
        param: null,
        code: "invalid_api_key",
      },
    });
  });

  it("surfaces a 429 as RateLimitError with the retry-after header readable", async () => {
    await script({ status: 429, retryAfter: 2 });
    const error = await openai()
      .chat.completions.create(ask("too fast"))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimit = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimit.status).toBe(429);
    expect(rateLimit.headers.get("retry-after")).toBe("2");
    expect(rateLimit.code).toBe("rate_limit_exceeded");
    expect(rateLimit.type).toBe("requests");
  });

  it("retries a single 429 when allowed one retry, then succeeds", async () => {
    const model = uniqueModel("retried");
    await script({ status: 429, retryAfter: 0, model });
    const completion = await openai({ maxRetries: 1 }).chat.completions.create(ask("try again", model));
    expect(completion.choices[0]?.message.content).toBe("echo: try again");
    expect(await requestsFor(model)).toHaveLength(2);
  });

  it("surfaces a 500 as InternalServerError", async () => {
    await script({ status: 500 });
    await expect(openai().chat.completions.create(ask("boom"))).rejects.toBeInstanceOf(OpenAI.InternalServerError);
  });

  it("makes the stream iterator throw after the chunks sent before the connection broke", async () => {
    await script({ breakAfterChunks: 2 });
    const stream = await openai().chat.completions.create({ ...ask("one two three four"), stream: true });
    const contents: string[] = [];
    const error = await (async () => {
      for await (const chunk of stream) contents.push(chunk.choices[0]?.delta.content ?? "");
    })().catch((e: unknown) => e);
    expect(contents).toEqual(["", "echo:", " one"]);
    // workerd's own transport error, not an SDK error class: the SDK does not wrap failures mid-stream.
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toContain("Network connection lost");
  });

  it("fails on malformed JSON, plain and streamed", async () => {
    const client = openai({ logLevel: "off" });
    await script({ malformed: true });
    await expect(client.chat.completions.create(ask("garbled"))).rejects.toBeInstanceOf(SyntaxError);
    await script({ malformed: true });
    const stream = await client.chat.completions.create({ ...ask("garbled"), stream: true });
    const error = await (async () => {
      for await (const _ of stream);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SyntaxError);
    expect(String(error)).toContain("malformed server-sent event JSON");
  });

  it("cuts a hanging request at the SDK's timeout", async () => {
    await script({ hangMs: 5000 });
    const started = Date.now();
    await expect(openai({ timeout: 300 }).chat.completions.create(ask("are you there"))).rejects.toBeInstanceOf(
      OpenAI.APIConnectionTimeoutError,
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("fails only the model a script names, so a router can fall back to another", async () => {
    const primary = uniqueModel("primary");
    const secondary = uniqueModel("secondary");
    await script({ status: 500, model: primary, times: 3 });
    const client = openai();
    await expect(client.chat.completions.create(ask("first", primary))).rejects.toBeInstanceOf(
      OpenAI.InternalServerError,
    );
    const fallback = await client.chat.completions.create(ask("first", secondary));
    expect(fallback.choices[0]?.message.content).toBe("echo: first");
    await expect(client.chat.completions.create(ask("again", primary))).rejects.toBeInstanceOf(
      OpenAI.InternalServerError,
    );
    expect(await requestsFor(primary)).toHaveLength(2);
    expect(await requestsFor(secondary)).toHaveLength(1);
  });

  it("uses a scripted reply, for a number of requests", async () => {
    await script({ reply: "scripted answer", times: 2 });
    const client = openai();
    const texts = [];
    for (let i = 0; i < 3; i++)
      texts.push((await client.chat.completions.create(ask(`question ${i}`))).choices[0]?.message.content);
    expect(texts).toEqual(["scripted answer", "scripted answer", "echo: question 2"]);
  });
});

describe("scopes of the OpenAI-compatible fake", () => {
  it("keep scripted answers and request logs apart", async () => {
    const other = scoped();
    await script({ reply: "for the other scope" }, other);
    const mine = await openai().chat.completions.create(ask("mine"));
    expect(mine.choices[0]?.message.content).toBe("echo: mine");
    const theirs = await openai({ baseURL: `${other}/v1` }).chat.completions.create(ask("theirs"));
    expect(theirs.choices[0]?.message.content).toBe("for the other scope");
    const [own, ...rest] = await requests();
    expect(rest).toEqual([]);
    expect(own?.path).toBe("/v1/chat/completions");
    expect(own?.body).toMatchObject({ messages: [{}, { content: "mine" }] });
    expect((await requests(other)).map((r) => r.body)).toMatchObject([{ messages: [{}, { content: "theirs" }] }]);
    const reset = await fetch(`${other}/__fake/reset`, { method: "POST" });
    expect(reset.status).toBe(204);
    expect(await requests(other)).toEqual([]);
    expect(await requests()).toHaveLength(1);
  });
});

describe("the OpenAI-compatible fake through groq-sdk", () => {
  it("answers a chat completion on Groq's /openai/v1 paths", async () => {
    const model = uniqueModel("llama");
    const completion = await groq().chat.completions.create(ask("hello groq", model));
    expect(completion.choices[0]?.message.content).toBe("echo: hello groq");
    expect(completion.usage?.total_tokens).toBe(7);
    const [sent] = await requestsFor(model);
    expect(sent?.path).toBe("/openai/v1/chat/completions");
  });

  it("streams and reassembles the echo", async () => {
    const stream = await groq().chat.completions.create({ ...ask("hello stream"), stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("echo: hello stream");
  });

  it("embeds", async () => {
    const result = await groq().embeddings.create({ model: "nomic-embed-text", input: "alpha beta" });
    const floats = await openai().embeddings.create({ model: "nomic-embed-text", input: "alpha beta" });
    expect(result.data[0]?.embedding).toEqual(floats.data[0]?.embedding);
  });

  it("surfaces a 429 as Groq's RateLimitError", async () => {
    await script({ status: 429, retryAfter: 7 });
    const error = await groq()
      .chat.completions.create(ask("too fast"))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Groq.RateLimitError);
    expect((error as InstanceType<typeof Groq.RateLimitError>).headers?.get("retry-after")).toBe("7");
  });
});
