import Papa from "papaparse";
import { Webhook } from "standardwebhooks";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { createHarness, type Harness, readProblem } from "../helpers/harness.js";
import { llmFakes } from "../helpers/llm-fakes.js";
import { readEvents } from "../helpers/sse-events.js";

// Research sessions as a user runs them: a small corpus of local pages served by the Firecrawl wire fake
// (search and scrape), the model played by the OpenAI-compatible fake with scripted answers, and the real
// queue consumer, Postgres, Redis and R2.

type Source = { n: number; url: string; title: string; quote: string; accessed_at: string };
type Session = {
  id: string;
  status: string;
  query: string;
  sub_questions: string[];
  progress: { stage: string; sources_found: number; sources_read: number; sources_skipped: number; percent: number };
  summary: string | null;
  report: string | null;
  sources: Source[];
  skipped_sources: Array<{ url: string; reason: string }>;
  citation_check: {
    citations_kept: number;
    citations_removed: number;
    flagged: Array<{ claim: string; reason: string }>;
  };
  usage: { model_calls: number; tokens_input: number; tokens_output: number; searches: number; scrapes: number };
  stopped_early: string | null;
  cached_from: string | null;
  document_id: string | null;
  attempts: number;
  error: { code: string } | null;
};

let h: Harness;
let fakes: ReturnType<typeof llmFakes>;
let firecrawl: string;
let token: string;

// The corpus: one short page per sub-question, so each sub-question's best passage is its page; a page that
// search finds by its title but that has no text to read; and a page on a host the sessions exclude.
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
  "http://kitchen.site.test/empty": { title: "Boiling pasta water notes", text: "" },
  "http://spam.site.test/boiling": {
    title: "Boiling water secrets",
    text: "Boiling water at sea level pressure altitude pasta cooking: click here for miracles.",
  },
};
const URLS = {
  physics: "http://physics.site.test/boiling",
  weather: "http://weather.site.test/pressure",
  kitchen: "http://kitchen.site.test/pasta",
  empty: "http://kitchen.site.test/empty",
  spam: "http://spam.site.test/boiling",
};

const QUESTIONS = [
  "boiling point of water at sea level",
  "atmospheric pressure at altitude",
  "cooking pasta in the mountains",
];

const html = ({ title, text }: { title: string; text: string }) =>
  `<html><head><title>${title}</title></head><body>${text ? `<p>${text}</p>` : ""}</body></html>`;

/** The model's answers for one standard session, in the order the pipeline asks. */
const plan = { sub_questions: QUESTIONS };
const section1 = {
  text: "At sea level, pure water boils at 100 degrees Celsius [1].",
  quotes: [{ n: 1, quote: "pure water boils at 100 degrees Celsius" }],
};
const section2 = {
  text: "Pressure falls as altitude rises, so at 3000 metres water boils near 90 degrees Celsius [1].",
  quotes: [{ n: 1, quote: "water boils near 90 degrees Celsius there" }],
};
const section3 = {
  text: "Pasta takes longer to cook in the mountains [1]. Cooks add a few minutes above 2000 metres [1].",
  quotes: [{ n: 1, quote: "Cooking pasta in the mountains takes longer" }],
};
const summary = {
  summary: "Water boils at 100 degrees Celsius at sea level [1] and near 90 degrees at 3000 metres [2].",
};

const script = async (...replies: object[]) => {
  for (const reply of replies) await fakes.scriptGroq({ reply });
};

const firecrawlRequests = async () =>
  (await (await fetch(`${firecrawl}/__fake/requests`)).json()) as Array<{ route: string; body: { url?: string } }>;

beforeAll(async () => {
  fakes = llmFakes();
  firecrawl = `${inject("fakeFirecrawlUrl")}/s/${crypto.randomUUID()}`;
  const site = await fetch(`${firecrawl}/__fake/site`, {
    method: "POST",
    body: JSON.stringify({ pages: Object.fromEntries(Object.entries(PAGES).map(([url, page]) => [url, html(page)])) }),
  });
  expect(site.status).toBe(204);
  h = await createHarness({
    ...fakes.env(),
    LLM_PROVIDER_ORDER: "groq",
    FIRECRAWL_API_KEY: "fc-test",
    FIRECRAWL_API_URL: firecrawl,
    RATE_LIMIT_AUTH_PER_MINUTE: "1000000",
    // The webhook receiver (fake-sites' /hook) is on loopback.
    FETCH_ALLOW_HOSTS: new URL(inject("fakeSitesUrl")).host,
  });
  token = (await h.signUp()).tokens.access_token;
});

