import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { type CallToolResult, McpError, type Progress } from "@modelcontextprotocol/sdk/types.js";
import { CfWorkerJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/cfworker-provider.js";
import { and, eq } from "drizzle-orm";
import Papa from "papaparse";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { auditLogs, usageRecords } from "../../src/db/schema/index.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { llmFakes } from "../helpers/llm-fakes.js";
import { utf8 } from "../helpers/test-files.js";

// APE as an MCP server, driven the way an assistant or editor drives it: the official SDK's Client over its
// StreamableHTTPClientTransport, whose fetch is routed into the app in workerd (as the harness calls it), with
// APE API keys as bearer tokens. Behind it: the model played by the OpenAI-compatible fake, the web by the
// Firecrawl fake, and the real queue consumer, Postgres, Redis and R2.

let h: Harness;
let fakes: ReturnType<typeof llmFakes>;
let owner: Awaited<ReturnType<Harness["signUp"]>>;
let ownerKey: string;
let firecrawl: string;
let shopUrl: string;
let textDocument: string;
let csvDocument: string;

const ALL_SCOPES = ["chat", "research", "extraction", "code", "documents"];
const TOOL_NAMES = [
  "search_documents",
  "ask",
  "start_research",
  "get_research",
  "start_extraction",
  "get_extraction",
  "review_code",
  "generate_code",
];

// The research corpus (served by the Firecrawl fake): one page per sub-question.
const PAGES: Record<string, { title: string; text: string }> = {
  "http://physics.site.test/boiling": {
    title: "Boiling point of water",
    text: "At sea level, pure water boils at 100 degrees Celsius. The boiling point is where vapour pressure equals the pressure of the air around the water.",
  },
  "http://weather.site.test/pressure": {
    title: "Air pressure and altitude",
    text: "Atmospheric pressure falls as altitude rises: at 3000 metres it is about 70 percent of the pressure at sea level, so water boils near 90 degrees Celsius there.",
  },
  "http://kitchen.site.test/pasta": {
    title: "Cooking pasta in the mountains",
    text: "Cooking pasta in the mountains takes longer, because the water is cooler when it boils. Cooks add a few minutes to the cooking time above 2000 metres.",
  },
};
const QUESTIONS = [
  "boiling point of water at sea level",
  "atmospheric pressure at altitude",
  "cooking pasta in the mountains",
];
const html = ({ title, text }: { title: string; text: string }) =>
  `<html><head><title>${title}</title></head><body><p>${text}</p></body></html>`;

const createKey = async (token: string, scopes: string[]) => {
  const res = await h.request("/api/v1/users/me/api-keys", h.json("POST", { name: "mcp", scopes }, h.bearer(token)));
  expect(res.status).toBe(201);
  return ((await res.json()) as { key: string }).key;
};

const upload = async (token: string, text: string, name: string, type: string) => {
  const form = new FormData();
  form.set("file", new File([utf8(text)], name, { type }));
  const res = await h.request("/api/v1/documents", { method: "POST", headers: h.bearer(token), body: form });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
};

/**
 * A response whose body fails when `signal` aborts, as a real fetch's does: the way the server learns that a
 * client has gone.
 */
const abortable = (response: Response, signal: AbortSignal | null | undefined) => {
  if (!signal || !response.body) return response;
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      signal.addEventListener("abort", () => {
        controller.error(new DOMException("The client went away", "AbortError"));
        reader.cancel().catch(() => {});
      });
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (signal.aborted) return;
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return new Response(body, { status: response.status, headers: response.headers });
};

/** An MCP client of APE signed in with `credential` (or none), its requests going into the app. */
const connect = async (credential: string | null, envOverrides: Record<string, unknown> = {}) => {
  const transport = new StreamableHTTPClientTransport(new URL("http://ape.test/api/v1/mcp"), {
    fetch: async (url, init) => {
      const target = new URL(url);
      return abortable(await h.request(`${target.pathname}${target.search}`, init, envOverrides), init?.signal);
    },
    requestInit: credential ? { headers: { authorization: `Bearer ${credential}` } } : {},
  });
  // The SDK's default validator (ajv) compiles code at run time, which workerd forbids; the SDK ships this one
  // for Workers.
  const client = new Client(
    { name: "ape-test", version: "1.0.0" },
    { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() },
  );
  await client.connect(transport);
  return client;
};

const call = async (client: Client, name: string, args: Record<string, unknown>) =>
  (await client.callTool({ name, arguments: args })) as CallToolResult;

/** A tool error's problem details, as the tool's text carries them. */
const problemOf = (result: CallToolResult) => {
  expect(result.isError).toBe(true);
  const first = result.content[0];
  expect(first?.type).toBe("text");
  return JSON.parse(first?.type === "text" ? first.text : "null") as {
    code: string;
    status: number;
    detail: string;
    requestId: string;
    errors?: Array<{ path: string; message: string }>;
  };
};

const structured = <T>(result: CallToolResult) => {
  expect(result.isError ?? false, JSON.stringify(result.content).slice(0, 400)).toBe(false);
  return result.structuredContent as T;
};

type ResearchResult = {
  id: string;
  status: string;
  report: string | null;
  sources: Array<{ n: number; url: string; quote: string }>;
  progress: { stage: string; percent: number };
  resource_uri: string | null;
};
type ExtractionResult = {
  id: string;
  status: string;
  rows_extracted: number;
  rows_valid: number;
  rows: Array<{
    row: number;
    values: Record<string, unknown>;
    valid: boolean;
    errors: Array<{ column: string; rule: string }>;
    provenance: { source: string; quote: string | null };
    confidence: Record<string, number>;
  }>;
  more_rows: boolean;
  resource_uri: string | null;
};

beforeAll(async () => {
  fakes = llmFakes();
  firecrawl = `${inject("fakeFirecrawlUrl")}/s/${crypto.randomUUID()}`;
  const sites = inject("fakeSitesUrl");
  // A page for a web extraction: on the fake sites' host, which the URL check lets through, and scraped
  // (Firecrawl being configured) from the Firecrawl fake's copy of it.
  shopUrl = `${sites}/s/${crypto.randomUUID()}/shop`;
  const shop = `<html><body><table><tr><th>Product</th><th>Price</th></tr><tr><td>Torque wrench</td><td>$84.00</td></tr><tr><td>Socket set</td><td>$39.90</td></tr></table></body></html>`;
  const site = await fetch(`${firecrawl}/__fake/site`, {
    method: "POST",
    body: JSON.stringify({
      pages: { ...Object.fromEntries(Object.entries(PAGES).map(([url, page]) => [url, html(page)])), [shopUrl]: shop },
    }),
  });
  expect(site.status).toBe(204);
  h = await createHarness({
    ...fakes.env(),
    LLM_PROVIDER_ORDER: "groq",
    FIRECRAWL_API_KEY: "fc-test",
    FIRECRAWL_API_URL: firecrawl,
    FETCH_ALLOW_HOSTS: new URL(sites).host,
    RATE_LIMIT_AUTH_PER_MINUTE: "1000000",
  });
  owner = await h.signUp();
  ownerKey = await createKey(owner.tokens.access_token, ALL_SCOPES);
  textDocument = await upload(
    owner.tokens.access_token,
    "Lease terms\n\nEither party may end the lease early. The termination fee is two monthly instalments, paid within 30 days.\n\nPets are allowed with written consent.",
    "lease.txt",
    "text/plain",
  );
  const csvRows = Array.from({ length: 25 }, (_, index) => `Part ${index + 1},$${index + 1}.50`);
  csvDocument = await upload(
    owner.tokens.access_token,
    `Product,Price\n${csvRows.join("\n")}\n`,
    "parts.csv",
    "text/csv",
  );
  await h.runJobs();
});

describe("connecting and listing", () => {
  it("initialises over Streamable HTTP and lists every tool with its input and output schema", async () => {
    const client = await connect(ownerKey);
    expect(client.getServerVersion()).toMatchObject({ name: "ape" });
    expect(client.getServerCapabilities()).toMatchObject({ tools: {}, resources: {} });
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(TOOL_NAMES);
    for (const tool of tools) {
      expect(tool.description?.length, tool.name).toBeGreaterThan(40);
      expect(tool.inputSchema.type, tool.name).toBe("object");
      expect(tool.outputSchema?.type, tool.name).toBe("object");
    }
    const search = tools.find((tool) => tool.name === "search_documents");
    expect(search?.inputSchema.required).toEqual(["query"]);
    // The REST API's field descriptions and examples document the tools too.
    expect(search?.inputSchema.properties?.k).toMatchObject({
      type: "integer",
      default: 5,
      description: "How many passages to return.",
      examples: [5],
    });
    const research = tools.find((tool) => tool.name === "start_research");
    expect(Object.keys(research?.inputSchema.properties ?? {})).toEqual(["query", "depth", "sources", "document_ids"]);
    expect(research?.outputSchema?.properties).toHaveProperty("resource_uri");
    expect(tools.find((tool) => tool.name === "get_research")?.annotations).toMatchObject({ readOnlyHint: true });
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((template) => [template.uriTemplate, template.mimeType])).toEqual([
      ["ape://research/{id}", "text/markdown"],
      ["ape://extraction/{id}", "text/csv"],
    ]);
    await client.close();
  });
});

