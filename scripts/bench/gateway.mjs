// The LLM gateway's overhead, measured end to end through `wrangler dev` on the test stack against the local
// OpenAI-compatible fake: `npm run bench:gateway`. In one run it sends the same chat completion straight to
// the fake and through APE's front door (with an API key: auth, rate limit, budget, breaker, routing and
// accounting all on), interleaved, and prints p50/p95/p99 both ways and the difference, beside what APE
// reports in `x-ape-overhead-ms`; the same with two tools offered (answered by a tool call); then time to first
// token for streams both ways; then the usage report over a million generated usage rows, beside
// GET /users/me (the same auth path with one small query) as its baseline.
import { parseArgs } from "node:util";
import pg from "pg";
import { startFakeOpenAi } from "../../test/helpers/fake-openai.mjs";
import { percentile, post, register, startBenchApe } from "./harness.mjs";
import { seedUsageRows } from "./usage-rows.mjs";

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "400" },
    streams: { type: "string", default: "200" },
    queries: { type: "string", default: "60" },
    rows: { type: "string", default: "1000000" },
  },
});

const fake = await startFakeOpenAi();
const { stack, server, base } = await startBenchApe({
  OPENAI_API_KEY: "sk-bench",
  OPENAI_BASE_URL: `${fake.url}/v1`,
  LLM_PROVIDER_ORDER: "openai",
});
const { userId, access } = await register(base);
const created = await post(
  `${base}/users/me/api-keys`,
  { name: "bench", scopes: ["chat", "read"] },
  { authorization: `Bearer ${access}` },
);
const { key } = await created.json();

const request = {
  model: "gpt-4o-mini",
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Name three prime numbers." },
  ],
};
const direct = { url: `${fake.url}/v1/chat/completions`, headers: { authorization: "Bearer sk-bench" } };
const gateway = { url: `${base}/openai/chat/completions`, headers: { authorization: `Bearer ${key}` } };

// The same call with the new fields on: two tools the model may call (the fake calls the first), so the
// figures show whether translating tools and tool calls costs APE anything.
const toolRequest = {
  ...request,
  tools: ["get_weather", "get_time"].map((name) => ({
    type: "function",
    function: {
      name,
      description: `The ${name.slice(4)} in a city.`,
      parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    },
  })),
  tool_choice: "auto",
  parallel_tool_calls: false,
};

/** What APE said it added (`x-ape-overhead-ms`) on its last answer. */
const reported = [];

/** Whole-answer latency of one call. */
const complete = async (target, body = request) => {
  const started = performance.now();
  const res = await post(target.url, body, target.headers);
  const answer = await res.json();
  const message = answer.choices?.[0]?.message;
  if (!res.ok || !(message?.content || message?.tool_calls?.length))
    throw new Error(`${res.status} from ${target.url}`);
  const elapsed = performance.now() - started;
  const overhead = res.headers.get("x-ape-overhead-ms");
  if (overhead !== null) reported.push(Number(overhead));
  return elapsed;
};

/** Time to the first content delta of a stream, then the stream read to its end. */
const firstToken = async (target) => {
  const started = performance.now();
  const res = await post(
    target.url,
    { ...request, stream: true, stream_options: { include_usage: true } },
    target.headers,
  );
  if (!res.ok || !res.body) throw new Error(`${res.status} from ${target.url}`);
  const decoder = new TextDecoder();
  let buffer = "";
  let ttft = null;
  for await (const bytes of res.body) {
    buffer += decoder.decode(bytes, { stream: true });
    if (ttft === null && /"content":"[^"]/.test(buffer)) ttft = performance.now() - started;
  }
  if (ttft === null || !buffer.includes("[DONE]")) throw new Error(`no tokens from ${target.url}`);
  return ttft;
};

/** APE's cheapest route: what reaching the Worker at all costs under `wrangler dev` (its proxy and workerd). */
const health = async () => {
  const started = performance.now();
  const res = await fetch(`${base}/health`);
  await res.arrayBuffer();
  return performance.now() - started;
};

// Warm up both ways (isolate start, connections, cached key lookup).
for (let i = 0; i < 20; i++) {
  await complete(direct);
  await complete(gateway);
  await firstToken(direct);
  await firstToken(gateway);
}