const start = async (body: Record<string, unknown>, as = token) => {
  const res = await h.request("/api/v1/research/sessions", h.json("POST", body, h.bearer(as)));
  expect(res.status, await res.clone().text()).toBe(202);
  return (await res.json()) as Session;
};

const session = async (id: string) =>
  (await (await h.request(`/api/v1/research/sessions/${id}`, { headers: h.bearer(token) })).json()) as Session;

const standard = (query: string, extra: Record<string, unknown> = {}) => ({
  query,
  depth: "standard",
  exclude_domains: ["spam.site.test"],
  ...extra,
});

/** Every `[n]` of the report names a listed source, each listed source is cited, and its quote is in its page. */
const expectCitationsHold = (done: Session) => {
  const cited = new Set([...(done.report ?? "").matchAll(/\[(\d+)\]/g)].map((match) => Number(match[1])));
  expect(cited.size).toBeGreaterThan(0);
  expect([...cited].sort()).toEqual(done.sources.map((source) => source.n));
  for (const source of done.sources) {
    const page = PAGES[source.url];
    expect(page, source.url).toBeDefined();
    expect(page?.text.replace(/\s+/g, " ").toLowerCase()).toContain(source.quote.replace(/\s+/g, " ").toLowerCase());
  }
};

describe("a standard research session", () => {
  let done: Session;

  beforeAll(async () => {
    await script(plan, section1, section2, section3, summary);
    const created = await start(standard("How does altitude change the boiling point of water?"));
    expect(created).toMatchObject({ status: "pending", progress: { stage: "queued" } });
    await h.runJobs();
    done = await session(created.id);
  });

  it("completes with a report whose every citation resolves to a read source and its quote", () => {
    expect(done).toMatchObject({ status: "completed", sub_questions: QUESTIONS, error: null });
    expect(done.progress).toMatchObject({ stage: "done", percent: 100 });
    expect(done.report).toContain("## Summary");
    for (const question of QUESTIONS) expect(done.report).toContain(`## ${question}`);
    expect(done.sources.map((source) => source.url)).toEqual([URLS.physics, URLS.weather, URLS.kitchen]);
    expect(done.summary).toContain("[1]");
    expectCitationsHold(done);
    expect(done.citation_check).toMatchObject({ citations_removed: 0, flagged: [] });
    expect(done.usage).toMatchObject({ model_calls: 5, searches: 3 });
    expect(done.usage.tokens_input).toBeGreaterThan(0);
  });

  it("skips and lists a source that has nothing to read, and never reads an excluded host", () => {
    expect(done.skipped_sources).toEqual([{ url: URLS.empty, reason: "the page has no readable text" }]);
    expect(done.progress).toMatchObject({ sources_read: 3, sources_skipped: 1 });
    expect(done.report).toContain(URLS.empty);
    expect(JSON.stringify(done)).not.toContain("spam.site.test/boiling");
  });

  it("sends its progress as events in order, resumable after any of them", async () => {
    const read = async (lastEventId?: string) => {
      const res = await h.request(`/api/v1/research/sessions/${done.id}/events`, {
        headers: { ...h.bearer(token), ...(lastEventId ? { "last-event-id": lastEventId } : {}) },
      });
      expect(res.headers.get("content-type")).toContain("text/event-stream");
      const events = await readEvents(res);
      await h.settled();
      return events.map(({ id, event, data }) => ({ id, type: event, data: data as Record<string, unknown> }));
    };
    const all = await read();
    const numbered = all.filter((event) => event.id !== undefined);
    expect(numbered.map((event) => Number(event.id))).toEqual(numbered.map((_, index) => index + 1));
    const types = all.map((event) => event.type);
    expect(types[0]).toBe("queued");
    expect(types.at(-2)).toBe("completed");
    expect(all.at(-1)).toMatchObject({ type: "done", id: undefined, data: { status: "completed" } });
    const order = ["plan", "sources", "source_read", "section", "completed"].map((type) => types.indexOf(type));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(types.filter((type) => type === "section")).toHaveLength(3);
    expect(all.find((event) => event.type === "source_skipped")?.data).toMatchObject({ url: URLS.empty });
    const stages = all.filter((event) => event.type === "stage").map((event) => event.data.stage);
    expect(stages).toEqual(["planning", "searching", "reading", "ranking", "writing"]);

    const resumed = await read("5");
    expect(resumed[0]?.id).toBe("6");
    expect(resumed.map((event) => event.type)).toEqual(types.slice(5));
  });

  it("exports the report and its sources in every format, each parsing back", async () => {
    const exported = async (format: string) => {
      const res = await h.request(`/api/v1/research/sessions/${done.id}/export?format=${format}`, {
        headers: h.bearer(token),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-disposition")).toBe(`attachment; filename="research-${done.id}.${format}"`);
      return res;
    };
    const md = await exported("md");
    expect(md.headers.get("content-type")).toContain("text/markdown");
    expect(await md.text()).toBe(done.report);

    const json = (await (await exported("json")).json()) as { sources: Source[]; report: string };
    expect(json.sources).toEqual(done.sources);
    expect(json.report).toBe(done.report);

    const csv = await exported("csv");
    expect(csv.headers.get("content-type")).toContain("text/csv");
    const parsed = Papa.parse<Record<string, string>>(await csv.text(), { header: true, skipEmptyLines: true });
    expect(parsed.meta.fields).toEqual(["n", "kind", "url", "title", "quote", "accessed_at", "document_id", "page"]);
    expect(parsed.data.map((row) => row.kind)).toEqual(["web", "web", "web"]);
    expect(parsed.data.map((row) => row.url)).toEqual(done.sources.map((source) => source.url));
    expect(parsed.data[0]?.quote).toBe(done.sources[0]?.quote);

    const XLSX = await import("xlsx");
    const book = XLSX.read(new Uint8Array(await (await exported("xlsx")).arrayBuffer()), { type: "array" });
    const rows = XLSX.utils.sheet_to_json<Record<string, unknown>>(book.Sheets[book.SheetNames[0] ?? ""] ?? {});
    expect(rows.map((row) => row.url)).toEqual(done.sources.map((source) => source.url));
    expect(rows.map((row) => row.n)).toEqual([1, 2, 3]);

    const docx = await exported("docx");
    expect(docx.headers.get("content-type")).toBe(
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    );
    // mammoth runs in workerd (through nodejs_compat) when handed the bytes as a Buffer.
    const mammoth = await import("mammoth");
    const { value } = await mammoth.extractRawText({ buffer: Buffer.from(await docx.arrayBuffer()) });
    expect(value).toContain("Summary");
    expect(value).toContain(QUESTIONS[0]);
    expect(value).toContain(done.sources[0]?.quote ?? "?");
  });

  it("answers the same question again from its report within a day, unless asked for a fresh run", async () => {
    const again = await h.request(
      "/api/v1/research/sessions",
      h.json("POST", standard("  how does ALTITUDE change the boiling point of water "), h.bearer(token)),
    );
    expect(again.status).toBe(200);
    const cached = (await again.json()) as Session;
    expect(cached).toMatchObject({ status: "completed", cached_from: done.id, report: done.report });
    expect(cached.id).not.toBe(done.id);
    const fresh = await start(standard("How does altitude change the boiling point of water?", { fresh: true }));
    expect(fresh.status).toBe("pending");
    // Another user's same question is theirs to run.
    const other = (await h.signUp()).tokens.access_token;
    expect((await start(standard("How does altitude change the boiling point of water?"), other)).status).toBe(
      "pending",
    );
    await h.request(`/api/v1/research/sessions/${fresh.id}/cancel`, { method: "POST", headers: h.bearer(token) });
  });

  it("keeps the report as a document that search and conversations can use", async () => {
    const res = await h.request(`/api/v1/research/sessions/${done.id}/document`, {
      method: "POST",
      headers: h.bearer(token),
    });
    expect(res.status).toBe(201);
    const document = (await res.json()) as { id: string; filename: string };
    expect(document.filename).toBe(`research-${done.id}.md`);
    await h.runJobs();
    const again = await h.request(`/api/v1/research/sessions/${done.id}/document`, {
      method: "POST",
      headers: h.bearer(token),
    });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(document.id);
    const search = await h.request(
      "/api/v1/documents/search",
      h.json("POST", { query: "pasta mountains", k: 3, document_ids: [document.id] }, h.bearer(token)),
    );
    const hits = (await search.json()) as { results: Array<{ document_id: string; content: string }> };
    expect(hits.results[0]?.document_id).toBe(document.id);
    const conversation = await h.request(
      "/api/v1/chat/conversations",
      h.json("POST", { title: "Follow-up", document_ids: [document.id] }, h.bearer(token)),
    );
    expect(conversation.status).toBe(201);
  });
});

describe("what the checks and the pipeline's checkpoints guard", () => {
  it("catches a fabricated citation and a quote the source does not hold, and ships neither", async () => {
    await script(
      plan,
      {
        text: "At sea level, pure water boils at 100 degrees Celsius [1]. On the Moon water boils at 12 degrees [9]. Altitude makes no difference at all [1].",
        quotes: [
          { n: 1, quote: "pure water boils at 100 degrees Celsius" },
          { n: 9, quote: "water boils at 12 degrees on the Moon" },
        ],
      },
      {
        text: "Water boils near 90 degrees Celsius at 3000 metres [1].",
        quotes: [{ n: 1, quote: "boils at 50 degrees" }],
      },
      section3,
      summary,
    );
    const created = await start(standard("What changes the boiling point of water at altitude?"));
    await h.runJobs();
    const done = await session(created.id);
    expect(done.status).toBe("completed");
    expect(done.report).not.toContain("Moon");
    expect(done.report).not.toContain("near 90 degrees Celsius at 3000 metres");
    expect(done.report).toContain("pure water boils at 100 degrees Celsius [1]");
    const flagged = done.citation_check.flagged.map((entry) => entry.claim);
    expect(flagged).toEqual(
      expect.arrayContaining([
        "On the Moon water boils at 12 degrees.",
        "Water boils near 90 degrees Celsius at 3000 metres.",
      ]),
    );
    expect(done.citation_check.flagged.find((entry) => entry.claim.includes("Moon"))?.reason).toContain("[9]");
    // The second section cited only a quote its source does not hold: its source is not listed either.
    expect(done.sources.map((source) => source.url)).not.toContain(URLS.weather);
    // "Altitude makes no difference" cited [1] with passage 1's excerpt, which is in the source: kept.
    expectCitationsHold(done);
  });

  it("resumes after a failed model call without planning, searching or reading again", async () => {
    const before = await firecrawlRequests();
    const groqBefore = (await fakes.groqCalls()).length;
    await script(plan, section1);
    // The second section's call fails on both attempts: the run fails retryably and the queue redelivers it.
    await fakes.scriptGroq({ status: 500, times: 2 });
    await script(section2, section3, summary);
    const created = await start(standard("Why does pasta take longer to cook at altitude?"));
    await h.runJobs();
    const done = await session(created.id);
    expect(done).toMatchObject({ status: "completed", attempts: 2 });
    expectCitationsHold(done);
    const redelivered = h.queues
      .deliveries()
      .filter((delivery) => delivery.queue === "ape-research" && delivery.outcome === "retry");
    expect(redelivered.length).toBeGreaterThanOrEqual(1);
    const after = (await firecrawlRequests()).slice(before.length);
    expect(after.filter((request) => request.route === "/v2/search")).toHaveLength(3);
    const scraped = after.filter((request) => request.route === "/v2/scrape").map((request) => request.body.url);
    expect(scraped.sort()).toEqual([URLS.empty, URLS.physics, URLS.weather, URLS.kitchen].sort());
    // Plan, section 1, the failed call's two attempts, then section 2, 3 and the summary: nothing asked twice.
    expect((await fakes.groqCalls()).length - groqBefore).toBe(7);
    expect(done.usage.model_calls).toBe(5);
  });

  it("is cancelled before it runs, writes nothing, and a retry runs it to the end", async () => {
    const created = await start(standard("What is the boiling point of water at sea level?"));
    const cancelled = await h.request(`/api/v1/research/sessions/${created.id}/cancel`, {
      method: "POST",
      headers: h.bearer(token),
    });
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as Session).status).toBe("cancelled");
    await h.runJobs();
    expect(await session(created.id)).toMatchObject({ status: "cancelled", report: null, attempts: 0 });
    const twice = await h.request(`/api/v1/research/sessions/${created.id}/cancel`, {
      method: "POST",
      headers: h.bearer(token),
    });
    expect((await readProblem(twice)).body).toMatchObject({ code: "CONFLICT" });
    const exported = await h.request(`/api/v1/research/sessions/${created.id}/export?format=md`, {
      headers: h.bearer(token),
    });
    expect(exported.status).toBe(409);

    await script(plan, section1, section2, section3, summary);
    const retried = await h.request(`/api/v1/research/sessions/${created.id}/retry`, {
      method: "POST",
      headers: h.bearer(token),
    });
    expect(retried.status).toBe(200);
    await h.runJobs();
    const done = await session(created.id);
    expect(done.status).toBe("completed");
    expectCitationsHold(done);
    const listed = (await (
      await h.request("/api/v1/research/sessions?status=completed&limit=100", { headers: h.bearer(token) })
    ).json()) as { items: Session[] };
    expect(listed.items.map((item) => item.id)).toContain(created.id);
    expect(listed.items.every((item) => item.status === "completed")).toBe(true);
  });

  it("stops early when its token budget runs out, and says so in the report", async () => {
    await script(plan);
    const created = await start(standard("How hot is boiling water on a mountain?", { budget: { max_tokens: 20 } }));
    await h.runJobs();
    const done = await session(created.id);
    expect(done.status).toBe("completed");
    expect(done.stopped_early).toContain("token budget (20)");
    expect(done.report).toContain("Stopped early");
    expect(done.usage.model_calls).toBe(1);
    expect(done.sources).toEqual([]);
  });

  it("estimates a session without running it", async () => {
    const res = await h.request(
      "/api/v1/research/sessions/estimate",
      h.json("POST", { query: "How does altitude change cooking?", depth: "deep" }, h.bearer(token)),
    );
    expect(res.status).toBe(200);
    const estimate = (await res.json()) as Record<string, unknown>;
    expect(estimate).toMatchObject({ depth: "deep", sub_questions: 5, model_calls: 7, max_sources: 20 });
    expect(estimate.tokens).toEqual(expect.any(Number));
    expect(estimate.cost_usd).toEqual(expect.any(Number));
    expect(estimate.seconds).toEqual(expect.any(Number));
  });

  it("deletes a finished session, refuses to delete a running one, and needs a search provider to start web research", async () => {
    await script(plan, section1, section2, section3, summary);
    const created = await start(standard("Boiling point of water in the mountains", { depth: "standard" }));
    const early = await h.request(`/api/v1/research/sessions/${created.id}`, {
      method: "DELETE",
      headers: h.bearer(token),
    });
    expect(early.status).toBe(409);
    await h.runJobs();
    const deleted = await h.request(`/api/v1/research/sessions/${created.id}`, {
      method: "DELETE",
      headers: h.bearer(token),
    });
    expect(deleted.status).toBe(204);
    expect((await h.request(`/api/v1/research/sessions/${created.id}`, { headers: h.bearer(token) })).status).toBe(404);
    const without = await h.request(
      "/api/v1/research/sessions",
      h.json("POST", { query: "anything at all", sources: "web" }, h.bearer(token)),
      { FIRECRAWL_API_KEY: undefined },
    );
    expect((await readProblem(without)).body).toMatchObject({ status: 503, code: "SEARCH_NOT_CONFIGURED" });
  });
});

