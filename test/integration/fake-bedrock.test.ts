import {
  BedrockRuntimeClient,
  type BedrockRuntimeClientConfig,
  ConverseCommand,
  ConverseStreamCommand,
  type ConverseStreamOutput,
  type Message,
} from "@aws-sdk/client-bedrock-runtime";
// Not a declared dependency of APE: it comes with @aws-sdk/client-bedrock-runtime (see the quirk below).
import { FetchHttpHandler } from "@smithy/fetch-http-handler";
import { beforeEach, describe, expect, inject, it } from "vitest";

// The official SDK, inside workerd, against test/helpers/fake-bedrock.mjs: the wire protocol the LLM layer's
// Bedrock provider will speak, checked at its HTTP boundary.
// One fake serves every test file of the run, so each test takes its own scope (test/helpers/fake-control.mjs):
// its scripted answers and request log are its own, and the SDK's endpoint is the scope's base URL.
const scoped = () => `${inject("fakeBedrockUrl")}/s/${crypto.randomUUID()}`;
let base = scoped();
beforeEach(() => {
  base = scoped();
});
const fake = () => base;
const HAIKU = "anthropic.claude-3-haiku-20240307-v1:0";
const SONNET = "anthropic.claude-3-5-sonnet-20240620-v1:0";

const client = (config: Partial<BedrockRuntimeClientConfig> = {}) =>
  new BedrockRuntimeClient({
    region: "us-east-1",
    endpoint: fake(),
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret-key-never-shown" },
    maxAttempts: 1,
    ...config,
  });
const ask = (text: string): Message[] => [{ role: "user", content: [{ text }] }];
const script = (next: Record<string, unknown>) =>
  fetch(`${fake()}/__fake/next`, { method: "POST", body: JSON.stringify(next) });
type Received = { path: string; operation: string; modelId: string; headers: string[]; body: unknown };
const received = async () => (await (await fetch(`${fake()}/__fake/requests`)).json()) as Received[];

/** Reads a ConverseStream to its end, keeping every event it got before an error (if any). */
const drain = async (stream: AsyncIterable<ConverseStreamOutput> | undefined) => {
  const events: ConverseStreamOutput[] = [];
  let error: unknown;
  try {
    for await (const event of stream ?? []) events.push(event);
  } catch (e) {
    error = e;
  }
  const text = events.map((e) => e.contentBlockDelta?.delta?.text ?? "").join("");
  return { events, text, error };
};

