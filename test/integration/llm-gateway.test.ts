import { eq } from "drizzle-orm";
import OpenAI from "openai";
import { beforeAll, describe, expect, it } from "vitest";
import { usageRecords } from "../../src/db/schema/index.js";
import { runScheduled } from "../../workers/scheduled.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { llmFakes } from "../helpers/llm-fakes.js";

// The LLM layer end to end inside workerd: APE's front door, router, breaker, cache, budget and accounting,
// with Groq, OpenAI and compat played by the OpenAI-compatible fake and Bedrock by the Bedrock fake, each
// reached through its official SDK.
let h: Harness;
beforeAll(async () => {
  // Each test signs up a user of its own: more than the per-address sign-up limit allows in a minute.
  h = await createHarness({ RATE_LIMIT_AUTH_PER_MINUTE: "1000000" });
});

const HAIKU = "anthropic.claude-3-haiku-20240307-v1:0";

/** A user with a `chat` key, and an openai client pointed at APE's front door with the given settings. */
const setUp = async (settings: Record<string, string>) => {
  const user = await h.signUp();
  const created = await h.request(
    "/api/v1/users/me/api-keys",
    h.json("POST", { name: "sdk", scopes: ["chat", "read"] }, h.bearer(user.tokens.access_token)),
  );
  const { key } = (await created.json()) as { key: string };
  const call = (path: string, init: RequestInit = {}) =>
    h.request(path, { ...init, headers: { authorization: `Bearer ${key}`, ...init.headers } }, settings);
  const client = new OpenAI({
    apiKey: key,
    baseURL: "http://ape.test/api/v1/openai",
    maxRetries: 0,
    fetch: (url, init) => {
      const { pathname, search } = new URL(String(url));
      return h.request(`${pathname}${search}`, init as RequestInit, settings);
    },
  });
  const usage = async () => {
    await h.settled();
    return h.withDb((db) =>
      db.select().from(usageRecords).where(eq(usageRecords.userId, user.id)).orderBy(usageRecords.createdAt),
    );
  };
  return { user, key, call, client, usage };
};

const chat = (content: string, extra: Record<string, unknown> = {}) =>
  h.json("POST", { model: "auto", messages: [{ role: "user", content }], ...extra });

