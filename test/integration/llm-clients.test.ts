import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { ChatOpenAI } from "@langchain/openai";
import { generateText, stepCountIs, streamText, tool } from "ai";
import { eq } from "drizzle-orm";
import OpenAI from "openai";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { usageRecords } from "../../src/db/schema/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { llmFakes } from "../helpers/llm-fakes.js";

// Real clients, unchanged, through the front door: the official openai package, the Vercel AI SDK (`ai` with
// `@ai-sdk/openai-compatible`) and LangChain (`@langchain/openai`), each given only APE's base URL and an API
// key (and a fetch that reaches the Worker under test). The providers are the wire fakes.
let h: Harness;
beforeAll(async () => {
  h = await createHarness({ RATE_LIMIT_AUTH_PER_MINUTE: "1000000" });
});

const BASE = "http://ape.test/api/v1/openai";

const setUp = async (overrides: Record<string, string> = {}) => {
  const fakes = llmFakes();
  const settings = fakes.env({ EMBEDDING_MODEL: "openai/text-embedding-3-small", ...overrides });
  const user = await h.signUp();
  const created = await h.request(
    "/api/v1/users/me/api-keys",
    h.json("POST", { name: "sdk", scopes: ["chat"] }, h.bearer(user.tokens.access_token)),
  );
  const { key } = (await created.json()) as { key: string };
  const fetch = (url: string | URL | Request, init?: RequestInit) => {
    const { pathname, search } = new URL(url instanceof Request ? url.url : String(url));
    return h.request(`${pathname}${search}`, init ?? {}, settings);
  };
  const usage = async () => {
    await h.settled();
    // Usage waits in a Redis outbox; a usage report flushes it before it reads, as a client would see it.
    await h.request("/api/v1/users/me/usage", { headers: h.bearer(user.tokens.access_token) });
    return h.withDb((db) => db.select().from(usageRecords).where(eq(usageRecords.userId, user.id)));
  };
  return { fakes, key, fetch, usage };
};

describe("the official openai client", () => {
  it("embeds a string and a list, `auto` and provider/model, in floats and base64, and counts the tokens", async () => {
    const { key, fetch, fakes, usage: rows } = await setUp();
    const client = new OpenAI({ apiKey: key, baseURL: BASE, maxRetries: 0, fetch });
    // The SDK asks for base64 by default and decodes it; the fake's embeddings are meaning-aware.
    const { data, usage, model } = await client.embeddings.create({
      model: "auto",
      input: ["car maintenance", "automobile repair", "chocolate cake recipe"],
    });
    expect(model).toBe("openai/text-embedding-3-small");
    expect(data.map((item) => item.index)).toEqual([0, 1, 2]);
    const [car, auto, cake] = data.map((item) => item.embedding);
    const dot = (a: number[] = [], b: number[] = []) => a.reduce((sum, x, i) => sum + x * (b[i] ?? 0), 0);
    expect(dot(car, auto)).toBeCloseTo(1, 5);
    expect(dot(car, cake)).toBeCloseTo(0, 5);
    expect(usage).toEqual({ prompt_tokens: 7, total_tokens: 7 });
    const floats = await client.embeddings.create({
      model: "compat/nomic-embed-text",
      input: "car maintenance",
      encoding_format: "float",
    });
    expect(floats.data[0]?.embedding).toEqual(car);
    const [sent] = (await fakes.compatCalls()).map((call) => call.body as { model?: string });
    expect(sent?.model).toBe("nomic-embed-text");
    // Each call is a usage row like any model call, priced from the embedding price table.
    const recorded = await rows();
    expect(recorded.map((row) => [row.service, row.provider, row.model, row.tokensInput]).sort()).toEqual([
      ["openai", "compat", "nomic-embed-text", 2],
      ["openai", "openai", "text-embedding-3-small", 7],
    ]);
    expect(Number(recorded.find((row) => row.provider === "openai")?.costUsd)).toBeGreaterThan(0);
  });

  it("answers 503 naming EMBEDDING_MODEL for `auto` when none is set, in OpenAI's shape", async () => {
    const { key, fetch } = await setUp({ EMBEDDING_MODEL: "" });
    const client = new OpenAI({ apiKey: key, baseURL: BASE, maxRetries: 0, fetch });
    const error = await client.embeddings.create({ model: "auto", input: "hello" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((error as InstanceType<typeof OpenAI.APIError>).message).toContain("EMBEDDING_MODEL");
  });
});

describe("the Vercel AI SDK", () => {
  it("generateText calls a tool, runs it, and answers from its result", async () => {
    const { key, fetch } = await setUp();
    const ape = createOpenAICompatible({ name: "ape", baseURL: BASE, apiKey: key, fetch });
    const result = await generateText({
      model: ape("auto"),
      prompt: "What is the weather in Oslo?",
      tools: {
        get_weather: tool({
          description: "The weather in a city.",
          inputSchema: z.object({ city: z.string() }),
          execute: async ({ city }) => `sunny in ${city}`,
        }),
      },
      stopWhen: stepCountIs(2),
    });
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0]?.toolCalls[0]).toMatchObject({ toolName: "get_weather", input: { city: "sample answer" } });
    expect(result.steps[0]?.finishReason).toBe("tool-calls");
    expect(result.text).toContain("tool said");
    expect(result.text).toContain("sunny in sample answer");
  });

  it("streamText streams the answer", async () => {
    const { key, fetch } = await setUp();
    const ape = createOpenAICompatible({ name: "ape", baseURL: BASE, apiKey: key, fetch });
    const result = streamText({ model: ape("auto"), prompt: "stream these words" });
    let text = "";
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe("echo: stream these words");
  });
});

describe("LangChain", () => {
  it("ChatOpenAI with bindTools gets the tool call back", async () => {
    const { key, fetch } = await setUp();
    const model = new ChatOpenAI({
      model: "auto",
      apiKey: key,
      maxRetries: 0,
      configuration: { baseURL: BASE, fetch },
    }).bindTools([
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "The weather in a city.",
          parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        },
      },
    ]);
    const message = await model.invoke("What is the weather in Oslo?");
    expect(message.tool_calls).toHaveLength(1);
    expect(message.tool_calls?.[0]).toMatchObject({ name: "get_weather", args: { city: "sample answer" } });
  });
});
