import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import Papa from "papaparse";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { handleQueueBatch } from "../../workers/jobs/consumer.js";
import { createHarness, type Harness, readProblem } from "../helpers/harness.js";
import { llmFakes } from "../helpers/llm-fakes.js";
import { utf8 } from "../helpers/test-files.js";

// Extraction jobs as a user runs them: a local site the test owns (served by test/helpers/fake-sites.mjs,
// reached through APE's safe fetch with its port allow-listed), documents, the model played by the wire fake,
// and the real queue handler, Postgres and R2.

type Job = {
  id: string;
  status: string;
  rows_extracted: number;
  rows_valid: number;
  model_calls: number;
  attempts: number;
  progress: { stage: string; pages_fetched: number; truncated?: boolean };
  error: { code: string; message: string; retryable: boolean } | null;
};
type Rows = {
  items: Array<{
    row: number;
    values: Record<string, unknown>;
    valid: boolean;
    errors: Array<{ row: number; column: string; rule: string }>;
    provenance: { source: string; quote: string | null; quote_verified?: boolean };
    confidence: Record<string, number>;
  }>;
  next_cursor: string | null;
};

const sites = inject("fakeSitesUrl");
let h: Harness;
let fakes: ReturnType<typeof llmFakes>;
let token: string;
let base: string;

const register = async (pages: Record<string, string>) => {
  const res = await fetch(`${base}/__fake/pages`, { method: "POST", body: JSON.stringify(pages) });
  expect(res.status).toBe(204);
};

beforeAll(async () => {
  fakes = llmFakes();
  h = await createHarness({
    ...fakes.env(),
    LLM_PROVIDER_ORDER: "groq",
    FETCH_ALLOW_HOSTS: new URL(sites).host,
    RATE_LIMIT_AUTH_PER_MINUTE: "1000000",
  });
  token = (await h.signUp()).tokens.access_token;
  base = `${sites}/s/${crypto.randomUUID()}`;
});

const productColumns = [
  { name: "product", type: "string", required: true },
  { name: "price", type: "currency", required: true },
];