describe("documents", () => {
  it("finds passages with their document, page and quote", async () => {
    const client = await connect(ownerKey);
    const result = await call(client, "search_documents", { query: "termination fee", k: 3 });
    const found = structured<{ results: Array<Record<string, unknown>>; mode: string }>(result);
    expect(found.mode).toBe("text");
    expect(found.results[0]).toMatchObject({ document_id: textDocument, filename: "lease.txt", page: 1 });
    expect(found.results[0]?.quote).toContain("termination fee is two monthly instalments");
    // The same result as JSON text, for clients that read only text.
    expect(result.content[0]).toEqual({ type: "text", text: JSON.stringify(found) });
    await client.close();
  });

  it("answers a question from the documents, with only citations that name a retrieved passage", async () => {
    await fakes.scriptGroq({ reply: "Ending the lease early costs two monthly instalments [1], or a goat [7]." });
    const client = await connect(ownerKey);
    const answer = structured<{
      answer: string;
      citations: Array<Record<string, unknown>>;
      passages_considered: number;
      model: { provider: string };
      usage: { tokens_input: number };
    }>(await call(client, "ask", { question: "What does ending the lease early cost?" }));
    expect(answer.answer).toBe("Ending the lease early costs two monthly instalments [1], or a goat.");
    expect(answer.citations).toEqual([
      expect.objectContaining({ n: 1, document_id: textDocument, filename: "lease.txt", page: 1 }),
    ]);
    expect(answer.citations[0]?.quote).toContain("termination fee");
    expect(answer.model.provider).toBe("groq");
    expect(answer.usage.tokens_input).toBeGreaterThan(0);
    // The model was handed the passages as delimited data, with the question after them.
    const sent = (await fakes.groqCalls()).at(-1)?.body as { messages: Array<{ role: string; content: string }> };
    expect(sent.messages.at(-1)?.content).toContain("<document_passages");
    expect(sent.messages.at(-1)?.content).toContain("What does ending the lease early cost?");
    await client.close();
    await h.settled();
    // Accounted like any model call of the caller's.
    const rows = await h.withDb((db) =>
      db
        .select()
        .from(usageRecords)
        .where(and(eq(usageRecords.userId, owner.id), eq(usageRecords.service, "chat"))),
    );
    expect(rows.length).toBeGreaterThanOrEqual(1);
  });
});

