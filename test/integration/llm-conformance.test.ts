import OpenAI from "openai";
import { beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../helpers/harness.js";
import { llmFakes } from "../helpers/llm-fakes.js";

// The conformance matrix: each provider on its wire fake (Groq, OpenAI and compat on the OpenAI-compatible
// fake, Bedrock on the Converse fake) × text, stream, tool call, streamed tool call, tool-result round trip,
// json_schema, image and usage, driven through the front door by the official openai client. Each cell checks
// what reached the fake's wire and what came back, so a field dropped or mistranslated on the way fails it.
let h: Harness;
beforeAll(async () => {
  h = await createHarness({ RATE_LIMIT_AUTH_PER_MINUTE: "1000000" });
});

type Provider = "groq" | "openai" | "compat" | "bedrock";
// biome-ignore lint/suspicious/noExplicitAny: the fakes' logs are whatever reached their wire, read field by field.
type Wire = any;

const setUp = async (provider: Provider, overrides: Record<string, string> = {}) => {
  const fakes = llmFakes();
  const settings = fakes.env(overrides);
  const user = await h.signUp();
  const created = await h.request(
    "/api/v1/users/me/api-keys",
    h.json("POST", { name: "sdk", scopes: ["chat", "read"] }, h.bearer(user.tokens.access_token)),
  );
  const { key } = (await created.json()) as { key: string };
  const client = new OpenAI({
    apiKey: key,
    baseURL: "http://ape.test/api/v1/openai",
    maxRetries: 0,
    fetch: (url, init) => {
      const { pathname, search } = new URL(String(url));
      return h.request(`${pathname}${search}`, init as RequestInit, settings);
    },
  });
  const script = {
    groq: fakes.scriptGroq,
    openai: fakes.scriptOpenAi,
    compat: fakes.scriptCompat,
    bedrock: fakes.scriptBedrock,
  }[provider];
  /** The bodies of the chat calls that reached this provider's fake. */
  const wire = async (): Promise<Wire[]> => {
    const calls: Wire[] =
      provider === "bedrock"
        ? (await fakes.bedrockCalls()).filter((call) => /^Converse/.test(call.operation))
        : await { groq: fakes.groqCalls, openai: fakes.openAiCalls, compat: fakes.compatCalls }[provider]();
    return calls.map((call: Wire) => call.body);
  };
  return { client, script, wire, model: provider };
};

const weather: OpenAI.ChatCompletionTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "The weather in a city.",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};
const answerSchema = {
  type: "object",
  properties: { answer: { type: "string" }, score: { type: "integer", minimum: 3 } },
  required: ["answer", "score"],
  additionalProperties: false,
};
const PNG = "iVBORw0KGgo=";

/** The tools as they reached the wire, in OpenAI's form or Converse's. */
const wireTools = (provider: Provider, body: Wire) =>
  provider === "bedrock"
    ? body.toolConfig.tools.map((tool: Wire) => [tool.toolSpec.name, tool.toolSpec.inputSchema.json])
    : body.tools.map((tool: Wire) => [tool.function.name, tool.function.parameters]);

const refusal = async (promise: Promise<unknown>) => {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(OpenAI.BadRequestError);
  return error as InstanceType<typeof OpenAI.BadRequestError>;
};

