import { beforeAll, describe, expect, inject, it } from "vitest";
import { runScheduled } from "../../workers/scheduled.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { llmFakes } from "../helpers/llm-fakes.js";
import { utf8 } from "../helpers/test-files.js";

// Jobs as the platform runs them: one queue message does at most a slice of work (JOB_SLICE_SECONDS,
// JOB_SLICE_SUBREQUESTS), checkpoints, and queues the next. `JOB_SLICE_SECONDS=0` ends every slice after one
// unit of work (a crawl's results page, a batch of chunks, a research step, source or section), so these tests
// force many slices and check the result is the one a single slice gives. The real queue handler, Postgres,
// Redis and R2; Firecrawl, the model and the embeddings by their wire fakes.

type Job = {
  id: string;
  status: string;
  rows_extracted: number;
  attempts: number;
  progress: {
    stage: string;
    pages_fetched: number;
    slices: number;
    skipped_pages?: Array<{ url: string; reason: string; status?: number }>;
  };
  error: { code: string; message: string; retryable: boolean } | null;
};
type Rows = { items: Array<{ values: Record<string, unknown>; provenance: Record<string, unknown> }> };
type Doc = { id: string; status: string; chunks: number; attempts: number; error: unknown };
type Received = { route: string; query: Record<string, string> };

const sites = inject("fakeSitesUrl");
let h: Harness;
let fakes: ReturnType<typeof llmFakes>;
let token: string;
let base: string;

beforeAll(async () => {
  fakes = llmFakes();
  h = await createHarness({
    ...fakes.env(),
    LLM_PROVIDER_ORDER: "groq",
    EMBEDDING_MODEL: "openai/text-embedding-3-small",
    FETCH_ALLOW_HOSTS: new URL(sites).host,
    RATE_LIMIT_AUTH_PER_MINUTE: "1000000",
    RATE_LIMIT_DEFAULT_PER_MINUTE: "1000000",
    // Two runs of the same session ask the model the same things: each must reach the (scripted) model.
    LLM_CACHE_TTL_SECONDS: "0",
  });
  token = (await h.signUp()).tokens.access_token;
  base = `${sites}/s/${crypto.randomUUID()}`;
});

/** A Firecrawl scope of its own (its own request log) that sees `pages`, its crawls done after `polls` polls. */
const firecrawlWith = async (pages: Record<string, string>, polls = 1) => {
  const scope = `${inject("fakeFirecrawlUrl")}/s/${crypto.randomUUID()}`;
  expect((await fetch(`${scope}/__fake/site`, { method: "POST", body: JSON.stringify({ pages }) })).status).toBe(204);
  const scripted = await fetch(`${scope}/__fake/next`, {
    method: "POST",
    body: JSON.stringify({ path: "/v2/crawl", polls, times: 10 }),
  });
  expect(scripted.status).toBe(204);
  return {
    env: { FIRECRAWL_API_KEY: "fc-test", FIRECRAWL_API_URL: scope },
    crawlReads: async () =>
      ((await (await fetch(`${scope}/__fake/requests`)).json()) as Received[]).filter(
        (request) => request.route === "/v2/crawl/{id}",
      ),
  };
};

const started = async (body: Record<string, unknown>) => {
  const res = await h.request("/api/v1/extraction/jobs", h.json("POST", body, h.bearer(token)));
  expect(res.status, await res.clone().text()).toBe(202);
  return (await res.json()) as Job;
};
const job = async (id: string) =>
  (await (await h.request(`/api/v1/extraction/jobs/${id}`, { headers: h.bearer(token) })).json()) as Job;
const rows = async (id: string) =>
  (await (
    await h.request(`/api/v1/extraction/jobs/${id}/rows?limit=1000`, { headers: h.bearer(token) })
  ).json()) as Rows;

const columns = [
  { name: "product", type: "string", required: true },
  { name: "price", type: "currency", required: true },
];
const productPage = (name: string, price: string, links: string[] = []) =>
  `<html><body><table><tr><th>Product name</th><th>Unit price</th></tr><tr><td>${name}</td><td>${price}</td></tr></table>${links
    .map((link) => `<a href="${link}">${link}</a>`)
    .join("")}</body></html>`;