describe("routing across providers", () => {
  it("falls back from a failing Groq to Bedrock, and the usage row names Bedrock", async () => {
    const fakes = llmFakes();
    const { call, usage } = await setUp(fakes.env({ LLM_PROVIDER_ORDER: "groq,bedrock" }));
    await fakes.scriptGroq({ status: 500, times: 10 });
    const res = await call("/api/v1/openai/chat/completions", chat("which provider answers"));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ape-provider")).toBe("bedrock");
    const body = (await res.json()) as { model: string; choices: { message: { content: string } }[] };
    expect(body.model).toBe(HAIKU);
    expect(body.choices[0]?.message.content).toBe("echo: which provider answers");
    expect((await fakes.groqCalls()).length).toBe(2); // LLM_MAX_ATTEMPTS=2 by default, then the fallback
    const rows = await usage();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ service: "openai", provider: "bedrock", model: HAIKU, cached: false });
    expect(rows[0]?.tokensInput).toBe(3);
    expect(Number(rows[0]?.costUsd)).toBeGreaterThan(0);
    expect(rows[0]?.requestId).toBe(res.headers.get("x-request-id"));
  });

  it("falls back when a provider hangs past the attempt timeout, or answers malformed JSON", async () => {
    const fakes = llmFakes();
    const { call } = await setUp(
      fakes.env({ LLM_PROVIDER_ORDER: "groq,openai,bedrock", LLM_MAX_ATTEMPTS: "1", LLM_ATTEMPT_TIMEOUT_MS: "300" }),
    );
    await fakes.scriptGroq({ hangMs: 10_000 });
    await fakes.scriptOpenAi({ malformed: true });
    const res = await call("/api/v1/openai/chat/completions", chat("anyone awake"));
    expect(res.status).toBe(200);
    // Had the hang been waited out, Groq (which answers after it) would have been the one.
    expect(res.headers.get("x-ape-provider")).toBe("bedrock");
    expect(await fakes.groqCalls()).toHaveLength(1);
    expect(await fakes.openAiCalls()).toHaveLength(1);
  });

  it("honours a 429's Retry-After by moving on, and keeps away from that provider while it lasts", async () => {
    const fakes = llmFakes();
    const { call } = await setUp(fakes.env({ LLM_PROVIDER_ORDER: "groq,openai" }));
    await fakes.scriptGroq({ status: 429, retryAfter: 30 });
    const first = await call("/api/v1/openai/chat/completions", chat("first"));
    expect(first.headers.get("x-ape-provider")).toBe("openai");
    const second = await call("/api/v1/openai/chat/completions", chat("second"));
    expect(second.headers.get("x-ape-provider")).toBe("openai");
    expect((await fakes.groqCalls()).length).toBe(1);
  });

  it("opens a provider's circuit after repeated failures, stops calling it, and closes it after a good probe", async () => {
    const fakes = llmFakes();
    const settings = fakes.env({
      LLM_PROVIDER_ORDER: "groq,bedrock",
      LLM_BREAKER_FAILURES: "2",
      LLM_BREAKER_COOLDOWN_SECONDS: "1",
      LLM_MAX_ATTEMPTS: "1",
    });
    const { call } = await setUp(settings);
    await fakes.scriptGroq({ status: 503, times: 2 });
    for (const question of ["one", "two"]) {
      const res = await call("/api/v1/openai/chat/completions", chat(question));
      expect(res.headers.get("x-ape-provider")).toBe("bedrock");
    }
    expect((await fakes.groqCalls()).length).toBe(2);
    // Open: Groq is healthy again but no longer called.
    const skipped = await call("/api/v1/openai/chat/completions", chat("three"));
    expect(skipped.headers.get("x-ape-provider")).toBe("bedrock");
    expect((await fakes.groqCalls()).length).toBe(2);
    // After the cool-down one request probes Groq; it answers, and the circuit closes.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const probe = await call("/api/v1/openai/chat/completions", chat("four"));
    expect(probe.headers.get("x-ape-provider")).toBe("groq");
    const after = await call("/api/v1/openai/chat/completions", chat("five"));
    expect(after.headers.get("x-ape-provider")).toBe("groq");
    expect((await fakes.groqCalls()).length).toBe(4);
  });

  it("still tries the provider that failed longest ago when every circuit is open", async () => {
    const fakes = llmFakes();
    const settings = fakes.env({
      LLM_PROVIDER_ORDER: "groq,bedrock",
      LLM_BREAKER_FAILURES: "1",
      LLM_BREAKER_COOLDOWN_SECONDS: "60",
      LLM_MAX_ATTEMPTS: "1",
    });
    const { call } = await setUp(settings);
    await fakes.scriptGroq({ status: 500 });
    await fakes.scriptBedrock({ status: 500, error: "InternalServerException" });
    const failed = await call("/api/v1/openai/chat/completions", chat("both down"));
    expect(failed.status).toBe(502);
    // Both circuits are open now; Groq failed first, so it is the one tried, and it has recovered.
    const res = await call("/api/v1/openai/chat/completions", chat("anyone there"));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ape-provider")).toBe("groq");
  });

  it("answers 502 ALL_PROVIDERS_FAILED listing what each provider said, in OpenAI's error shape", async () => {
    const fakes = llmFakes();
    const { call } = await setUp(fakes.env({ LLM_PROVIDER_ORDER: "groq,openai", LLM_MAX_ATTEMPTS: "1" }));
    await fakes.scriptGroq({ status: 500 });
    await fakes.scriptOpenAi({ status: 401, message: "Incorrect API key provided: sk-live-abcd1234efgh." });
    const res = await call("/api/v1/openai/chat/completions", chat("nobody"));
    expect(res.status).toBe(502);
    const body = (await res.json()) as {
      error: { code: string; type: string; attempts: { provider: string; status: number }[] };
    };
    expect(body.error.code).toBe("ALL_PROVIDERS_FAILED");
    expect(body.error.type).toBe("api_error");
    expect(body.error.attempts.map((a) => [a.provider, a.status])).toEqual([
      ["groq", 500],
      ["openai", 401],
    ]);
    expect(JSON.stringify(body)).not.toMatch(/gsk-test|sk-test|abcd1234/);
    expect(JSON.stringify(body)).toContain("Incorrect API key provided: [redacted]");
  });

  it("answers 503 NO_PROVIDER_CONFIGURED naming the settings when no provider is set up", async () => {
    const { call } = await setUp({});
    const res = await call("/api/v1/openai/chat/completions", chat("hello"));
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("NO_PROVIDER_CONFIGURED");
    expect(body.error.message).toContain("GROQ_API_KEY");
    expect(body.error.message).toContain("OPENAI_COMPATIBLE_BASE_URL");
  });

  it("routes tiers, providers and provider/model, and refuses an unknown model with 400", async () => {
    const fakes = llmFakes();
    const { client } = await setUp(fakes.env());
    const ask = (model: string) =>
      client.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] });
    expect((await ask("fast")).model).toBe("llama-3.1-8b-instant");
    expect((await ask("bedrock")).model).toBe(HAIKU);
    expect((await ask("openai/gpt-4o")).model).toBe("gpt-4o");
    expect((await ask("compat/qwen2.5-coder")).model).toBe("qwen2.5-coder");
    const error = await ask("nonsense-model").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("UNKNOWN_MODEL");
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(
      expect.arrayContaining(["auto", "fast", "groq/llama-3.3-70b-versatile", "compat/llama3.2"]),
    );
  });
});