describe.each(["groq", "openai", "compat", "bedrock"] as const)("%s", (provider) => {
  // Groq's models (llama-3.x) take tools but neither images nor a JSON Schema: those cells are refusals.
  const textOnly = provider === "groq";

  it("text", async () => {
    const { client, wire, model } = await setUp(provider);
    const { data, response } = await client.chat.completions
      .create({
        model,
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "hello there" },
        ],
      })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe("echo: hello there");
    expect(data.choices[0]?.finish_reason).toBe("stop");
    expect(response.headers.get("x-ape-provider")).toBe(provider);
    expect(Number(response.headers.get("x-ape-overhead-ms"))).toBeGreaterThanOrEqual(0);
    const [body] = await wire();
    if (provider === "bedrock") {
      expect(body.system).toEqual([{ text: "Be brief." }]);
      expect(body.messages).toEqual([{ role: "user", content: [{ text: "hello there" }] }]);
    } else {
      expect(body.messages).toEqual([
        { role: "system", content: "Be brief." },
        { role: "user", content: "hello there" },
      ]);
    }
  });

  it("stream", async () => {
    const { client, wire, model } = await setUp(provider);
    const { data: stream, response } = await client.chat.completions
      .create({ model, messages: [{ role: "user", content: "stream me back" }], stream: true })
      .withResponse();
    // A stream's headers go with its first token, and say what APE took up to then.
    expect(response.headers.get("x-ape-overhead-ms")).toMatch(/^\d+$/);
    let text = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe("echo: stream me back");
    expect(finish).toBe("stop");
    const [body] = await wire();
    if (provider !== "bedrock") expect(body.stream).toBe(true);
  });

  it("tool call", async () => {
    const { client, wire, model } = await setUp(provider);
    const completion = await client.chat.completions.create({
      model,
      messages: [{ role: "user", content: "weather in Oslo?" }],
      tools: [weather],
      tool_choice: { type: "function", function: { name: "get_weather" } },
    });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe("tool_calls");
    const call = choice?.message.tool_calls?.[0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "sample answer" });
    expect(call.id).toMatch(/\S/);
    const [body] = await wire();
    expect(wireTools(provider, body)).toEqual([["get_weather", weather.function.parameters]]);
    if (provider === "bedrock") expect(body.toolConfig.toolChoice).toEqual({ tool: { name: "get_weather" } });
    else expect(body.tool_choice).toEqual({ type: "function", function: { name: "get_weather" } });
  });

  it("streamed tool call", async () => {
    const { client, model } = await setUp(provider);
    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: "user", content: "weather in Oslo?" }],
      tools: [weather],
      tool_choice: "required",
      parallel_tool_calls: false,
      stream: true,
    });
    const deltas: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe("tool_calls");
    // The id and name first, then argument fragments under the same index.
    expect(deltas[0]).toMatchObject({ index: 0, type: "function", function: { name: "get_weather" } });
    expect(deltas[0]?.id).toMatch(/\S/);
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.every((delta) => delta.index === 0)).toBe(true);
    const args = deltas.map((delta) => delta.function?.arguments ?? "").join("");
    expect(JSON.parse(args)).toEqual({ city: "sample answer" });
  });

  it("tool-result round trip", async () => {
    const { client, wire, model } = await setUp(provider);
    const completion = await client.chat.completions.create({
      model,
      messages: [
        { role: "user", content: "weather in Oslo?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: "sunny and mild" },
      ],
      tools: [weather],
    });
    expect(completion.choices[0]?.message.content).toBe("echo: tool said sunny and mild");
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    const [body] = await wire();
    if (provider === "bedrock") {
      expect(body.messages[1]).toEqual({
        role: "assistant",
        content: [{ toolUse: { toolUseId: "call_1", name: "get_weather", input: { city: "Oslo" } } }],
      });
      expect(body.messages[2]).toEqual({
        role: "user",
        content: [{ toolResult: { toolUseId: "call_1", content: [{ text: "sunny and mild" }] } }],
      });
    } else {
      expect(body.messages[1].tool_calls).toEqual([
        { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
      ]);
      expect(body.messages[2]).toEqual({ role: "tool", tool_call_id: "call_1", content: "sunny and mild" });
    }
  });

  it("json_schema", async () => {
    const { client, wire, model } = await setUp(provider);
    const ask = client.chat.completions.create({
      model,
      messages: [{ role: "user", content: "rate this" }],
      response_format: { type: "json_schema", json_schema: { name: "rating", schema: answerSchema, strict: true } },
    });
    if (textOnly) {
      const error = await refusal(ask);
      expect(error.code).toBe("CAPABILITY_UNAVAILABLE");
      expect(error.param).toBe("response_format.json_schema");
      expect(await wire()).toHaveLength(0);
      return;
    }
    const completion = await ask;
    expect(JSON.parse(completion.choices[0]?.message.content ?? "")).toEqual({ answer: "sample answer", score: 3 });
    const [body] = await wire();
    if (provider === "bedrock") {
      const format = body.outputConfig.textFormat;
      expect(format.type).toBe("json_schema");
      expect(format.structure.jsonSchema.name).toBe("rating");
      expect(JSON.parse(format.structure.jsonSchema.schema)).toEqual(answerSchema);
    } else {
      expect(body.response_format).toEqual({
        type: "json_schema",
        json_schema: { name: "rating", schema: answerSchema, strict: true },
      });
    }
  });

  it("image", async () => {
    const { client, wire, model } = await setUp(provider);
    const ask = client.chat.completions.create({
      model,
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "what is this" },
            { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
          ],
        },
      ],
    });
    if (textOnly) {
      const error = await refusal(ask);
      expect(error.code).toBe("CAPABILITY_UNAVAILABLE");
      expect(error.param).toBe("messages[0].content[1].image_url");
      expect(await wire()).toHaveLength(0);
      return;
    }
    const completion = await ask;
    expect(completion.choices[0]?.message.content).toBe("echo: what is this [images: 1]");
    const [body] = await wire();
    if (provider === "bedrock") {
      expect(body.messages[0].content).toEqual([
        { text: "what is this" },
        { image: { format: "png", source: { bytes: PNG } } },
      ]);
    } else {
      expect(body.messages[0].content[1]).toEqual({
        type: "image_url",
        image_url: { url: `data:image/png;base64,${PNG}` },
      });
    }
  });

  it("usage, with cached input tokens, whole and streamed", async () => {
    const { client, script, model } = await setUp(provider);
    await script({ cachedTokens: 2, times: 2 });
    const completion = await client.chat.completions.create({
      model,
      messages: [{ role: "user", content: "count my tokens" }],
    });
    expect(completion.usage).toEqual({
      prompt_tokens: 3,
      completion_tokens: 4,
      total_tokens: 7,
      prompt_tokens_details: { cached_tokens: 2 },
    });
    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: "user", content: "count my tokens" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    expect(usage).toEqual(completion.usage);
  });
});

