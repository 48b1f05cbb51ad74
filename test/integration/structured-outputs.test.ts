import { beforeAll, describe, expect, inject, it } from "vitest";
import { createHarness, type Harness } from "../helpers/harness.js";
import { llmFakes } from "../helpers/llm-fakes.js";

// APE's own JSON calls send their zod schema as a JSON Schema. Against a model that answers only the schema it
// is sent (the OpenAI fake with no script: `json_schema` gets a value made from the schema, `json_object` gets
// `{}`), every code tool and a whole research session work; a model without `json_schema` (Groq's) gets
// `json_object` with the schema in its system prompt instead.
let h: Harness;
let fakes: ReturnType<typeof llmFakes>;
let firecrawl: string;
let token: string;

type SentBody = {
  messages: { role: string; content: string }[];
  response_format?: { type: string; json_schema?: { name: string; schema: Record<string, unknown>; strict?: boolean } };
};

beforeAll(async () => {
  fakes = llmFakes();
  firecrawl = `${inject("fakeFirecrawlUrl")}/s/${crypto.randomUUID()}`;
  // The sub-question a schema-made plan holds is "sample answer": the page search finds for it.
  const site = await fetch(`${firecrawl}/__fake/site`, {
    method: "POST",
    body: JSON.stringify({
      pages: {
        "http://answers.site.test/sample": `<html><head><title>A sample answer</title></head><body><p>A sample answer is what a model makes from the schema alone.</p></body></html>`,
      },
    }),
  });
  expect(site.status).toBe(204);
  h = await createHarness({
    ...fakes.env(),
    LLM_PROVIDER_ORDER: "openai",
    FIRECRAWL_API_KEY: "fc-test",
    FIRECRAWL_API_URL: firecrawl,
    RATE_LIMIT_AUTH_PER_MINUTE: "1000000",
  });
  token = (await h.signUp()).tokens.access_token;
});

const sentToOpenAi = async () => (await fakes.openAiCalls()).map((call) => call.body as unknown as SentBody);

const TOOLS = {
  generate: { prompt: "fibonacci please", language: "python" },
  review: { code: "print('hi')\n", language: "python" },
  explain: { code: "print('hi')\n", language: "python" },
  convert: { code: "print('hi')\n", from: "python", to: "go" },
} as const;

describe("code tools against a model that answers only the JSON Schema it is sent", () => {
  it.each(Object.keys(TOOLS) as (keyof typeof TOOLS)[])("%s", async (tool) => {
    const before = (await sentToOpenAi()).length;
    const res = await h.request(`/api/v1/code/${tool}`, h.json("POST", TOOLS[tool], h.bearer(token)));
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as { result: Record<string, unknown>; repaired: boolean };
    expect(body.repaired).toBe(false);
    expect(Object.keys(body.result).length).toBeGreaterThan(0);
    const sent = (await sentToOpenAi()).slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.response_format?.type).toBe("json_schema");
    expect(sent[0]?.response_format?.json_schema?.name).toBe(`code_${tool}`);
    expect(sent[0]?.response_format?.json_schema?.schema).toMatchObject({ type: "object" });
  });

  it("sends a model without json_schema json_object and the schema in its system prompt", async () => {
    const groq = llmFakes();
    await groq.scriptGroq({ reply: { summary: "Prints hi.", explanation: "It prints hi.", key_points: [] } });
    const res = await h.request(
      "/api/v1/code/explain",
      h.json("POST", TOOLS.explain, h.bearer(token)),
      groq.env({ LLM_PROVIDER_ORDER: "groq" }),
    );
    expect(res.status, await res.clone().text()).toBe(200);
    const [sent] = (await groq.groqCalls()).map((call) => call.body as unknown as SentBody);
    expect(sent?.response_format).toEqual({ type: "json_object" });
    expect(sent?.messages[0]?.content).toContain("fits this JSON Schema");
    expect(sent?.messages[0]?.content).toContain('"key_points"');
  });
});

describe("a research session against a model that answers only the JSON Schema it is sent", () => {
  it("plans, reads and writes its report from schema-made answers", async () => {
    const before = (await sentToOpenAi()).length;
    const created = await h.request(
      "/api/v1/research/sessions",
      h.json("POST", { query: "What is a sample answer?", depth: "quick" }, h.bearer(token)),
    );
    expect(created.status, await created.clone().text()).toBe(202);
    const { id } = (await created.json()) as { id: string };
    await h.runJobs();
    const done = (await (await h.request(`/api/v1/research/sessions/${id}`, { headers: h.bearer(token) })).json()) as {
      status: string;
      sub_questions: string[];
      report: string | null;
      error: unknown;
    };
    expect(done, JSON.stringify(done.error)).toMatchObject({ status: "completed", sub_questions: ["sample answer"] });
    expect(done.report).toContain("sample answer");
    const names = (await sentToOpenAi()).slice(before).map((body) => body.response_format?.json_schema?.name);
    expect(names[0]).toBe("research_plan");
    expect(names).toContain("research_section");
    expect(names.at(-1)).toBe("research_summary");
  });
});