describe("AWS Bedrock Runtime through the official SDK, against a server speaking its protocol", () => {
  it("answers Converse with the echo, usage and metrics, from a signed request", async () => {
    const result = await client().send(
      new ConverseCommand({
        modelId: HAIKU,
        system: [{ text: "Be brief." }],
        messages: ask("hello from workerd"),
        inferenceConfig: { maxTokens: 64 },
      }),
    );
    expect(result.output?.message).toEqual({ role: "assistant", content: [{ text: "echo: hello from workerd" }] });
    expect(result.stopReason).toBe("end_turn");
    expect(result.usage).toEqual({ inputTokens: 5, outputTokens: 4, totalTokens: 9 });
    expect(result.metrics?.latencyMs).toBeTypeOf("number");
    const [request] = await received();
    expect(request?.path).toBe("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse");
    expect(request?.modelId).toBe(HAIKU);
    expect(request?.headers).toEqual(expect.arrayContaining(["authorization", "x-amz-date"]));
    expect(request?.body).toMatchObject({ system: [{ text: "Be brief." }], inferenceConfig: { maxTokens: 64 } });
  });

  it("streams ConverseStream as event-stream frames the SDK reassembles, with the same usage", async () => {
    const response = await client().send(
      new ConverseStreamCommand({
        modelId: HAIKU,
        system: [{ text: "Be brief." }],
        messages: ask("hello from workerd"),
      }),
    );
    const { events, text, error } = await drain(response.stream);
    expect(error).toBeUndefined();
    expect(text).toBe("echo: hello from workerd");
    expect(events.filter((e) => e.contentBlockDelta).length).toBeGreaterThan(1);
    expect(events[0]?.messageStart).toEqual({ role: "assistant" });
    expect(events.find((e) => e.contentBlockStop)?.contentBlockStop).toEqual({ contentBlockIndex: 0 });
    expect(events.find((e) => e.messageStop)?.messageStop?.stopReason).toBe("end_turn");
    const metadata = events.at(-1)?.metadata;
    expect(metadata?.usage).toEqual({ inputTokens: 5, outputTokens: 4, totalTokens: 9 });
    expect(metadata?.metrics?.latencyMs).toBeTypeOf("number");
    expect((await received())[0]?.path).toBe("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream");
  });

  it("answers a scripted reply and stop reason instead of the echo", async () => {
    await script({ reply: "scripted words here", stopReason: "max_tokens" });
    const result = await client().send(new ConverseCommand({ modelId: HAIKU, messages: ask("ignored") }));
    expect(result.output?.message?.content).toEqual([{ text: "scripted words here" }]);
    expect(result.stopReason).toBe("max_tokens");
    expect(result.usage?.outputTokens).toBe(3);
  });

  it("surfaces a throttle as ThrottlingException, without the secret key", async () => {
    await script({ status: 429 });
    const error = await client()
      .send(new ConverseCommand({ modelId: HAIKU, messages: ask("hi") }))
      .catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe("ThrottlingException");
    expect((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(429);
    expect(String(error)).not.toContain("secret-key-never-shown");
  });

  it("names InternalServerException and ValidationException", async () => {
    await script({ status: 500 });
    await script({ status: 400, type: "ValidationException", message: "Malformed input request." });
    const first = await client()
      .send(new ConverseCommand({ modelId: HAIKU, messages: ask("hi") }))
      .catch((e: Error) => e);
    const second = await client()
      .send(new ConverseCommand({ modelId: HAIKU, messages: ask("hi") }))
      .catch((e: Error) => e);
    expect((first as Error).name).toBe("InternalServerException");
    expect((second as Error).name).toBe("ValidationException");
    expect((second as Error).message).toBe("Malformed input request.");
  });

  it("retries a single throttle when maxAttempts allows, and then succeeds", async () => {
    await script({ status: 429 });
    const result = await client({ maxAttempts: 2 }).send(
      new ConverseCommand({ modelId: HAIKU, messages: ask("again") }),
    );
    expect(result.output?.message?.content).toEqual([{ text: "echo: again" }]);
    expect(await received()).toHaveLength(2);
  });

  it("throws from the stream's iterator when the connection breaks after the first deltas", async () => {
    await script({ breakAfterChunks: 2 });
    const response = await client().send(
      new ConverseStreamCommand({ modelId: HAIKU, messages: ask("one two three four") }),
    );
    const { events, text, error } = await drain(response.stream);
    expect(text).toBe("echo: one");
    expect(events.some((e) => e.metadata)).toBe(false);
    expect(error).toBeInstanceOf(Error);
  });

  it("surfaces an exception frame in the stream as the modeled exception", async () => {
    await script({ streamException: "modelStreamErrorException" });
    const response = await client().send(new ConverseStreamCommand({ modelId: HAIKU, messages: ask("one two three") }));
    const { text, error } = await drain(response.stream);
    expect(text).toBe("echo:");
    expect((error as Error).name).toBe("ModelStreamErrorException");
    expect(error).toMatchObject({ originalStatusCode: 500, originalMessage: "Model stream interrupted." });
  });

  it("fails only the model a script names", async () => {
    await script({ status: 429, model: SONNET, times: 5 });
    const haiku = await client().send(new ConverseCommand({ modelId: HAIKU, messages: ask("fine") }));
    expect(haiku.output?.message?.content).toEqual([{ text: "echo: fine" }]);
    const sonnet = await client()
      .send(new ConverseCommand({ modelId: SONNET, messages: ask("throttled") }))
      .catch((e: Error) => e);
    expect((sonnet as Error).name).toBe("ThrottlingException");
  });

  it("cuts a hanging model off at a FetchHttpHandler's requestTimeout, and at an abort signal", async () => {
    await script({ hangMs: 5_000, times: 2 });
    let started = Date.now();
    const timedOut = await client({ requestHandler: new FetchHttpHandler({ requestTimeout: 300 }) })
      .send(new ConverseCommand({ modelId: HAIKU, messages: ask("hang") }))
      .catch((e: Error) => e);
    expect((timedOut as Error).name).toBe("TimeoutError");
    expect(Date.now() - started).toBeLessThan(3_000);
    started = Date.now();
    const aborted = await client({ requestHandler: new FetchHttpHandler() })
      .send(new ConverseStreamCommand({ modelId: HAIKU, messages: ask("hang") }), {
        abortSignal: AbortSignal.timeout(300),
      })
      .catch((e: Error) => e);
    expect((aborted as Error).name).toBe("AbortError");
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  // SDK quirk in workerd: the client loads its browser runtime config, which wraps the request handler in
  // @aws-sdk/middleware-websocket's WebSocketFetchHandler (for InvokeModelWithBidirectionalStream). Options
  // given as `requestHandler: { requestTimeout }` configure that wrapper, not the FetchHttpHandler inside it,
  // and the wrapper calls the inner handler without the per-call options, so `abortSignal` is dropped too.
  // Hence the FetchHttpHandler instance above. This test fails once an SDK update fixes the wrapper.
  it("ignores requestHandler options and abort signals with the default handler (SDK quirk in workerd)", async () => {
    await script({ hangMs: 800 });
    const started = Date.now();
    const result = await client({ requestHandler: { requestTimeout: 100 } }).send(
      new ConverseCommand({ modelId: HAIKU, messages: ask("slow") }),
      { abortSignal: AbortSignal.timeout(100) },
    );
    expect(result.output?.message?.content).toEqual([{ text: "echo: slow" }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
  });

  it("keeps the endpoint's /s/<scope> path, so a scope's script and log reach the SDK's requests", async () => {
    const other = scoped();
    await fetch(`${other}/__fake/next`, { method: "POST", body: JSON.stringify({ status: 429 }) });
    const mine = await client().send(new ConverseCommand({ modelId: HAIKU, messages: ask("mine") }));
    expect(mine.output?.message?.content).toEqual([{ text: "echo: mine" }]);
    const theirs = await client({ endpoint: other })
      .send(new ConverseCommand({ modelId: HAIKU, messages: ask("theirs") }))
      .catch((e: Error) => e);
    expect((theirs as Error).name).toBe("ThrottlingException");
    const [request, ...rest] = await received();
    expect(rest).toEqual([]);
    expect(request?.path).toBe("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse");
    expect(request?.operation).toBe("Converse");
  });

  it("answers 403 in AWS's error shape when the request is not signed", async () => {
    const res = await fetch(`${fake()}/model/${encodeURIComponent(HAIKU)}/converse`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: ask("hi") }),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("x-amzn-errortype")).toMatch(/^MissingAuthenticationTokenException:/);
    expect(await res.json()).toEqual({ message: "Missing Authentication Token" });
  });
});