describe("a provider's refusal", () => {
  const REFUSED = "This model does not support tools.";
  const toolRequest = (model: string) => ({
    model,
    messages: [{ role: "user" as const, content: "weather in Oslo?" }],
    tools: [
      {
        type: "function" as const,
        function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
      },
    ],
  });

  it("passes a compat server's 400 on as 400 in OpenAI's shape with its message, tried once, not as 502", async () => {
    const fakes = llmFakes();
    const { client } = await setUp(fakes.env());
    await fakes.scriptCompat({ status: 400, message: REFUSED, param: "tools", times: 5 });
    const error = await client.chat.completions.create(toolRequest("compat")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const refused = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(refused.code).toBe("PROVIDER_REJECTED_REQUEST");
    expect(refused.type).toBe("invalid_request_error");
    expect(refused.param).toBe("tools");
    expect(refused.message).toContain(REFUSED);
    expect(refused.message).toContain("compat");
    // Not retried as if it were transient: one call, though LLM_MAX_ATTEMPTS allows two.
    expect(await fakes.compatCalls()).toHaveLength(1);
    // The same refusal before a stream's first token is a 400 too.
    const streamed = await client.chat.completions
      .create({ ...toolRequest("compat"), stream: true })
      .catch((e: unknown) => e);
    expect(streamed).toBeInstanceOf(OpenAI.BadRequestError);
    expect((streamed as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("PROVIDER_REJECTED_REQUEST");
  });

  it("under auto goes on past a refusal to a model that can serve the request", async () => {
    const fakes = llmFakes();
    const { client } = await setUp(fakes.env({ LLM_PROVIDER_ORDER: "compat,openai" }));
    await fakes.scriptCompat({ status: 400, message: REFUSED, times: 5 });
    const { data, response } = await client.chat.completions.create(toolRequest("auto")).withResponse();
    expect(response.headers.get("x-ape-provider")).toBe("openai");
    expect(data.choices[0]?.finish_reason).toBe("tool_calls");
    expect(await fakes.compatCalls()).toHaveLength(1);
  });

  it("answers 400 with the refusal, not 502, when the others that were tried failed for their own reasons", async () => {
    const fakes = llmFakes();
    const { call } = await setUp(fakes.env({ LLM_PROVIDER_ORDER: "compat,groq", LLM_MAX_ATTEMPTS: "1" }));
    await fakes.scriptCompat({ status: 400, message: REFUSED, times: 5 });
    await fakes.scriptGroq({ status: 503, times: 5 });
    const res = await call("/api/v1/openai/chat/completions", h.json("POST", toolRequest("auto")));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("PROVIDER_REJECTED_REQUEST");
    expect(body.error.message).toContain(REFUSED);
    expect(await fakes.groqCalls()).toHaveLength(1);
  });
});

describe("streaming", () => {
  it("streams through the front door with the official openai client, usage in the last chunk", async () => {
    const fakes = llmFakes();
    const { client, usage } = await setUp(fakes.env());
    const stream = await client.chat.completions.create({
      model: "auto",
      messages: [{ role: "user", content: "stream these words back" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null = null;
    let tokens: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) tokens = chunk.usage;
    }
    expect(text).toBe("echo: stream these words back");
    expect(finish).toBe("stop");
    expect(tokens).toEqual({ prompt_tokens: 4, completion_tokens: 5, total_tokens: 9 });
    const rows = await usage();
    expect(rows[0]).toMatchObject({ provider: "groq", tokensInput: 4, tokensOutput: 5 });
    expect(rows[0]?.ttftMs).not.toBeNull();
  });

  it("falls back when a stream fails before its first token", async () => {
    const fakes = llmFakes();
    const { client } = await setUp(fakes.env({ LLM_PROVIDER_ORDER: "groq,bedrock", LLM_MAX_ATTEMPTS: "1" }));
    await fakes.scriptGroq({ breakAfterChunks: 0 });
    const { data: stream, response } = await client.chat.completions
      .create({ model: "auto", messages: [{ role: "user", content: "try again elsewhere" }], stream: true })
      .withResponse();
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("echo: try again elsewhere");
    expect(response.headers.get("x-ape-provider")).toBe("bedrock");
  });

  it("ends a stream that goes silent after its first token with an error event once the idle time passes", async () => {
    const fakes = llmFakes();
    const { client } = await setUp(fakes.env({ LLM_PROVIDER_ORDER: "groq,bedrock", LLM_ATTEMPT_TIMEOUT_MS: "300" }));
    await fakes.scriptGroq({ reply: "first then silence", chunkDelayMs: 5_000 });
    const stream = await client.chat.completions.create({
      model: "auto",
      messages: [{ role: "user", content: "go quiet" }],
      stream: true,
    });
    let text = "";
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    })().catch((e: unknown) => e);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe("STREAM_INTERRUPTED");
    expect(text).toBe("first");
    expect(await fakes.bedrockCalls()).toHaveLength(0);
  });

  it("ends a stream broken after its first tokens with an error event, without falling back or repeating text", async () => {
    const fakes = llmFakes();
    const { client, usage } = await setUp(fakes.env({ LLM_PROVIDER_ORDER: "groq,bedrock" }));
    await fakes.scriptGroq({ breakAfterChunks: 2 });
    const stream = await client.chat.completions.create({
      model: "auto",
      messages: [{ role: "user", content: "one two three four five" }],
      stream: true,
    });
    let text = "";
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe("STREAM_INTERRUPTED");
    expect(text).toBe("echo: one");
    expect((await fakes.bedrockCalls()).length).toBe(0);
    // What was streamed is still accounted for.
    const rows = await usage();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.provider).toBe("groq");
  });
});

describe("cache and budget", () => {
  it("answers a repeated temperature-0 request from cache, at no cost, and says so", async () => {
    const fakes = llmFakes();
    const { call, usage } = await setUp(fakes.env());
    const request = () => call("/api/v1/openai/chat/completions", chat("deterministic please", { temperature: 0 }));
    const first = await request();
    expect(first.headers.get("x-ape-cache")).toBe("miss");
    const second = await request();
    expect(second.headers.get("x-ape-cache")).toBe("hit");
    const [a, b] = [(await first.json()) as { choices: unknown }, (await second.json()) as { choices: unknown }];
    expect(b.choices).toEqual(a.choices);
    expect((await fakes.groqCalls()).length).toBe(1);
    const rows = await usage();
    expect(rows.map((row) => [row.cached, Number(row.costUsd) > 0])).toEqual([
      [false, true],
      [true, false],
    ]);
  });

  it("never serves one user's cached answer to another", async () => {
    const fakes = llmFakes();
    const settings = fakes.env();
    const alice = await setUp(settings);
    const bob = await setUp(settings);
    const body = chat("shared question", { temperature: 0 });
    await alice.call("/api/v1/openai/chat/completions", body);
    const res = await bob.call("/api/v1/openai/chat/completions", chat("shared question", { temperature: 0 }));
    expect(res.headers.get("x-ape-cache")).toBe("miss");
    expect((await fakes.groqCalls()).length).toBe(2);
  });

  it("refuses model calls with 402 BUDGET_EXCEEDED once the month's spend reaches the budget", async () => {
    const fakes = llmFakes();
    const { user, call } = await setUp(fakes.env());
    const set = await h.request(
      "/api/v1/users/me",
      h.json("PUT", { monthly_budget_usd: 0.01 }, h.bearer(user.tokens.access_token)),
    );
    expect(set.status).toBe(200);
    // 20,000 tokens out of llama-3.3-70b at $0.79 per million: about $0.016, past the budget.
    await fakes.scriptGroq({ reply: "word ".repeat(20_000).trim() });
    expect((await call("/api/v1/openai/chat/completions", chat("a long answer"))).status).toBe(200);
    const refused = await call("/api/v1/openai/chat/completions", chat("one more"));
    expect(refused.status).toBe(402);
    const body = (await refused.json()) as { error: { code: string; type: string } };
    expect(body.error).toMatchObject({ code: "BUDGET_EXCEEDED", type: "insufficient_quota" });
    expect((await fakes.groqCalls()).length).toBe(1);
  });
});

describe("usage accounting", () => {
  it("records the input tokens a provider's prompt cache served, bills them at the cached price, and reports them", async () => {
    const fakes = llmFakes();
    const { call, usage, key } = await setUp(fakes.env({ LLM_PROVIDER_ORDER: "openai" }));
    await fakes.scriptOpenAi({ cachedTokens: 2 });
    const res = await call("/api/v1/openai/chat/completions", chat("count my tokens"));
    expect(res.status).toBe(200);
    const [row] = await usage();
    expect(row).toMatchObject({ provider: "openai", model: "gpt-4o-mini", tokensInput: 3, tokensInputCached: 2 });
    // gpt-4o-mini: $0.15 per million input tokens, $0.075 per million cached, $0.60 per million output.
    const expected = (1 * 0.15 + 2 * 0.075 + (row?.tokensOutput ?? 0) * 0.6) / 1_000_000;
    expect(Number(row?.costUsd)).toBeCloseTo(expected, 10);
    const report = await h.request("/api/v1/users/me/usage?group_by=model", { headers: { "x-api-key": key } });
    const body = (await report.json()) as {
      groups: { key: string; tokens_input_cached: number }[];
      totals: { tokens_input: number; tokens_input_cached: number };
    };
    expect(body.totals).toMatchObject({ tokens_input: 3, tokens_input_cached: 2 });
    expect(body.groups[0]).toMatchObject({ key: "gpt-4o-mini", tokens_input_cached: 2 });
  });

  it("batches usage rows in Redis and writes them when the batch fills, when a report is read, or on the cron", async () => {
    const fakes = llmFakes();
    const { call, usage, key } = await setUp(fakes.env({ USAGE_FLUSH_BATCH: "3", USAGE_FLUSH_SECONDS: "3600" }));
    for (const question of ["one", "two"]) {
      expect((await call("/api/v1/openai/chat/completions", chat(question))).status).toBe(200);
    }
    expect(await usage()).toHaveLength(0); // waiting in the outbox
    // The third call fills the batch: all three are written in one transaction.
    await call("/api/v1/openai/chat/completions", chat("three"));
    expect(await usage()).toHaveLength(3);

    // A report reads the latest calls: it writes what waits before it sums.
    await call("/api/v1/openai/chat/completions", chat("four"));
    expect(await usage()).toHaveLength(3);
    const report = await h.request("/api/v1/users/me/usage?group_by=provider", { headers: { "x-api-key": key } });
    const body = (await report.json()) as { totals: { requests: number } };
    expect(body.totals.requests).toBe(4);
    expect(await usage()).toHaveLength(4);

    // The cron trigger writes a quiet period's last calls.
    await call("/api/v1/openai/chat/completions", chat("five"));
    expect(await usage()).toHaveLength(4);
    await runScheduled({ ...h.env, ...fakes.env({ USAGE_FLUSH_BATCH: "3", USAGE_FLUSH_SECONDS: "3600" }) });
    const rows = await usage();
    expect(rows).toHaveLength(5);
    expect(new Set(rows.map((row) => row.id)).size).toBe(5);
  });
});

describe("Bedrock guardrails", () => {
  const guarded = (fakes: ReturnType<typeof llmFakes>) =>
    fakes.env({ BEDROCK_GUARDRAIL_ID: "gr-test", BEDROCK_GUARDRAIL_VERSION: "1" });

  it("refuses input the guardrail blocks with 422 CONTENT_BLOCKED, before any model sees it", async () => {
    const fakes = llmFakes();
    const { call } = await setUp(guarded(fakes));
    const res = await call("/api/v1/openai/chat/completions", chat("tell me about the forbidden-topic"));
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("CONTENT_BLOCKED");
    expect(body.error.message).toContain("Sorry, the model cannot answer this.");
    expect(await fakes.groqCalls()).toHaveLength(0);
    const checks = (await fakes.bedrockCalls()).filter((r) => r.operation === "ApplyGuardrail");
    expect(checks.map((r) => r.path)).toEqual(["/guardrail/gr-test/version/1/apply"]);
  });

  it("checks a caller's own system message too", async () => {
    const fakes = llmFakes();
    const { call } = await setUp(guarded(fakes));
    const res = await call(
      "/api/v1/openai/chat/completions",
      h.json("POST", {
        model: "auto",
        messages: [
          { role: "system", content: "Always talk about the forbidden-topic." },
          { role: "user", content: "hello" },
        ],
      }),
    );
    expect(res.status).toBe(422);
    expect(await fakes.groqCalls()).toHaveLength(0);
  });

  it("replaces a blocked answer with the guardrail's message, whichever provider wrote it", async () => {
    const fakes = llmFakes();
    const { call } = await setUp(guarded(fakes));
    await fakes.scriptGroq({ reply: "here is the forbidden-topic in detail" });
    const res = await call("/api/v1/openai/chat/completions", chat("an innocent question"));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: { message: { content: string }; finish_reason: string }[] };
    expect(body.choices[0]).toMatchObject({
      message: { content: "Sorry, the model cannot answer this." },
      finish_reason: "content_filter",
    });
    const checks = (await fakes.bedrockCalls()).filter((r) => r.operation === "ApplyGuardrail");
    expect(checks).toHaveLength(2); // input, then output
  });

  it("checks a tool call's arguments as output, and a blocked call never reaches the caller", async () => {
    const fakes = llmFakes();
    const { call } = await setUp(guarded(fakes));
    // The fake's tool arguments come from the schema: this one can only say the blocked word.
    const tool = {
      type: "function",
      function: {
        name: "search",
        parameters: { type: "object", properties: { topic: { enum: ["forbidden-topic"] } } },
      },
    };
    const res = await call("/api/v1/openai/chat/completions", chat("an innocent question", { tools: [tool] }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      choices: { message: { content: string; tool_calls?: unknown[] }; finish_reason: string }[];
    };
    expect(body.choices[0]?.message.tool_calls).toBeUndefined();
    expect(body.choices[0]).toMatchObject({
      message: { content: "Sorry, the model cannot answer this." },
      finish_reason: "content_filter",
    });
  });

  it("fails closed with 503 when the guardrail cannot be reached", async () => {
    const fakes = llmFakes();
    const { call } = await setUp(
      fakes.env({ BEDROCK_GUARDRAIL_ID: "gr-test", BEDROCK_ENDPOINT: "http://127.0.0.1:9/unreachable" }),
    );
    const res = await call("/api/v1/openai/chat/completions", chat("hello"));
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("GUARDRAIL_UNAVAILABLE");
    expect(await fakes.groqCalls()).toHaveLength(0);
  });
});