describe("code tools", () => {
  it("reviews code and generates code, each answer validated against its schema", async () => {
    const client = await connect(ownerKey);
    const finding = {
      severity: "high",
      line_start: 2,
      line_end: 2,
      title: "Division by zero is not handled",
      explanation: "div(1, 0) raises ZeroDivisionError.",
      suggested_fix: "if b == 0:\n    raise ValueError('b must not be zero')",
    };
    await fakes.scriptGroq({ reply: { summary: "Fails on a zero divisor.", findings: [finding] } });
    const review = structured<{ result: { summary: string; findings: unknown[] }; model: { provider: string } }>(
      await call(client, "review_code", { code: "def div(a, b):\n    return a / b\n", language: "python" }),
    );
    expect(review.result).toEqual({ summary: "Fails on a zero divisor.", findings: [finding] });
    expect(review.model.provider).toBe("groq");

    await fakes.scriptGroq({ reply: { code: "def fib(n):\n    return n\n", language: "python", notes: [] } });
    const generated = structured<{ result: { code: string; language: string } }>(
      await call(client, "generate_code", { prompt: "A Fibonacci function.", language: "python" }),
    );
    expect(generated.result).toMatchObject({ code: "def fib(n):\n    return n\n", language: "python" });
    await client.close();
  });
});