const series = {
  direct: [],
  gateway: [],
  directTools: [],
  gatewayTools: [],
  directTtft: [],
  gatewayTtft: [],
  health: [],
};
reported.length = 0;
for (let i = 0; i < Number(values.calls); i++) {
  // Interleaved, so drift in the machine's load falls on both alike.
  series.direct.push(await complete(direct));
  series.gateway.push(await complete(gateway));
  series.health.push(await health());
}
const reportedPlain = reported.splice(0);
for (let i = 0; i < Number(values.calls); i++) {
  series.directTools.push(await complete(direct, toolRequest));
  series.gatewayTools.push(await complete(gateway, toolRequest));
}
const reportedTools = reported.splice(0);
for (let i = 0; i < Number(values.streams); i++) {
  series.directTtft.push(await firstToken(direct));
  series.gatewayTtft.push(await firstToken(gateway));
}

const ms = (value) => `${value.toFixed(2)} ms`.padStart(11);
const header = (label) =>
  console.log(`${label.padEnd(48)}${"p50".padStart(11)}${"p95".padStart(11)}${"p99".padStart(11)}`);
const row = (label, samples) =>
  console.log(
    `${label.padEnd(48)}${ms(percentile(samples, 50))}${ms(percentile(samples, 95))}${ms(percentile(samples, 99))}`,
  );
const added = (label, samples, baseline) =>
  console.log(
    `${label.padEnd(48)}${[50, 95, 99].map((p) => ms(percentile(samples, p) - percentile(baseline, p))).join("")}`,
  );

header(`chat completion, n=${series.direct.length} each`);
row("  straight to the fake (baseline)", series.direct);
row("  through APE's front door", series.gateway);
added("  added by APE", series.gateway, series.direct);
row("  GET /health through APE (the hop alone)", series.health);
added(
  "  added by APE beyond the hop",
  series.gateway,
  [...series.direct].map((d, i) => d + (series.health[i] ?? 0)),
);
row("  x-ape-overhead-ms, as APE reports it", reportedPlain);
header(`chat completion with two tools, answered by a tool call, n=${series.directTools.length} each`);
row("  straight to the fake (baseline)", series.directTools);
row("  through APE's front door", series.gatewayTools);
added("  added by APE", series.gatewayTools, series.directTools);
added(
  "  added by APE beyond the hop",
  series.gatewayTools,
  [...series.directTools].map((d, i) => d + (series.health[i] ?? 0)),
);
row("  x-ape-overhead-ms, as APE reports it", reportedTools);
header(`stream, time to first token, n=${series.directTtft.length} each`);
row("  straight to the fake (baseline)", series.directTtft);
row("  through APE's front door", series.gatewayTtft);
added("  added by APE", series.gatewayTtft, series.directTtft);

// The usage report over a heavy user's year.
const rows = Number(values.rows);
const seeding = performance.now();
await seedUsageRows({ databaseUrl: stack.DIRECT_DATABASE_URL, userId, rows });
console.log(
  `\nseeded ${rows.toLocaleString("en")} usage rows in ${((performance.now() - seeding) / 1000).toFixed(1)} s`,
);
const day = (offset) => new Date(Date.now() - offset * 86_400_000).toISOString().slice(0, 10);
const get = async (path) => {
  const started = performance.now();
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${res.status} from ${path}`);
  return performance.now() - started;
};
const queries = { me: [], day: [], model: [] };
for (let i = 0; i < 5; i++) await get(`/users/me/usage?from=${day(365)}&to=${day(0)}&group_by=day`);
for (let i = 0; i < Number(values.queries); i++) {
  queries.me.push(await get("/users/me"));
  queries.day.push(await get(`/users/me/usage?from=${day(365)}&to=${day(0)}&group_by=day`));
  queries.model.push(await get(`/users/me/usage?from=${day(365)}&to=${day(0)}&group_by=model`));
}
// The report's own scan, without HTTP, auth and the per-request connection: a year of the user's rollup rows,
// summed by day, straight over a pooled connection.
const sqlPool = new pg.Pool({ connectionString: stack.DIRECT_DATABASE_URL, max: 1 });
const scans = [];
for (let i = 0; i < Number(values.queries) + 5; i++) {
  const started = performance.now();
  await sqlPool.query(
    `select day, sum(requests), sum(tokens_input), sum(tokens_output), sum(cost_usd), sum(cache_hits)
       from usage_daily where user_id = $1 and day between $2 and $3 group by rollup(day) order by day`,
    [userId, day(365), day(0)],
  );
  if (i >= 5) scans.push(performance.now() - started);
}
await sqlPool.end();
header(`usage report over a year of ${rows.toLocaleString("en")} calls, n=${queries.day.length} each`);
row("  GET /users/me (baseline: auth + one row)", queries.me);
row("  GET /users/me/usage group_by=day", queries.day);
row("  GET /users/me/usage group_by=model", queries.model);
added("  the report beyond the baseline (by day)", queries.day, queries.me);
row("  its SQL alone: a year of the rollup by day", scans);

server.stop();
await fake.close();
process.exit(0);