/** A shop of 30 pages: a start page linking to 29 product pages, one product on each. */
const shop = (root: string) => {
  const children = Array.from({ length: 29 }, (_, index) => `${root}/p${index + 1}`);
  return Object.fromEntries([
    [root, productPage("Catalogue kettle", "$10", children)],
    ...children.map((url, index) => [url, productPage(`Product ${index + 1}`, `$${20 + index}`)]),
  ]);
};

describe("a Firecrawl crawl in slices", () => {
  it("reads 30 finished pages with one request per results page, and ends with the rows of a one-slice run", async () => {
    const root = `${base}/shop`;
    const crawl = {
      source_type: "web_crawl",
      source_url: root,
      crawl: { max_pages: 30, max_depth: 1 },
      schema: { columns },
    };

    const onceFirecrawl = await firecrawlWith(shop(root));
    const once = await started(crawl);
    await h.runJobs({ env: onceFirecrawl.env });
    const slicedFirecrawl = await firecrawlWith(shop(root));
    const sliced = await started(crawl);
    await h.runJobs({ env: { ...slicedFirecrawl.env, JOB_SLICE_SECONDS: "0" }, maxRounds: 40 });

    const [onceJob, slicedJob] = [await job(once.id), await job(sliced.id)];
    expect(onceJob).toMatchObject({ status: "completed", rows_extracted: 30, progress: { slices: 1 } });
    expect(slicedJob).toMatchObject({ status: "completed", rows_extracted: 30, attempts: 1 });
    expect(slicedJob.progress.slices).toBeGreaterThanOrEqual(3);
    expect((await rows(sliced.id)).items).toEqual((await rows(once.id)).items);
    // Ten documents a results page: the status read, then skip=10 and skip=20, each once, however many slices.
    for (const firecrawl of [onceFirecrawl, slicedFirecrawl]) {
      expect((await firecrawl.crawlReads()).map((read) => read.query.skip ?? null)).toEqual([null, "10", "20"]);
    }
  });

  it("follows a crawl still scraping from its cursor across slices, never reading a document twice", async () => {
    const root = `${base}/slow`;
    const firecrawl = await firecrawlWith(shop(root), 3);
    const created = await started({
      source_type: "web_crawl",
      source_url: root,
      crawl: { max_pages: 30, max_depth: 1 },
      schema: { columns },
    });
    await h.runJobs({ env: { ...firecrawl.env, JOB_SLICE_SECONDS: "0" }, maxRounds: 40 });
    expect(await job(created.id)).toMatchObject({ status: "completed", rows_extracted: 30 });
    const reads = (await firecrawl.crawlReads()).map((read) => Number(read.query.skip ?? 0));
    // Reads only move forward: a cursor is read again only while the crawl has nothing new past it.
    expect([...reads].sort((a, b) => a - b)).toEqual(reads);
  });

  it("lists a crawled page that answered 404 in skipped_pages with its status", async () => {
    const root = `${base}/gaps`;
    const firecrawl = await firecrawlWith({
      [root]: productPage("Kettle", "$20", [`${root}/two`, `${root}/gone`]),
      [`${root}/two`]: productPage("Toaster", "$30"),
    });
    const created = await started({
      source_type: "web_crawl",
      source_url: root,
      crawl: { max_pages: 10, max_depth: 1 },
      schema: { columns },
    });
    await h.runJobs({ env: firecrawl.env });
    const done = await job(created.id);
    expect(done).toMatchObject({ status: "completed", rows_extracted: 2 });
    expect(done.progress.skipped_pages).toEqual([{ url: `${root}/gone`, reason: "HTTP 404", status: 404 }]);
  });
});

describe("a single page that is not there", () => {
  it("fails the job with SOURCE_UNAVAILABLE naming the status, through Firecrawl and through APE's reader", async () => {
    const url = `${base}/no-such-page`;
    const firecrawl = await firecrawlWith({ [`${base}/other`]: productPage("Kettle", "$20") });
    const viaFirecrawl = await started({ source_type: "web_single", source_url: url, schema: { columns } });
    await h.runJobs({ env: firecrawl.env });
    const viaReader = await started({ source_type: "web_single", source_url: url, schema: { columns } });
    await h.runJobs();
    for (const id of [viaFirecrawl.id, viaReader.id]) {
      const failed = await job(id);
      expect(failed).toMatchObject({ status: "failed", error: { code: "SOURCE_UNAVAILABLE", retryable: false } });
      expect(failed.error?.message).toContain("404");
    }
  });
});

