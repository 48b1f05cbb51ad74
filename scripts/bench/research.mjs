// Research, measured end to end through `wrangler dev` on the test stack: `npm run bench:research`
// (or `node scripts/bench/research.mjs`). A standard session over a small local corpus served by the
// Firecrawl wire fake, the model played by the OpenAI-compatible fake (as Groq) answering every call after a
// fixed delay. Both fakes sit behind a timing proxy that records when a request of APE's is in flight, so the
// wall time splits into the queue's wait before the run starts, the time APE waits on the fakes (any request
// in flight), and the rest: APE's own work (Postgres, Redis, R2, chunking, ranking, the citation check).
// Prints figures, asserts nothing.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { startFakeFirecrawl } from "../../test/helpers/fake-firecrawl.mjs";
import { startFakeOpenAi } from "../../test/helpers/fake-openai.mjs";
import { post, register, startBenchApe } from "./harness.mjs";

const { values } = parseArgs({
  options: {
    "model-delay": { type: "string", default: "300" },
    runs: { type: "string", default: "3" },
  },
});
const MODEL_DELAY_MS = Number(values["model-delay"]);
const RUNS = Number(values.runs);

/** A proxy in front of `target` that keeps the intervals its requests were in flight. */
const timingProxy = async (target) => {
  const intervals = [];
  const server = createServer(async (request, response) => {
    const started = performance.now();
    const chunks = [];
    for await (const chunk of request) chunks.push(chunk);
    const headers = { ...request.headers };
    delete headers.host;
    delete headers["content-length"];
    try {
      const answer = await fetch(`${target}${request.url}`, {
        method: request.method,
        headers,
        body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
      });
      const body = Buffer.from(await answer.arrayBuffer());
      const out = Object.fromEntries(
        [...answer.headers].filter(
          ([name]) => !["content-encoding", "content-length", "transfer-encoding"].includes(name),
        ),
      );
      response.writeHead(answer.status, out).end(body);
    } catch (error) {
      response.writeHead(502).end(String(error));
    } finally {
      if (!request.url?.includes("/__fake/")) intervals.push([started, performance.now()]);
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}`, intervals, close: () => new Promise((resolve) => server.close(resolve)) };
};

/** Milliseconds within [from, to] covered by at least one interval. */
const covered = (intervals, from, to) => {
  const clipped = intervals
    .map(([a, b]) => [Math.max(a, from), Math.min(b, to)])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of clipped) {
    if (a > end) {
      total += b - a;
      end = b;
    } else if (b > end) {
      total += b - end;
      end = b;
    }
  }
  return total;
};

// The corpus and the model's answers are the integration test's (test/integration/research.test.ts).
const PAGES = {
  "http://physics.site.test/boiling": [
    "Boiling point of water",
    "At sea level, pure water boils at 100 degrees Celsius. The boiling point is where vapour pressure equals the pressure of the air around the water.",
  ],
  "http://weather.site.test/pressure": [
    "Air pressure and altitude",
    "Atmospheric pressure falls as altitude rises: at 3000 metres it is about 70 percent of the pressure at sea level, so water boils near 90 degrees Celsius there.",
  ],
  "http://kitchen.site.test/pasta": [
    "Cooking pasta in the mountains",
    "Cooking pasta in the mountains takes longer, because the water is cooler when it boils. Cooks add a few minutes to the cooking time above 2000 metres.",
  ],
  "http://kitchen.site.test/empty": ["Boiling pasta water notes", ""],
};
const QUESTIONS = [
  "boiling point of water at sea level",
  "atmospheric pressure at altitude",
  "cooking pasta in the mountains",
];
const REPLIES = [
  { sub_questions: QUESTIONS },
  {
    text: "At sea level, pure water boils at 100 degrees Celsius [1].",
    quotes: [{ n: 1, quote: "pure water boils at 100 degrees Celsius" }],
  },
  {
    text: "Pressure falls as altitude rises, so at 3000 metres water boils near 90 degrees Celsius [1].",
    quotes: [{ n: 1, quote: "water boils near 90 degrees Celsius there" }],
  },
  {
    text: "Pasta takes longer to cook in the mountains [1].",
    quotes: [{ n: 1, quote: "Cooking pasta in the mountains takes longer" }],
  },
  { summary: "Water boils at 100 degrees Celsius at sea level [1] and near 90 degrees at 3000 metres [2]." },
];

const openai = await startFakeOpenAi();
const firecrawl = await startFakeFirecrawl();
const openaiProxy = await timingProxy(openai.url);
const firecrawlProxy = await timingProxy(firecrawl.url);
const llmScope = `${openaiProxy.url}/s/${randomUUID()}`;
const fcScope = `${firecrawlProxy.url}/s/${randomUUID()}`;
await post(`${fcScope}/__fake/site`, {
  pages: Object.fromEntries(
    Object.entries(PAGES).map(([url, [title, text]]) => [
      url,
      `<html><head><title>${title}</title></head><body>${text ? `<p>${text}</p>` : ""}</body></html>`,
    ]),
  ),
});

const { server, base } = await startBenchApe({
  GROQ_API_KEY: "gsk-bench",
  GROQ_BASE_URL: llmScope,
  LLM_PROVIDER_ORDER: "groq",
  FIRECRAWL_API_KEY: "fc-bench",
  FIRECRAWL_API_URL: fcScope,
});
const auth = { authorization: `Bearer ${(await register(base)).access}` };

const results = [];
try {
  for (let run = 0; run < RUNS; run++) {
    for (const reply of REPLIES) await post(`${llmScope}/__fake/next`, { reply, hangMs: MODEL_DELAY_MS });
    const started = performance.now();
    const created = await post(
      `${base}/research/sessions`,
      { query: `How does altitude change the boiling point of water? (run ${run})`, depth: "standard", fresh: true },
      auth,
    );
    if (created.status !== 202) throw new Error(`create: ${created.status} ${await created.text()}`);
    const { id } = await created.json();
    let session;
    for (;;) {
      session = await (await fetch(`${base}/research/sessions/${id}`, { headers: auth })).json();
      if (["completed", "failed", "cancelled"].includes(session.status)) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const ended = performance.now();
    if (session.status !== "completed") throw new Error(`session ${session.status}: ${JSON.stringify(session.error)}`);
    const queueWait = new Date(session.started_at).getTime() - new Date(session.created_at).getTime();
    const runFrom = started + Math.max(0, queueWait);
    const model = covered(openaiProxy.intervals, runFrom, ended);
    const fakes = covered([...openaiProxy.intervals, ...firecrawlProxy.intervals], runFrom, ended);
    results.push({
      wall: ended - started,
      queueWait,
      fakes,
      model,
      firecrawl: covered(firecrawlProxy.intervals, runFrom, ended),
      ape: ended - runFrom - fakes,
      usage: session.usage,
      sources: session.sources.length,
      skipped: session.skipped_sources.length,
    });
  }
} finally {
  server.stop();
  await Promise.all([openaiProxy.close(), firecrawlProxy.close(), openai.close(), firecrawl.close()]);
}

const median = (pick) => {
  const sorted = results.map(pick).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const ms = (value) => `${value.toFixed(0)} ms`.padStart(9);
const last = results.at(-1);
console.log(`research, standard depth, ${RUNS} runs (median), model delay ${MODEL_DELAY_MS} ms a call`);
console.log(`${"wall time (POST → completed seen)".padEnd(44)}${ms(median((r) => r.wall))}`);
console.log(`${"  queue wait before the run started".padEnd(44)}${ms(median((r) => r.queueWait))}`);
console.log(`${"  waiting on the fakes (any in flight)".padEnd(44)}${ms(median((r) => r.fakes))}`);
console.log(`${"    of which the model".padEnd(44)}${ms(median((r) => r.model))}`);
console.log(`${"    of which Firecrawl".padEnd(44)}${ms(median((r) => r.firecrawl))}`);
console.log(`${"  in APE (run time minus waiting)".padEnd(44)}${ms(median((r) => r.ape))}`);
console.log(
  `model calls ${last.usage.model_calls}, tokens in ${last.usage.tokens_input}, out ${last.usage.tokens_output}`,
);
console.log(
  `searches ${last.usage.searches}, scrapes ${last.usage.scrapes}, sources cited ${last.sources}, skipped ${last.skipped}`,
);
process.exit(0);