const create = async (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  h.request("/api/v1/extraction/jobs", h.json("POST", body, { ...h.bearer(token), ...headers }));

const started = async (body: Record<string, unknown>) => {
  const res = await create(body);
  expect(res.status, await res.clone().text()).toBe(202);
  return (await res.json()) as Job;
};

const job = async (id: string) =>
  (await (await h.request(`/api/v1/extraction/jobs/${id}`, { headers: h.bearer(token) })).json()) as Job;

const rows = async (id: string, query = "") =>
  (await (
    await h.request(`/api/v1/extraction/jobs/${id}/rows?limit=1000${query}`, { headers: h.bearer(token) })
  ).json()) as Rows;

const table = (items: Array<[string, string]>) =>
  `<table><tr><th>Product name</th><th>Unit price</th></tr>${items
    .map(([name, price]) => `<tr><td>${name}</td><td>${price}</td></tr>`)
    .join("")}</table>`;

describe("extraction jobs from web pages", () => {
  it("reads a 500-item listing across 5 pages to the end, by code, with no model call", async () => {
    const pages: Record<string, string> = {};
    for (let page = 1; page <= 5; page++) {
      const items = Array.from({ length: 100 }, (_, i): [string, string] => {
        const n = (page - 1) * 100 + i + 1;
        return [`Item ${n}`, `$${n}.50`];
      });
      const next = page < 5 ? `<a rel="next" href="listing?page=${page + 1}">Next</a>` : "";
      pages[`/listing?page=${page}`] =
        `<html><head><title>Page ${page}</title></head><body>${table(items)}${next}</body></html>`;
    }
    await register(pages);
    const created = await started({
      source_type: "web_crawl",
      source_url: `${base}/listing?page=1`,
      crawl: { max_pages: 20, max_depth: 10 },
      schema: { columns: productColumns },
    });
    expect(created.status).toBe("pending");
    await h.runJobs();
    const done = await job(created.id);
    expect(done).toMatchObject({ status: "completed", rows_extracted: 500, rows_valid: 500, model_calls: 0 });
    expect(done.progress).toMatchObject({ stage: "done", pages_fetched: 5, truncated: false });
    const all = await rows(created.id);
    expect(all.items).toHaveLength(500);
    expect(new Set(all.items.map((row) => row.values.product)).size).toBe(500);
    expect(all.items[499]).toMatchObject({ values: { product: "Item 500", price: 500.5 }, valid: true });
    expect(all.items[0]?.provenance.source).toContain("/listing?page=1");
    expect(all.items[0]?.confidence).toEqual({ product: 1, price: 1 });
    expect(await fakes.groqCalls()).toHaveLength(0);
  });

  it("crawls three pages within its bounds, skipping excluded paths and what lies deeper", async () => {
    const item = (name: string, price: string, links = "") =>
      `<html><body>${table([[name, price]])}${links}</body></html>`;
    await register({
      "/shop/start": item("Start", "$1", '<a href="a">a</a> <a href="b">b</a> <a href="private/c">c</a>'),
      "/shop/a": item("A", "$2", '<a href="deep">deep</a>'),
      "/shop/b": item("B", "$3"),
      "/shop/private/c": item("C", "$4"),
      "/shop/deep": item("Deep", "$5"),
    });
    const created = await started({
      source_type: "web_crawl",
      source_url: `${base}/shop/start`,
      crawl: { max_pages: 10, max_depth: 1, exclude_paths: ["/private/"] },
      schema: { columns: productColumns },
    });
    await h.runJobs();
    const done = await job(created.id);
    expect(done).toMatchObject({ status: "completed", rows_extracted: 3 });
    expect((await rows(created.id)).items.map((row) => row.values.product).sort()).toEqual(["A", "B", "Start"]);
  });

  it("reads a page without tables with the model, keeping each row's quote and confidence", async () => {
    await register({
      "/catalogue":
        "<html><body><h1>Catalogue</h1><ul><li>Torque wrench, now $84.00</li><li>Socket set for $39.90</li></ul></body></html>",
    });
    await fakes.scriptGroq({
      reply: {
        rows: [
          { product: "Torque wrench", price: "$84.00", _quote: "Torque wrench, now $84.00" },
          { product: "Socket set", price: "$39.90", _quote: "A made-up sentence" },
        ],
      },
    });
    const created = await started({
      source_type: "web_single",
      source_url: `${base}/catalogue`,
      schema: { columns: productColumns },
    });
    await h.runJobs();
    expect(await job(created.id)).toMatchObject({ status: "completed", rows_extracted: 2, model_calls: 1 });
    const { items } = await rows(created.id);
    expect(items[0]).toMatchObject({
      values: { product: "Torque wrench", price: 84 },
      provenance: { quote_verified: true },
    });
    expect(items[0]?.confidence.price).toBe(1);
    // A quote the text does not hold is not shipped as if it were the source.
    expect(items[1]?.provenance.quote_verified).toBe(false);
    expect(items[1]?.provenance.quote).not.toBe("A made-up sentence");
  });

  it("fails with a clear error when the model answers garbage, and succeeds on retry", async () => {
    await register({ "/garbage": "<html><body><p>Lamp for $12</p></body></html>" });
    await fakes.scriptGroq({ reply: "this is not json at all", times: 2 });
    const created = await started({
      source_type: "web_single",
      source_url: `${base}/garbage`,
      schema: { columns: productColumns },
    });
    await h.runJobs();
    const failed = await job(created.id);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatchObject({ code: "MODEL_OUTPUT_INVALID" });
    await fakes.scriptGroq({ reply: { rows: [{ product: "Lamp", price: "$12", _quote: "Lamp for $12" }] } });
    const retried = await h.request(`/api/v1/extraction/jobs/${created.id}/retry`, {
      method: "POST",
      headers: h.bearer(token),
    });
    expect(retried.status).toBe(202);
    await h.runJobs();
    expect(await job(created.id)).toMatchObject({ status: "completed", rows_extracted: 1, attempts: 2, error: null });
  });

  it("refuses a URL on a private address before storing anything", async () => {
    for (const url of [
      "http://169.254.169.254/latest/meta-data",
      "http://10.0.0.1/",
      "http://[::1]:8080/",
      "http://2130706433/",
    ]) {
      const problem = await readProblem(
        await create({ source_type: "web_single", source_url: url, schema: { columns: productColumns } }),
      );
      expect(problem.status, url).toBe(400);
    }
    const listed = (await (
      await h.request("/api/v1/extraction/jobs?limit=100", { headers: h.bearer(token) })
    ).json()) as {
      items: Array<{ source_url: string | null }>;
    };
    expect(listed.items.some((item) => item.source_url?.includes("169.254"))).toBe(false);
  });

  it("refuses crawl path patterns RE2 cannot run in linear time, naming the field", async () => {
    for (const [field, pattern] of [
      ["include_paths", "^/(a)\\1"],
      ["exclude_paths", "^/(?=private)"],
    ] as const) {
      const problem = await readProblem(
        await create({
          source_type: "web_crawl",
          source_url: `${base}/shop/start`,
          crawl: { max_pages: 5, max_depth: 1, [field]: ["^/shop/", pattern] },
          schema: { columns: productColumns },
        }),
      );
      expect(problem.status, pattern).toBe(400);
      expect(problem.body.errors).toEqual([expect.objectContaining({ path: `body.crawl.${field}.1` })]);
    }
  });
});

describe("extraction jobs from documents", () => {
  const upload = async (text: string, name: string, type: string) => {
    const form = new FormData();
    form.set("file", new File([utf8(text)], name, { type }));
    const res = await h.request("/api/v1/documents", { method: "POST", headers: h.bearer(token), body: form });
    return ((await res.json()) as { id: string }).id;
  };

  it("reads a CSV document by code, names each broken rule, and exports the same rows in every format", async () => {
    const calls = (await fakes.groqCalls()).length;
    const documentId = await upload(
      "Product,Price,SKU\nWrench,$84.00,ABC-1\nSocket set,39.9,ABC-2\n,=cmd|' /C calc'!A0,abc\n",
      "stock.csv",
      "text/csv",
    );
    await h.runJobs();
    const created = await started({
      source_type: "document",
      document_id: documentId,
      schema: { columns: [...productColumns, { name: "sku", type: "string" }] },
      validation_rules: { sku: { pattern: "^[A-Z]{3}-\\d+$" } },
      output_format: "csv",
    });
    await h.runJobs();
    expect(await job(created.id)).toMatchObject({
      status: "completed",
      rows_extracted: 3,
      rows_valid: 2,
      model_calls: 0,
    });
    expect((await fakes.groqCalls()).length).toBe(calls);
    const invalid = await rows(created.id, "&valid=false");
    expect(invalid.items).toHaveLength(1);
    expect(invalid.items[0]?.errors.map((error) => [error.row, error.column, error.rule])).toEqual([
      [2, "product", "required"],
      [2, "price", "type"],
      [2, "sku", "pattern"],
    ]);

    const exported = async (format: string) => {
      const res = await h.request(`/api/v1/extraction/jobs/${created.id}/export?format=${format}`, {
        headers: h.bearer(token),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-disposition")).toContain(`extraction-${created.id}`);
      return res;
    };
    const csv = Papa.parse<Record<string, string>>(await (await exported("csv")).text(), {
      header: true,
      skipEmptyLines: true,
    });
    expect(csv.data.map((row) => row.product)).toEqual(["Wrench", "Socket set", ""]);
    expect(csv.data[0]?.price).toBe("84");
    // The formula is defused: it arrives as text, never as a formula a spreadsheet would run.
    expect(csv.data[2]?.price?.startsWith("'=")).toBe(true);
    const json = (await (await exported("json")).json()) as Array<Record<string, unknown>>;
    expect(json.map((row) => row.product)).toEqual(["Wrench", "Socket set", null]);
    const XLSX = await import("xlsx");
    const book = XLSX.read(new Uint8Array(await (await exported("xlsx")).arrayBuffer()), { type: "array" });
    const sheet = book.Sheets[book.SheetNames[0] ?? ""];
    const cells = XLSX.utils.sheet_to_json<Record<string, unknown>>(sheet ?? {}, { defval: "" });
    expect(cells.map((row) => row.product)).toEqual(["Wrench", "Socket set", ""]);
    expect(cells[1]?.price).toBe(39.9);
  });
});

describe("running jobs safely", () => {
  it("produces one result when the queue delivers the same message twice", async () => {
    await register({ "/dup": `<html><body>${table([["Once", "$1"]])}</body></html>` });
    const created = await started({
      source_type: "web_single",
      source_url: `${base}/dup`,
      schema: { columns: productColumns },
    });
    await h.runJobs({ duplicate: true });
    expect(await job(created.id)).toMatchObject({ status: "completed", rows_extracted: 1, attempts: 1 });
  });

  it("cancels a queued job, which then writes nothing", async () => {
    await register({ "/cancel": `<html><body>${table([["Never", "$1"]])}</body></html>` });
    const created = await started({
      source_type: "web_single",
      source_url: `${base}/cancel`,
      schema: { columns: productColumns },
    });
    const res = await h.request(`/api/v1/extraction/jobs/${created.id}/cancel`, {
      method: "POST",
      headers: h.bearer(token),
    });
    expect(res.status).toBe(200);
    await h.runJobs();
    expect(await job(created.id)).toMatchObject({ status: "cancelled", rows_extracted: 0 });
    const noRows = await h.request(`/api/v1/extraction/jobs/${created.id}/rows`, { headers: h.bearer(token) });
    expect((await readProblem(noRows)).status).toBe(409);
  });

  it("answers the first job again for a repeated Idempotency-Key", async () => {
    await register({ "/once": `<html><body>${table([["Key", "$1"]])}</body></html>` });
    const body = { source_type: "web_single", source_url: `${base}/once`, schema: { columns: productColumns } };
    const first = await create(body, { "idempotency-key": "import-42" });
    const second = await create(body, { "idempotency-key": "import-42" });
    expect([first.status, second.status]).toEqual([202, 200]);
    expect(((await second.json()) as Job).id).toBe(((await first.json()) as Job).id);
  });
});

describe("schema detection", () => {
  const detect = (body: Record<string, unknown>) =>
    h.request("/api/v1/extraction/schema/detect", h.json("POST", body, h.bearer(token)));

  it("types a CSV's columns by code, with a confidence from how many values agree", async () => {
    const calls = (await fakes.groqCalls()).length;
    const lines = ["id,price,listed,active,contact,status"];
    for (let i = 1; i <= 30; i++) {
      lines.push(
        `${i},$${i}.25,2024-03-${String((i % 28) + 1).padStart(2, "0")},${i % 2 ? "yes" : "no"},user${i}@example.com,${["new", "used", "refurbished"][i % 3]}`,
      );
    }
    lines.push("n/a,$1.00,2024-04-01,yes,x@example.com,new");
    const res = await detect({ text: lines.join("\n") });
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as {
      detected_content_type: string;
      method: string;
      confidence: number;
      suggested_schema: { columns: Array<{ name: string; type: string; values?: string[] }> };
      sample_data: Array<Record<string, unknown>>;
    };
    expect(body).toMatchObject({ detected_content_type: "tabular", method: "code" });
    expect(Object.fromEntries(body.suggested_schema.columns.map((column) => [column.name, column.type]))).toEqual({
      id: "integer",
      price: "currency",
      listed: "date",
      active: "boolean",
      contact: "email",
      status: "enum",
    });
    expect(body.confidence).toBeLessThan(1);
    expect(body.sample_data[0]).toMatchObject({ id: 1, price: 1.25, active: true });
    expect((await fakes.groqCalls()).length).toBe(calls);
  });

  it("asks the fast model about prose, and checks its sample against its own schema", async () => {
    await fakes.scriptGroq({
      reply: {
        detected_content_type: "job_listing",
        columns: [
          { name: "title", type: "string", required: true },
          { name: "salary", type: "currency" },
        ],
        sample_data: [
          { title: "Welder", salary: "$40,000" },
          { title: "", salary: "lots" },
        ],
      },
    });
    const res = await detect({ text: "We are hiring a welder in Porto for $40,000 a year, and a night porter." });
    const body = (await res.json()) as { method: string; confidence: number; sample_data: unknown[] };
    expect(body).toMatchObject({ method: "model", confidence: 0.5, sample_data: [{ title: "Welder", salary: 40000 }] });
  });
});

describe("through Firecrawl, and across users", () => {
  it("crawls through Firecrawl when it is configured, polling until the crawl is done", async () => {
    const firecrawl = `${inject("fakeFirecrawlUrl")}/s/${crypto.randomUUID()}`;
    // Firecrawl crawls below the start page's path, as the real service does without crawlEntireDomain.
    const start = `${base}/fc`;
    const page = (name: string, price: string, links = "") =>
      `<html><body>${table([[name, price]])}${links}</body></html>`;
    const site = await fetch(`${firecrawl}/__fake/site`, {
      method: "POST",
      body: JSON.stringify({
        pages: {
          [start]: page("Kettle", "$20", `<a href="${base}/fc/two">two</a>`),
          [`${base}/fc/two`]: page("Toaster", "$30"),
        },
      }),
    });
    expect(site.status).toBe(204);
    const created = await started({
      source_type: "web_crawl",
      source_url: start,
      crawl: { max_pages: 5, max_depth: 2 },
      schema: { columns: productColumns },
    });
    await h.runJobs({ env: { FIRECRAWL_API_KEY: "fc-test", FIRECRAWL_API_URL: firecrawl } });
    expect(await job(created.id)).toMatchObject({ status: "completed", rows_extracted: 2, model_calls: 0 });
    // Firecrawl read the pages; APE's own reader sent nothing to the site.
    const direct = (await (await fetch(`${base}/__fake/requests`)).json()) as Array<{ path: string }>;
    expect(direct.some((request) => request.path.startsWith("/fc/"))).toBe(false);
  });

  it("never lets another user start a job on, or detect a schema from, someone's document", async () => {
    const form = new FormData();
    form.set("file", new File([utf8("a,b\n1,2\n")], "mine.csv", { type: "text/csv" }));
    const mine = (
      (await (
        await h.request("/api/v1/documents", { method: "POST", headers: h.bearer(token), body: form })
      ).json()) as { id: string }
    ).id;
    await h.runJobs();
    const other = (await h.signUp()).tokens.access_token;
    const asOther = (path: string, body: unknown) => h.request(path, h.json("POST", body, h.bearer(other)));
    const job = await asOther("/api/v1/extraction/jobs", {
      source_type: "document",
      document_id: mine,
      schema: { columns: [{ name: "a", type: "string" }] },
    });
    expect((await readProblem(job)).status).toBe(404);
    expect((await readProblem(await asOther("/api/v1/extraction/schema/detect", { document_id: mine }))).status).toBe(
      404,
    );
  });
});

describe("poison messages", () => {
  it("marks the job failed when its message lands in the dead-letter queue", async () => {
    await register({ "/poison": `<html><body>${table([["Poison", "$1"]])}</body></html>` });
    const created = await started({
      source_type: "web_single",
      source_url: `${base}/poison`,
      schema: { columns: productColumns },
    });
    // The queue gave up on the message (every delivery crashed) and moved it to the dead-letter queue.
    const ctx = createExecutionContext();
    const batch = createMessageBatch("ape-extraction-dlq", [
      { id: "dead-1", timestamp: Date.now(), attempts: 1, body: { v: 1, kind: "extraction.run", jobId: created.id } },
    ]);
    await handleQueueBatch(batch, h.env);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["dead-1"]);
    expect(await job(created.id)).toMatchObject({
      status: "failed",
      error: { code: "DEAD_LETTERED", retryable: true },
    });
  });
});

describe("what a job in the wrong state refuses", () => {
  it("answers 409 problems for rows and exports before completion, and for cancel or retry out of turn", async () => {
    await register({ "/states": `<html><body>${table([["State", "$1"]])}</body></html>` });
    const created = await started({
      source_type: "web_single",
      source_url: `${base}/states`,
      schema: { columns: productColumns },
    });
    const call = (path: string, method = "GET") =>
      h.request(`/api/v1/extraction/jobs/${created.id}${path}`, { method, headers: h.bearer(token) });
    for (const path of ["/rows", "/export?format=csv"]) {
      const problem = await readProblem(await call(path));
      expect([problem.status, problem.contentType, problem.body.code], path).toEqual([
        409,
        "application/problem+json",
        "CONFLICT",
      ]);
    }
    // Pending: nothing to retry yet.
    expect((await readProblem(await call("/retry", "POST"))).body.code).toBe("CONFLICT");
    await h.runJobs();
    expect((await job(created.id)).status).toBe("completed");
    // Completed: nothing to cancel, nothing to retry.
    for (const action of ["/cancel", "/retry"]) {
      const problem = await readProblem(await call(action, "POST"));
      expect([problem.status, problem.body.code], action).toEqual([409, "CONFLICT"]);
    }
  });
});