/** A Markdown file of `sections` sections of about 1,100 characters, so each is a chunk of its own. */
const longMarkdown = (sections: number, seed: string) =>
  Array.from(
    { length: sections },
    (_, index) =>
      `## Part ${index + 1}\n\n${`The ${seed} ledger entry ${index + 1} records a shipment of valves and gaskets. `.repeat(14)}`,
  ).join("\n\n");

const upload = async (text: string, name: string) => {
  const form = new FormData();
  form.set("file", new File([utf8(text)], name, { type: "text/markdown" }));
  const res = await h.request("/api/v1/documents", { method: "POST", headers: h.bearer(token), body: form });
  expect(res.status, await res.clone().text()).toBe(202);
  return (await res.json()) as Doc;
};
const doc = async (id: string) =>
  (await (await h.request(`/api/v1/documents/${id}`, { headers: h.bearer(token) })).json()) as Doc;
const chunksOf = (id: string) =>
  h.withDb(async (db) => {
    const result = await db.execute(
      `select ordinal, page, char_start, char_end, heading, content from document_chunks where document_id = '${id}' order by ordinal`,
    );
    return result.rows;
  });

describe("a document ingestion in slices", () => {
  it("ends with exactly the chunks of a one-slice run, its embeddings a batch a slice", async () => {
    const text = longMarkdown(150, "harbour");
    const once = await upload(text, "once.md");
    await h.runJobs();
    const sliced = await upload(text, "sliced.md");
    await h.runJobs({ env: { JOB_SLICE_SECONDS: "0" }, maxRounds: 40 });
    const [onceDoc, slicedDoc] = [await doc(once.id), await doc(sliced.id)];
    expect(onceDoc).toMatchObject({ status: "ready", attempts: 1 });
    expect(slicedDoc).toMatchObject({ status: "ready", attempts: 1, chunks: onceDoc.chunks });
    expect(onceDoc.chunks).toBeGreaterThan(128);
    // Extraction, then three batches of 64 embeddings: four slices, each its own queue message.
    const deliveries = h.queues
      .sent()
      .filter((message) => (message.body as { documentId?: string }).documentId === sliced.id);
    expect(deliveries.length).toBeGreaterThanOrEqual(3);
    expect(await chunksOf(sliced.id)).toEqual(await chunksOf(once.id));
  });

  it("recovers a slice whose message was lost: the sweep queues it again", async () => {
    const text = longMarkdown(70, "quarry");
    const lost = await upload(text, "lost.md");
    // The first slice runs, but the message for the next one never reaches the queue.
    h.queues.refuseSends(true);
    try {
      await h.runJobs({ env: { JOB_SLICE_SECONDS: "0" }, onlyOnce: true });
    } finally {
      h.queues.refuseSends(false);
    }
    expect(h.queues.waiting()).toEqual([]);
    expect(await doc(lost.id)).toMatchObject({ status: "pending" });
    // Nothing happens until its next message is overdue; then the cron's sweep queues it again.
    await runScheduled(h.env);
    expect(h.queues.waiting()).toEqual([]);
    await h.withDb((db) =>
      db.execute(`update documents set lease_until = now() - interval '5 minutes' where id = '${lost.id}'`),
    );
    await runScheduled(h.env);
    expect(h.queues.waiting().map((message) => message.body)).toEqual([
      { v: 1, kind: "document.ingest", documentId: lost.id },
    ]);
    await h.runJobs({ env: { JOB_SLICE_SECONDS: "0" }, maxRounds: 40 });
    expect(await doc(lost.id)).toMatchObject({ status: "ready", attempts: 1 });
    expect((await chunksOf(lost.id)).length).toBe(70);
  });
});