describe("research", () => {
  it("starts a session, reports its progress while it runs, answers the checked report and serves it as Markdown", async () => {
    // Each model answer takes a moment, so the run passes through its stages while the tool watches.
    const replies = [
      { sub_questions: QUESTIONS },
      {
        text: "At sea level, pure water boils at 100 degrees Celsius [1].",
        quotes: [{ n: 1, quote: "pure water boils at 100 degrees Celsius" }],
      },
      {
        text: "At 3000 metres water boils near 90 degrees Celsius [1].",
        quotes: [{ n: 1, quote: "water boils near 90 degrees Celsius there" }],
      },
      {
        text: "Pasta takes longer to cook in the mountains [1].",
        quotes: [{ n: 1, quote: "Cooking pasta in the mountains takes longer" }],
      },
      { summary: "Water boils at 100 degrees Celsius at sea level [1] and near 90 degrees at 3000 metres [2]." },
    ];
    for (const reply of replies) await fakes.scriptGroq({ reply, hangMs: 1_200 });
    const client = await connect(ownerKey);
    const progress: Progress[] = [];
    let running: Promise<unknown> | null = null;
    const result = await client.callTool(
      { name: "start_research", arguments: { query: "How does altitude change the boiling point of water?" } },
      undefined,
      {
        // The first notification says the session is queued: the queue runs it from then on.
        onprogress: (report) => {
          progress.push(report);
          running ??= h.runJobs();
        },
        timeout: 60_000,
      },
    );
    await running;
    const session = structured<ResearchResult>(result as CallToolResult);
    expect(session.status).toBe("completed");
    expect(session.report).toContain("## Summary");
    expect(session.sources.map((source) => source.url)).toEqual(Object.keys(PAGES));
    expect(session.resource_uri).toBe(`ape://research/${session.id}`);
    expect((result as CallToolResult).content).toContainEqual(
      expect.objectContaining({ type: "resource_link", uri: session.resource_uri, mimeType: "text/markdown" }),
    );

    // Progress came while it ran: from queued, rising each time, through stages between, to done.
    expect(progress[0]).toMatchObject({ progress: 0, total: 100 });
    expect(progress[0]?.message).toContain("queued");
    expect(progress.at(-1)).toMatchObject({ progress: 100, message: "completed" });
    const values = progress.map((report) => report.progress);
    expect(values).toEqual([...new Set(values)].sort((a, b) => a - b));
    const between = progress.filter((report) => report.progress > 0 && report.progress < 100);
    expect(between.length).toBeGreaterThanOrEqual(1);

    // The report resource is the REST export, byte for byte.
    const read = await client.readResource({ uri: session.resource_uri ?? "" });
    expect(read.contents).toEqual([{ uri: session.resource_uri, mimeType: "text/markdown", text: session.report }]);
    const exported = await h.request(`/api/v1/research/sessions/${session.id}/export?format=md`, {
      headers: h.bearer(ownerKey),
    });
    expect(await exported.text()).toBe(session.report);

    // get_research answers the same session; the resource list names it.
    const again = structured<ResearchResult>(await call(client, "get_research", { id: session.id }));
    expect(again).toEqual(session);
    const { resources } = await client.listResources();
    expect(resources.map((resource) => resource.uri)).toContain(session.resource_uri);
    await client.close();
    await h.settled();
  }, 60_000);

  it("answers at once with the queued session when no progress is asked for", async () => {
    const client = await connect(ownerKey);
    const started = structured<ResearchResult>(
      await call(client, "start_research", { query: "Why is the sky blue at noon?", depth: "quick" }),
    );
    expect(started).toMatchObject({ status: "pending", progress: { stage: "queued" }, resource_uri: null });
    // Not completed, so there is no report to read yet.
    const error = await client.readResource({ uri: `ape://research/${started.id}` }).catch((caught) => caught);
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).data).toMatchObject({ code: "CONFLICT" });
    await client.close();
  });
});

