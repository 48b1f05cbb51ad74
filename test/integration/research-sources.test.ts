import Papa from "papaparse";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { createHarness, readProblem } from "../helpers/harness.js";
import { llmFakes } from "../helpers/llm-fakes.js";
import { makeTextPdf, utf8 } from "../helpers/test-files.js";

// Where research looks (`sources`): the user's own documents, the web through Firecrawl or SearXNG, or both;
// and research without any web search provider. The model is the OpenAI-compatible fake with scripted answers;
// Firecrawl, SearXNG and the sites SearXNG finds are wire fakes whose request logs show what was called.

type Source = {
  n: number;
  kind: "web" | "document";
  url: string;
  title: string;
  quote: string;
  document_id?: string;
  filename?: string;
  page?: number;
};
type Session = {
  id: string;
  status: string;
  source_kind: string;
  document_ids: string[] | null;
  report: string | null;
  summary: string | null;
  sources: Source[];
  citation_check: { citations_kept: number; citations_removed: number };
  usage: { searches: number; scrapes: number };
  error: { code: string; message: string; retryable: boolean } | null;
};

const normal = (text: string) => text.replace(/\s+/g, " ").trim().toLowerCase();

type Env = Record<string, unknown>;

/** A signed-up user of a fresh harness, with helpers to upload, start and read sessions. */
const world = async (env: Env) => {
  const fakes = llmFakes();
  const h = await createHarness({
    ...fakes.env(),
    LLM_PROVIDER_ORDER: "groq",
    RATE_LIMIT_AUTH_PER_MINUTE: "1000000",
    ...env,
  });
  const token = (await h.signUp()).tokens.access_token;
  const upload = async (bytes: Uint8Array, name: string, as = token) => {
    const body = new FormData();
    body.set("file", new File([bytes], name));
    const res = await h.request("/api/v1/documents", { method: "POST", headers: h.bearer(as), body });
    expect(res.status, await res.clone().text()).toBe(202);
    return ((await res.json()) as { id: string }).id;
  };
  const post = (body: Record<string, unknown>, as = token) =>
    h.request("/api/v1/research/sessions", h.json("POST", body, h.bearer(as)));
  const run = async (body: Record<string, unknown>, ...replies: object[]) => {
    for (const reply of replies) await fakes.scriptGroq({ reply });
    const res = await post(body);
    expect(res.status, await res.clone().text()).toBe(202);
    const { id } = (await res.json()) as Session;
    await h.runJobs();
    return (await (await h.request(`/api/v1/research/sessions/${id}`, { headers: h.bearer(token) })).json()) as Session;
  };
  /** Each page's stored text, as the documents API shows it. */
  const pageText = async (documentId: string, page: number) => {
    const res = await h.request(`/api/v1/documents/${documentId}/text?from_page=${page}&limit=1`, {
      headers: h.bearer(token),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { pages: Array<{ page: number; text: string }> };
    return body.pages.find((entry) => entry.page === page)?.text ?? "";
  };
  return { h, fakes, token, upload, post, run, pageText };
};

/** Every document citation names a page of that document whose stored text holds its quote. */
const expectDocumentCitationsHold = async (
  done: Session,
  pageText: (documentId: string, page: number) => Promise<string>,
) => {
  for (const source of done.sources.filter((entry) => entry.kind === "document")) {
    expect(source.url).toBe(`document:${source.document_id}#page=${source.page}`);
    expect(source.title).toBe(`${source.filename}, page ${source.page}`);
    expect(normal(await pageText(source.document_id ?? "", source.page ?? 0))).toContain(normal(source.quote));
  }
  const cited = new Set([...(done.report ?? "").matchAll(/\[(\d+)\]/g)].map((match) => Number(match[1])));
  expect([...cited].sort()).toEqual(done.sources.map((source) => source.n));
};

const LEASE = [
  ["Lease agreement between Harbour Lofts and the tenant"],
  ["Section 9. The tenant may end the lease early by paying a termination fee of two months rent."],
];
const HANDBOOK =
  "Employees accrue twenty five vacation days each calendar year, and unused days carry over until March.";
const MENU = "The canteen serves lentil soup on Mondays and fish stew on Fridays.";

const Q = {
  lease: "termination fee for ending the lease early",
  vacation: "vacation days employees accrue yearly",
  canteen: "canteen soup on Mondays",
};

const docPlan = { sub_questions: [Q.lease, Q.vacation, Q.canteen] };
const docSections = [
  {
    text: "Ending the lease early costs a termination fee of two months rent [1].",
    quotes: [{ n: 1, quote: "paying a termination fee of two months rent" }],
  },
  {
    text: "Employees accrue twenty five vacation days a year [1].",
    quotes: [{ n: 1, quote: "accrue twenty five vacation days each calendar year" }],
  },
  {
    text: "Lentil soup is served on Mondays [1].",
    quotes: [{ n: 1, quote: "serves lentil soup on Mondays" }],
  },
];
const docSummary = {
  summary:
    "Leaving early costs two months rent [1], staff get twenty five vacation days [2], and Monday is soup day [3].",
};

describe("research with Firecrawl configured", () => {
  let w: Awaited<ReturnType<typeof world>>;
  let firecrawl: string;
  let docs: { lease: string; handbook: string; menu: string };
  const WEB_PAGE = "http://altitude.site.test/boiling";
  const WEB_TEXT =
    "At 3000 metres atmospheric pressure is lower, so water boils near 90 degrees Celsius instead of 100.";

  const firecrawlRequests = async () =>
    (await (await fetch(`${firecrawl}/__fake/requests`)).json()) as Array<{ route: string }>;

  beforeAll(async () => {
    firecrawl = `${inject("fakeFirecrawlUrl")}/s/${crypto.randomUUID()}`;
    const site = await fetch(`${firecrawl}/__fake/site`, {
      method: "POST",
      body: JSON.stringify({
        pages: {
          [WEB_PAGE]: `<html><head><title>Boiling at altitude</title></head><body><p>${WEB_TEXT}</p></body></html>`,
        },
      }),
    });
    expect(site.status).toBe(204);
    w = await world({ FIRECRAWL_API_KEY: "fc-test", FIRECRAWL_API_URL: firecrawl });
    docs = {
      lease: await w.upload(await makeTextPdf(LEASE), "lease.pdf"),
      handbook: await w.upload(utf8(HANDBOOK), "handbook.txt"),
      menu: await w.upload(utf8(MENU), "menu.txt"),
    };
    await w.h.runJobs();
  });

  it("researches only the user's documents, citing each by document, page and a quote of that page, calling no search provider", async () => {
    const before = (await firecrawlRequests()).length;
    const done = await w.run(
      { query: "What do my lease, handbook and canteen menu say?", sources: "documents" },
      docPlan,
      ...docSections,
      docSummary,
    );
    expect(done).toMatchObject({ status: "completed", source_kind: "documents", document_ids: null, error: null });
    expect(done.sources.map((source) => [source.kind, source.document_id, source.page])).toEqual([
      ["document", docs.lease, 2],
      ["document", docs.handbook, 1],
      ["document", docs.menu, 1],
    ]);
    expect(done.sources.map((source) => source.filename)).toEqual(["lease.pdf", "handbook.txt", "menu.txt"]);
    expect(done.citation_check.citations_removed).toBe(0);
    await expectDocumentCitationsHold(done, w.pageText);
    expect(done.report).toContain(`lease.pdf, page 2 (document ${docs.lease})`);
    expect(done.usage).toMatchObject({ searches: 0, scrapes: 0 });
    expect((await firecrawlRequests()).length).toBe(before);
    // The plan was asked for as research over the user's documents, not the web.
    const calls = (await w.fakes.groqCalls()) as Array<{ body?: { messages?: Array<{ content: string }> } }>;
    const plans = calls
      .flatMap((call) => call.body?.messages?.[0]?.content ?? [])
      .filter((system) => system.startsWith("You plan research"));
    expect(plans.at(-1)).toContain("You plan research over the user's own documents.");
  });

  it("keeps to document_ids, and drops a citation whose quote is not on the cited page", async () => {
    const done = await w.run(
      { query: "What does the lease cost to leave?", sources: "documents", depth: "quick", document_ids: [docs.lease] },
      { sub_questions: [Q.lease, Q.canteen] },
      {
        // Passage 1 is page 2 (the termination clause), passage 2 page 1; the quote given for [1] is on
        // neither page, so its claim is dropped, while [2]'s quote is on page 1.
        text: "The lease is between Harbour Lofts and the tenant [2]. Leaving is free of charge [1].",
        quotes: [
          { n: 1, quote: "the tenant may leave at no cost" },
          { n: 2, quote: "Lease agreement between Harbour Lofts" },
        ],
      },
      // The canteen question finds no passage of the lease, so no model call writes its section.
      { summary: "Leaving is between Harbour Lofts and the tenant [1]." },
    );
    expect(done).toMatchObject({ status: "completed", document_ids: [docs.lease] });
    // Only the lease was searched: the canteen question found nothing, though the menu answers it.
    expect(done.sources.map((source) => [source.document_id, source.page])).toEqual([[docs.lease, 1]]);
    await expectDocumentCitationsHold(done, w.pageText);
    expect(done.citation_check.citations_removed).toBe(1);
    expect(done.report).not.toContain("free of charge");
  });

  it("merges document pages and web pages in one numbered source list with `both`", async () => {
    const done = await w.run(
      { query: "Lease termination and boiling water at altitude", sources: "both", depth: "quick" },
      { sub_questions: [Q.lease, "water boils at altitude pressure"] },
      docSections[0] as object,
      {
        text: "At 3000 metres water boils near 90 degrees Celsius [1].",
        quotes: [{ n: 1, quote: "water boils near 90 degrees Celsius" }],
      },
      { summary: "Leaving costs two months rent [1]; water boils near 90 degrees up high [2]." },
    );
    expect(done).toMatchObject({ status: "completed", source_kind: "both" });
    expect(done.sources.map((source) => [source.n, source.kind, source.url])).toEqual([
      [1, "document", `document:${docs.lease}#page=2`],
      [2, "web", WEB_PAGE],
    ]);
    expect(normal(WEB_TEXT)).toContain(normal(done.sources[1]?.quote ?? "?"));
    await expectDocumentCitationsHold(done, w.pageText);
    expect(done.report).toContain(`[Boiling at altitude](${WEB_PAGE})`);
    expect(done.usage.searches).toBe(2);
    // The export lists both kinds.
    const exported = await w.h.request(`/api/v1/research/sessions/${done.id}/export?format=json`, {
      headers: w.h.bearer(w.token),
    });
    const json = (await exported.json()) as { source_kind: string; sources: Source[] };
    expect(json.source_kind).toBe("both");
    expect(json.sources.map((source) => source.kind)).toEqual(["document", "web"]);
    const csv = await w.h.request(`/api/v1/research/sessions/${done.id}/export?format=csv`, {
      headers: w.h.bearer(w.token),
    });
    const rows = Papa.parse<Record<string, string>>(await csv.text(), { header: true, skipEmptyLines: true }).data;
    expect(rows.map((row) => [row.kind, row.document_id, row.page])).toEqual([
      ["document", docs.lease, "2"],
      ["web", "", ""],
    ]);
  });

  it("answers 404 for another user's document_ids, and 400 for document_ids with web research", async () => {
    const other = (await w.h.signUp()).tokens.access_token;
    const theirs = await w.upload(utf8(MENU), "their-menu.txt", other);
    for (const ids of [[theirs], [docs.menu, theirs]]) {
      const res = await w.post({ query: "What is on the menu?", sources: "documents", document_ids: ids });
      expect(res.status).toBe(404);
      expect((await readProblem(res)).body.code).toBe("NOT_FOUND");
    }
    // The owner's own id is theirs to use.
    const mine = await w.post(
      { query: "What is on the menu?", sources: "documents", document_ids: [docs.menu] },
      w.token,
    );
    expect(mine.status).toBe(202);
    const web = await w.post({ query: "What is on the menu?", sources: "web", document_ids: [docs.menu] });
    expect(web.status).toBe(400);
    expect((await readProblem(web)).body).toMatchObject({ code: "VALIDATION_FAILED" });
  });
});

describe("web research through SearXNG", () => {
  let w: Awaited<ReturnType<typeof world>>;
  let searxng: string;
  let pages: string;
  const sites = inject("fakeSitesUrl");

  const searches = async () =>
    (await (await fetch(`${searxng}/__fake/requests`)).json()) as Array<{ q: string; format: string }>;

  beforeAll(async () => {
    const scope = crypto.randomUUID();
    searxng = `${inject("fakeSearxngUrl")}/s/${scope}`;
    pages = `${sites}/s/${scope}`;
    const registered = await fetch(`${pages}/__fake/pages`, {
      method: "POST",
      body: JSON.stringify({
        "/boiling": {
          body: "<html><head><title>Boiling point</title></head><body><p>At sea level, pure water boils at 100 degrees Celsius.</p></body></html>",
          type: "text/html; charset=utf-8",
        },
        "/pressure": {
          body: "<html><head><title>Pressure</title></head><body><p>Air pressure falls with altitude, so at 3000 metres water boils near 90 degrees Celsius.</p></body></html>",
          type: "text/html; charset=utf-8",
        },
      }),
    });
    expect(registered.status).toBe(204);
    const indexed = await fetch(`${searxng}/__fake/index`, {
      method: "POST",
      body: JSON.stringify({
        results: [
          { url: `${pages}/boiling`, title: "Boiling point", content: "water boils at sea level" },
          { url: `${pages}/pressure`, title: "Pressure", content: "air pressure altitude" },
        ],
      }),
    });
    expect(indexed.status).toBe(204);
    // No Firecrawl: SearXNG searches, and the pages are read with APE's own safe reader.
    w = await world({ SEARXNG_URL: searxng, FETCH_ALLOW_HOSTS: new URL(sites).host });
  });

  it("searches SearXNG's JSON API and reads what it finds with the safe reader", async () => {
    const done = await w.run(
      { query: "How does altitude change boiling?", depth: "quick" },
      { sub_questions: ["boiling at sea level", "pressure at altitude"] },
      {
        text: "Water boils at 100 degrees Celsius at sea level [1].",
        quotes: [{ n: 1, quote: "pure water boils at 100 degrees Celsius" }],
      },
      {
        text: "At 3000 metres it boils near 90 degrees [1].",
        quotes: [{ n: 1, quote: "water boils near 90 degrees Celsius" }],
      },
      { summary: "100 degrees at sea level [1], about 90 at 3000 metres [2]." },
    );
    expect(done).toMatchObject({ status: "completed", source_kind: "web", error: null });
    expect(done.sources.map((source) => [source.kind, source.url])).toEqual([
      ["web", `${pages}/boiling`],
      ["web", `${pages}/pressure`],
    ]);
    expect(done.usage).toMatchObject({ searches: 2, scrapes: 0 });
    const asked = await searches();
    expect(asked.map((search) => [search.q, search.format])).toEqual([
      ["boiling at sea level", "json"],
      ["pressure at altitude", "json"],
    ]);
    const fetched = (await (await fetch(`${pages}/__fake/requests`)).json()) as Array<{ path: string }>;
    expect(fetched.map((request) => request.path)).toEqual(expect.arrayContaining(["/boiling", "/pressure"]));
  });

  it("writes an honest empty report when SearXNG finds nothing", async () => {
    const done = await w.run(
      { query: "Zebra migration routes", depth: "quick", fresh: true },
      { sub_questions: ["zebra herds", "migration corridors"] },
    );
    expect(done).toMatchObject({ status: "completed", sources: [] });
    expect(done.summary).toBe("No source that was read answers this question.");
  });

  it("fails the session, saying why, when SearXNG refuses the search", async () => {
    await fetch(`${searxng}/__fake/next`, { method: "POST", body: JSON.stringify({ status: 403, times: 1 }) });
    const done = await w.run(
      { query: "Why is the sky blue?", depth: "quick", fresh: true },
      { sub_questions: ["scattering of light", "colour of the sky"] },
    );
    expect(done.status).toBe("failed");
    expect(done.error).toMatchObject({ code: "SEARXNG_FAILED", retryable: false });
    expect(done.error?.message).toContain("HTTP 403");
  });

  it("does not search SearXNG for research over documents", async () => {
    const id = await w.upload(utf8(HANDBOOK), "handbook.txt");
    await w.h.runJobs();
    const before = (await searches()).length;
    const done = await w.run(
      { query: "How many vacation days?", sources: "documents", depth: "quick" },
      { sub_questions: [Q.vacation, "carry over of unused days"] },
      docSections[1] as object,
      {
        text: "Unused days carry over until March [1].",
        quotes: [{ n: 1, quote: "unused days carry over until March" }],
      },
      { summary: "Twenty five days [1]." },
    );
    expect(done).toMatchObject({ status: "completed" });
    expect(done.sources.map((source) => source.document_id)).toEqual([id]);
    await expectDocumentCitationsHold(done, w.pageText);
    expect((await searches()).length).toBe(before);
  });
});

describe("research without any web search provider", () => {
  let w: Awaited<ReturnType<typeof world>>;

  beforeAll(async () => {
    w = await world({});
  });

  it("answers 503 naming the settings for web research, and estimates documents research by default", async () => {
    for (const sources of ["web", "both"]) {
      const res = await w.post({ query: "How does altitude change boiling?", sources });
      expect(res.status).toBe(503);
      const problem = await readProblem(res);
      expect(problem.body.code).toBe("SEARCH_NOT_CONFIGURED");
      expect(problem.body.detail).toContain("FIRECRAWL_API_KEY");
      expect(problem.body.detail).toContain("SEARXNG_URL");
    }
    const estimate = await w.h.request(
      "/api/v1/research/sessions/estimate",
      w.h.json("POST", { query: "What does my menu say?" }, w.h.bearer(w.token)),
    );
    expect(await estimate.json()).toMatchObject({ sources: "documents", searches: 0, scrapes: 0 });
  });

  it("researches the user's documents, the default without a provider", async () => {
    const menu = await w.upload(utf8(MENU), "menu.txt");
    await w.h.runJobs();
    const done = await w.run(
      { query: "What does the canteen serve?", depth: "quick" },
      { sub_questions: [Q.canteen, "fish stew on Fridays"] },
      docSections[2] as object,
      { text: "Fish stew is served on Fridays [1].", quotes: [{ n: 1, quote: "fish stew on Fridays" }] },
      { summary: "Soup on Mondays [1]." },
    );
    expect(done).toMatchObject({ status: "completed", source_kind: "documents" });
    expect(done.sources.map((source) => [source.kind, source.document_id])).toEqual([["document", menu]]);
    await expectDocumentCitationsHold(done, w.pageText);
  });
});