describe("research webhooks", () => {
  type Received = { path: string; headers: Record<string, string>; body: string };
  const receiver = () => {
    const scope = `${inject("fakeSitesUrl")}/s/${crypto.randomUUID()}`;
    return {
      url: `${scope}/hook/research`,
      received: async () =>
        ((await (await fetch(`${scope}/__fake/requests`)).json()) as Received[]).filter(
          (r) => r.path === "/hook/research",
        ),
    };
  };

  it("delivers research.completed and research.failed, signed, to the account's endpoint and the session's own URL", async () => {
    const account = receiver();
    const created = await h.request(
      "/api/v1/users/me/webhooks",
      h.json("POST", { url: account.url, event_types: ["research.completed", "research.failed"] }, h.bearer(token)),
    );
    expect(created.status).toBe(201);
    const { secret } = (await created.json()) as { secret: string };
    const own = receiver();

    await script(plan, section1, section2, section3, summary);
    const started = await h.request(
      "/api/v1/research/sessions",
      h.json("POST", standard("Why does pasta cook slowly at altitude?", { webhook_url: own.url }), h.bearer(token)),
    );
    expect(started.status, await started.clone().text()).toBe(202);
    const session = (await started.json()) as { id: string; webhook: { secret: string } };
    await h.runJobs();
    const [event] = await account.received();
    const payload = new Webhook(secret).verify(event?.body ?? "", event?.headers ?? {}) as Record<string, unknown>;
    expect(payload).toMatchObject({
      type: "research.completed",
      data: {
        session_id: session.id,
        status: "completed",
        sources: 3,
        links: { self: `/api/v1/research/sessions/${session.id}` },
      },
    });
    const [ownEvent] = await own.received();
    expect(new Webhook(session.webhook.secret).verify(ownEvent?.body ?? "", ownEvent?.headers ?? {})).toMatchObject({
      type: "research.completed",
    });

    // A session whose plan the model cannot give in the right shape fails, and says so.
    await script({ wrong: true }, { still: "wrong" });
    const failing = await start({ query: "A question the model cannot plan", depth: "quick", fresh: true });
    await h.runJobs();
    const failed = (await account.received()).map(
      (request) =>
        new Webhook(secret).verify(request.body, request.headers) as { type: string; data: Record<string, unknown> },
    );
    expect(failed.at(-1)).toMatchObject({
      type: "research.failed",
      data: { session_id: failing.id, status: "failed", error: { code: "MODEL_OUTPUT_INVALID" } },
    });
  });
});