describe("waiting within a Worker's means", () => {
  it("answers where a session is once the wait is over, and the queue goes on with it", async () => {
    const client = await connect(ownerKey, { MCP_WAIT_SECONDS: "1" });
    const progress: Progress[] = [];
    const result = (await client.callTool(
      { name: "start_research", arguments: { query: "How long is a piece of string?", depth: "quick" } },
      undefined,
      { onprogress: (report) => progress.push(report) },
    )) as CallToolResult;
    // Nobody ran the queue in that second: the session is still queued, and says so.
    expect(structured<ResearchResult>(result)).toMatchObject({ status: "pending", resource_uri: null });
    expect(progress).toEqual([expect.objectContaining({ progress: 0, message: "pending: queued" })]);
    await client.close();
    await h.settled();
  });

  it("ends a waiting call when its client goes away, so the request's work settles", async () => {
    // The wait would outlast the test; only the client leaving can end it in time.
    const client = await connect(ownerKey, { MCP_WAIT_SECONDS: "300" });
    const asked = new AbortController();
    const outcome = client
      .callTool({ name: "start_research", arguments: { query: "Who waits forever?", depth: "quick" } }, undefined, {
        signal: asked.signal,
        onprogress: () => asked.abort(),
      })
      .catch((error: unknown) => error);
    const error = await outcome;
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).message).toContain("AbortError");
    await client.close();
    // Returns once the stream's after-response work (audit, clean-up) is done, which needs the call to end.
    await h.settled();
  });
});

describe("extraction", () => {
  it("extracts a document's rows: the first inline with validity and provenance, all of them as CSV", async () => {
    const client = await connect(ownerKey);
    const schema = {
      columns: [
        { name: "product", type: "string", required: true },
        { name: "price", type: "currency", required: true },
      ],
    };
    const started = structured<ExtractionResult>(
      await call(client, "start_extraction", {
        document_id: csvDocument,
        schema,
        validation_rules: { price: { max: 20 } },
      }),
    );
    expect(started).toMatchObject({ status: "pending", rows: [], resource_uri: null });
    await h.runJobs();
    const done = structured<ExtractionResult>(await call(client, "get_extraction", { id: started.id }));
    expect(done).toMatchObject({ status: "completed", rows_extracted: 25, rows_valid: 19, more_rows: true });
    expect(done.rows).toHaveLength(20);
    expect(done.rows[0]).toMatchObject({
      row: 0,
      values: { product: "Part 1", price: 1.5 },
      valid: true,
      errors: [],
      provenance: { source: csvDocument },
      confidence: { product: 1, price: 1 },
    });
    expect(done.rows[19]).toMatchObject({ valid: false, errors: [expect.objectContaining({ rule: "max" })] });

    const read = await client.readResource({ uri: done.resource_uri ?? "" });
    expect(read.contents[0]).toMatchObject({ uri: done.resource_uri, mimeType: "text/csv" });
    const text = read.contents[0] && "text" in read.contents[0] ? read.contents[0].text : "";
    const csv = Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: true });
    expect(csv.meta.fields).toEqual(["product", "price", "_valid", "_errors"]);
    expect(csv.data).toHaveLength(25);
    expect(csv.data[24]).toMatchObject({ product: "Part 25", _valid: "false" });
    await client.close();
  });

  it("extracts a web page's table, each row keeping the page it came from", async () => {
    const client = await connect(ownerKey);
    const started = structured<ExtractionResult>(
      await call(client, "start_extraction", {
        source_url: shopUrl,
        schema: {
          columns: [
            { name: "product", type: "string" },
            { name: "price", type: "currency" },
          ],
        },
      }),
    );
    await h.runJobs();
    const done = structured<ExtractionResult>(await call(client, "get_extraction", { id: started.id }));
    expect(done).toMatchObject({ status: "completed", rows_extracted: 2, more_rows: false });
    expect(done.rows.map((row) => row.values)).toEqual([
      { product: "Torque wrench", price: 84 },
      { product: "Socket set", price: 39.9 },
    ]);
    expect(done.rows[0]?.provenance.source).toBe(shopUrl);
    await client.close();
  });
});