// Research: three short pages, one per sub-question, served by the Firecrawl fake (search and scrape).
const CORPUS: Record<string, { title: string; text: string }> = {
  "http://physics.slice.test/boiling": {
    title: "Boiling point of water",
    text: "At sea level, pure water boils at 100 degrees Celsius. The boiling point is where vapour pressure equals the pressure of the air around the water.",
  },
  "http://weather.slice.test/pressure": {
    title: "Air pressure and altitude",
    text: "Atmospheric pressure falls as altitude rises: at 3000 metres it is about 70 percent of the pressure at sea level, so water boils near 90 degrees Celsius there.",
  },
  "http://kitchen.slice.test/pasta": {
    title: "Cooking pasta in the mountains",
    text: "Cooking pasta in the mountains takes longer, because the water is cooler when it boils. Cooks add a few minutes to the cooking time above 2000 metres.",
  },
};
const QUESTIONS = [
  "boiling point of water at sea level",
  "atmospheric pressure at altitude",
  "cooking pasta in the mountains",
];
const ANSWERS = [
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

type Session = {
  id: string;
  status: string;
  report: string | null;
  sources: Array<{ url: string; quote: string; accessed_at: string }>;
  usage: { model_calls: number; searches: number; scrapes: number };
  attempts: number;
  progress: { stage: string; slices: number };
  error: unknown;
};

describe("a research session in slices", () => {
  let firecrawlEnv: Record<string, string>;

  beforeAll(async () => {
    const scope = `${inject("fakeFirecrawlUrl")}/s/${crypto.randomUUID()}`;
    const pages = Object.fromEntries(
      Object.entries(CORPUS).map(([url, page]) => [
        url,
        `<html><head><title>${page.title}</title></head><body><p>${page.text}</p></body></html>`,
      ]),
    );
    expect((await fetch(`${scope}/__fake/site`, { method: "POST", body: JSON.stringify({ pages }) })).status).toBe(204);
    firecrawlEnv = { FIRECRAWL_API_KEY: "fc-test", FIRECRAWL_API_URL: scope };
  });

  const run = async (depth: string, env: Record<string, string>) => {
    for (const reply of ANSWERS) await fakes.scriptGroq({ reply });
    const res = await h.request(
      "/api/v1/research/sessions",
      h.json(
        "POST",
        { query: "How does altitude change the boiling point of water?", depth, fresh: true },
        h.bearer(token),
      ),
      firecrawlEnv,
    );
    expect(res.status, await res.clone().text()).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await h.runJobs({ env: { ...firecrawlEnv, ...env }, maxRounds: 60 });
    return (await (await h.request(`/api/v1/research/sessions/${id}`, { headers: h.bearer(token) })).json()) as Session;
  };
  /** A report without the days its sources were read on. */
  const undated = (report: string | null) => (report ?? "").replace(/\d{4}-\d{2}-\d{2}/g, "YYYY-MM-DD");

  it("ends with exactly the report of a one-slice run", async () => {
    const once = await run("standard", {});
    const sliced = await run("standard", { JOB_SLICE_SECONDS: "0" });
    expect(once).toMatchObject({ status: "completed", progress: { slices: 1 } });
    expect(sliced).toMatchObject({ status: "completed", attempts: 1, error: null });
    expect(sliced.progress.slices).toBeGreaterThanOrEqual(3);
    expect(sliced.report).toContain("[1]");
    expect(undated(sliced.report)).toBe(undated(once.report));
    expect(sliced.sources.map(({ url, quote }) => ({ url, quote }))).toEqual(
      once.sources.map(({ url, quote }) => ({ url, quote })),
    );
    expect(sliced.usage).toMatchObject({ model_calls: once.usage.model_calls, searches: 3, scrapes: 3 });
  });

  it("completes a deep session that spans many slices of a few requests each", async () => {
    const deep = await run("deep", { JOB_SLICE_SUBREQUESTS: "4" });
    expect(deep).toMatchObject({ status: "completed", attempts: 1, progress: { stage: "done" } });
    expect(deep.progress.slices).toBeGreaterThanOrEqual(3);
    expect(deep.sources.map((source) => source.url).sort()).toEqual(Object.keys(CORPUS).sort());
  });
});