describe("capabilities", () => {
  it("skips a text-only model for a request with an image, and says which fields a model cannot honour", async () => {
    const { client } = await setUp("groq");
    const image: OpenAI.ChatCompletionMessageParam = {
      role: "user",
      content: [
        { type: "text", text: "what is this" },
        { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
      ],
    };
    // auto walks Groq (text only) first; the image goes to Bedrock, the next that can see.
    const { data, response } = await client.chat.completions
      .create({ model: "auto", messages: [image] })
      .withResponse();
    expect(response.headers.get("x-ape-provider")).toBe("bedrock");
    expect(data.choices[0]?.message.content).toBe("echo: what is this [images: 1]");
    const models = await client.models.list();
    const listed = models.data as unknown as { id: string; capabilities?: string[]; context_window?: number }[];
    expect(listed.find((m) => m.id === "groq/llama-3.3-70b-versatile")).toMatchObject({
      capabilities: ["tools"],
      context_window: 131_072,
    });
    expect(listed.find((m) => m.id === "openai/gpt-4o")?.capabilities).toEqual(["tools", "vision", "json_schema"]);
    expect(listed.find((m) => m.id === "auto")?.capabilities).toBeUndefined();
  });

  it("refuses a Bedrock image given by web URL with 400 naming the field, rather than dropping it", async () => {
    const { client, wire } = await setUp("bedrock");
    const error = await refusal(
      client.chat.completions.create({
        model: "bedrock",
        messages: [
          { role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/cat.png" } }] },
        ],
      }),
    );
    expect(error.code).toBe("CAPABILITY_UNAVAILABLE");
    expect(error.param).toBe("messages[0].content[0].image_url");
    expect(await wire()).toHaveLength(0);
    // An error answer says what APE took too.
    expect(Number(error.headers?.get("x-ape-overhead-ms"))).toBeGreaterThanOrEqual(0);
    expect(error.headers?.get("x-ape-overhead-ms")).toMatch(/^\d+$/);
  });

  it("routes an image by web URL past Bedrock (bytes only) to a provider that fetches it, and refuses when none can", async () => {
    const fakes = llmFakes();
    const user = await h.signUp();
    const ask = (order: string) =>
      h.request(
        "/api/v1/openai/chat/completions",
        h.json(
          "POST",
          {
            model: "auto",
            messages: [
              {
                role: "user",
                content: [
                  { type: "text", text: "what is this" },
                  { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
                ],
              },
            ],
          },
          h.bearer(user.tokens.access_token),
        ),
        fakes.env({ LLM_PROVIDER_ORDER: order }),
      );
    const served = await ask("groq,bedrock,openai");
    expect(served.status).toBe(200);
    expect(served.headers.get("x-ape-provider")).toBe("openai");
    const body = (await served.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toBe("echo: what is this [images: 1]");
    const sent: Wire[] = (await fakes.openAiCalls()).map((call) => call.body);
    expect(sent[0].messages[0].content[1]).toEqual({
      type: "image_url",
      image_url: { url: "https://example.com/cat.png" },
    });
    expect((await fakes.bedrockCalls()).filter((call) => /^Converse/.test(call.operation))).toHaveLength(0);
    // With no provider that fetches images, the refusal names the field and what it needs.
    const refused = await ask("groq,bedrock");
    expect(refused.status).toBe(400);
    const problem = (await refused.json()) as { error: { code: string; param: string; message: string } };
    expect(problem.error).toMatchObject({ code: "CAPABILITY_UNAVAILABLE", param: "messages[0].content[1].image_url" });
    expect(problem.error.message).toContain("by web URL");
  });

  it("takes a compat server's capabilities from OPENAI_COMPATIBLE_CAPABILITIES", async () => {
    const { client, wire } = await setUp("compat", { OPENAI_COMPATIBLE_CAPABILITIES: "json_schema" });
    const error = await refusal(
      client.chat.completions.create({
        model: "compat",
        messages: [{ role: "user", content: "weather in Oslo?" }],
        tools: [weather],
      }),
    );
    expect(error.code).toBe("CAPABILITY_UNAVAILABLE");
    expect(error.param).toBe("tools");
    expect(await wire()).toHaveLength(0);
    const listed = (await client.models.list()).data as unknown as { id: string; capabilities?: string[] }[];
    expect(listed.find((m) => m.id === "compat/llama3.2")?.capabilities).toEqual(["json_schema"]);
  });
});