describe("errors", () => {
  it("answers tool errors with APE's problem code and detail, never a stack", async () => {
    const client = await connect(ownerKey);
    const missing = problemOf(await call(client, "get_research", { id: "res_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z" }));
    expect(missing).toMatchObject({
      code: "NOT_FOUND",
      status: 404,
      detail: "No research session res_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z.",
    });
    expect(missing.requestId).toMatch(/^req_/);

    const invalid = problemOf(await call(client, "start_extraction", { schema: { columns: [] } }));
    expect(invalid.code).toBe("VALIDATION_FAILED");
    expect(invalid.errors?.map((error) => error.path)).toEqual(
      expect.arrayContaining(["arguments.schema.columns", "arguments.source_url"]),
    );

    // A private address is refused before anything is stored, as over REST.
    const privateUrl = problemOf(
      await call(client, "start_extraction", {
        source_url: "http://169.254.169.254/latest/meta-data",
        schema: { columns: [{ name: "a", type: "string" }] },
      }),
    );
    expect(privateUrl.code).toBe("VALIDATION_FAILED");

    // The model's answer fails its schema twice (one repair round): the tool says so, with no internals.
    await fakes.scriptGroq({ reply: { nonsense: true }, times: 2 });
    const bad = await call(client, "review_code", { code: "x = 1" });
    const problem = problemOf(bad);
    expect(problem.code).toBe("MODEL_OUTPUT_INVALID");
    expect(JSON.stringify(bad)).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
    await client.close();
  });

  it("refuses a model call over the user's monthly budget", async () => {
    const spender = await h.signUp();
    const budget = await h.request(
      "/api/v1/users/me",
      h.json("PUT", { monthly_budget_usd: 0 }, h.bearer(spender.tokens.access_token)),
    );
    expect(budget.status).toBe(200);
    const client = await connect(await createKey(spender.tokens.access_token, ["code"]));
    expect(problemOf(await call(client, "review_code", { code: "x = 1" })).code).toBe("BUDGET_EXCEEDED");
    await client.close();
  });
});

describe("security", () => {
  it("answers 401 without a key, or with one that is not APE's", async () => {
    for (const credential of [null, `ape_${"x".repeat(43)}`]) {
      const error = await connect(credential).catch((caught) => caught);
      expect(error).toBeInstanceOf(StreamableHTTPError);
      expect((error as StreamableHTTPError).code).toBe(401);
    }
    const raw = await h.request("/api/v1/mcp", h.json("POST", { jsonrpc: "2.0", id: 1, method: "tools/list" }));
    expect(raw.status).toBe(401);
    expect(raw.headers.get("content-type")).toBe("application/problem+json");
  });

  it("gives each tool the scope of its REST route", async () => {
    const codeOnly = await connect(await createKey(owner.tokens.access_token, ["code"]));
    const refused = problemOf(await call(codeOnly, "start_research", { query: "What is a scope?" }));
    expect(refused).toMatchObject({ code: "INSUFFICIENT_SCOPE", status: 403 });
    expect(refused.detail).toContain("`research`");
    expect(problemOf(await call(codeOnly, "search_documents", { query: "fee" })).code).toBe("INSUFFICIENT_SCOPE");
    const denied = await codeOnly
      .readResource({ uri: "ape://research/res_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z" })
      .catch((e) => e);
    expect((denied as McpError).data).toMatchObject({ code: "INSUFFICIENT_SCOPE" });
    await fakes.scriptGroq({ reply: { summary: "Fine.", findings: [] } });
    expect(structured<{ result: unknown }>(await call(codeOnly, "review_code", { code: "x = 1" })).result).toEqual({
      summary: "Fine.",
      findings: [],
    });
    await codeOnly.close();

    // A read key reads (as GET routes allow it) but starts nothing.
    const full = await connect(ownerKey);
    const started = structured<ResearchResult>(
      await call(full, "start_research", { query: "What does a read key read?", depth: "quick" }),
    );
    await full.close();
    const readOnly = await connect(await createKey(owner.tokens.access_token, ["read"]));
    expect(structured<ResearchResult>(await call(readOnly, "get_research", { id: started.id })).id).toBe(started.id);
    expect(problemOf(await call(readOnly, "start_research", { query: "Not allowed?" })).code).toBe(
      "INSUFFICIENT_SCOPE",
    );
    await readOnly.close();
  });

  it("shows another user's sessions, jobs and resources as not found", async () => {
    const client = await connect(ownerKey);
    const session = structured<ResearchResult>(
      await call(client, "start_research", { query: "What is mine alone?", depth: "quick" }),
    );
    const job = structured<ExtractionResult>(
      await call(client, "start_extraction", {
        document_id: csvDocument,
        schema: { columns: [{ name: "product", type: "string" }] },
      }),
    );
    await client.close();

    const intruder = await h.signUp();
    const other = await connect(await createKey(intruder.tokens.access_token, ALL_SCOPES));
    for (const [tool, id] of [
      ["get_research", session.id],
      ["get_extraction", job.id],
    ] as const) {
      const problem = problemOf(await call(other, tool, { id }));
      expect(problem.code, tool).toBe("NOT_FOUND");
    }
    for (const uri of [`ape://research/${session.id}`, `ape://extraction/${job.id}`]) {
      const error = await other.readResource({ uri }).catch((caught) => caught);
      expect(error).toBeInstanceOf(McpError);
      expect((error as McpError).code).toBe(-32002);
      expect((error as McpError).data).toMatchObject({ code: "NOT_FOUND" });
    }
    // Their documents are not searchable by name either, and their resources are not listed.
    expect(problemOf(await call(other, "search_documents", { query: "fee", document_ids: [textDocument] })).code).toBe(
      "NOT_FOUND",
    );
    expect((await other.listResources()).resources).toEqual([]);
    await other.close();
  });

  it("rate limits each POST like a REST call", async () => {
    const key = await createKey(owner.tokens.access_token, ALL_SCOPES);
    // initialize and notifications/initialized are the first two POSTs of the window.
    const client = await connect(key, { RATE_LIMIT_DEFAULT_PER_MINUTE: "3" });
    await client.listTools();
    const limited = await client.listTools().catch((caught) => caught);
    expect(limited).toBeInstanceOf(StreamableHTTPError);
    expect((limited as StreamableHTTPError).code).toBe(429);
    await client.close();
  });

  it("audits every tool call, whether it succeeded or not, beside the services' own entries", async () => {
    const auditor = await h.signUp();
    const client = await connect(await createKey(auditor.tokens.access_token, ALL_SCOPES));
    await call(client, "search_documents", { query: "anything" });
    await call(client, "get_research", { id: "res_01JD8Z6N3Q4R5S6T7V8W9X0Y1Z" });
    const session = structured<ResearchResult>(
      await call(client, "start_research", { query: "What gets audited?", depth: "quick" }),
    );
    await client.close();
    await h.settled();
    const entries = await h.withDb((db) => db.select().from(auditLogs).where(eq(auditLogs.userId, auditor.id)));
    const calls = entries.filter((entry) => entry.action === "mcp.call_tool");
    expect(calls.map((entry) => [entry.resourceId, entry.details])).toEqual(
      expect.arrayContaining([
        ["search_documents", { ok: true }],
        ["get_research", { ok: false, code: "NOT_FOUND" }],
        ["start_research", { ok: true }],
      ]),
    );
    expect(calls.every((entry) => entry.requestId?.startsWith("req_"))).toBe(true);
    expect(entries).toContainEqual(expect.objectContaining({ action: "research.create", resourceId: session.id }));
    // Protocol messages (initialise, list) are not changes: no generic entries for them.
    expect(entries.filter((entry) => entry.action.startsWith("post "))).toEqual([]);
  });
});
