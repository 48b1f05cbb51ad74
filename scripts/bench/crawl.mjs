// A 500-page Firecrawl crawl read by an extraction job, end to end through `wrangler dev` on the test stack:
// `npm run bench:crawl` (or `node scripts/bench/crawl.mjs --pages 500 --slice-subrequests 200`). The site is
// served by the Firecrawl wire fake (its results come ten documents a page, as Firecrawl cuts them), each page
// with one product row read by code, so no model is involved. The job runs in slices of at most
// JOB_SLICE_SUBREQUESTS; the script samples the resident memory of the workerd process that runs the consumer,
// idle (the baseline, with `GET /health` through the same runtime) and during the crawl. Prints figures,
// asserts nothing.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startFakeFirecrawl } from "../../test/helpers/fake-firecrawl.mjs";
import { post, register, startBenchApe } from "./harness.mjs";

const { values } = parseArgs({
  options: { pages: { type: "string", default: "500" }, "slice-subrequests": { type: "string", default: "200" } },
});
const PAGES = Number(values.pages);
const SLICE_SUBREQUESTS = values["slice-subrequests"];

const firecrawl = await startFakeFirecrawl();
const scope = `${firecrawl.url}/s/${randomUUID()}`;
const host = new URL(firecrawl.url).host;
const root = `http://${host}/shop`;
const row = (name, price) =>
  `<table><tr><th>Product name</th><th>Unit price</th></tr><tr><td>${name}</td><td>${price}</td></tr></table>`;
const children = Array.from({ length: PAGES - 1 }, (_, index) => `${root}/p${index + 1}`);
await post(`${scope}/__fake/site`, {
  pages: Object.fromEntries([
    [
      root,
      `<html><body>${row("Catalogue", "$1")}${children.map((url) => `<a href="${url}">${url}</a>`).join("")}</body></html>`,
    ],
    ...children.map((url, index) => [
      url,
      `<html><body><h1>Product ${index + 1}</h1>${row(`Product ${index + 1}`, `$${index + 2}`)}</body></html>`,
    ]),
  ]),
});

const { server, base } = await startBenchApe({
  FIRECRAWL_API_KEY: "fc-bench",
  FIRECRAWL_API_URL: scope,
  FETCH_ALLOW_HOSTS: host,
  JOB_SLICE_SUBREQUESTS: SLICE_SUBREQUESTS,
});
const auth = { authorization: `Bearer ${(await register(base)).access}` };

/** The workerd process of this bench's `wrangler dev` (the runtime serving the API and the queue consumer). */
const benchWorkerd = () => {
  const table = execFileSync("ps", ["-eo", "pid=,ppid=,args="], { encoding: "utf8" })
    .split("\n")
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter(Boolean)
    .map(([, pid, ppid, args]) => ({ pid: Number(pid), ppid: Number(ppid), args }));
  const wrangler = table.find((row) => row.args.includes("wrangler") && row.args.includes(`--port ${port} `));
  if (!wrangler) return null;
  const below = new Set([wrangler.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const row of table) {
      if (below.has(row.ppid) && !below.has(row.pid)) {
        below.add(row.pid);
        grew = true;
      }
    }
  }
  return table.find((row) => below.has(row.pid) && /workerd/.test(row.args))?.pid ?? null;
};
const rssOf = (pid) => {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
};
const pid = benchWorkerd();
const sample = () => (pid ? rssOf(pid) : 0);

try {
  for (let i = 0; i < 20; i++) await fetch(`${base}/health`);
  const idle = sample();
  await post(`${scope}/__fake/next`, { path: "/v2/crawl", polls: 1 });
  let peak = idle;
  const sampler = setInterval(() => {
    peak = Math.max(peak, sample());
  }, 50);
  const started = performance.now();
  const created = await post(
    `${base}/extraction/jobs`,
    {
      source_type: "web_crawl",
      source_url: root,
      crawl: { max_pages: PAGES, max_depth: 1 },
      schema: {
        columns: [
          { name: "product", type: "string", required: true },
          { name: "price", type: "currency", required: true },
        ],
      },
    },
    auth,
  );
  if (created.status !== 202) throw new Error(`create: ${created.status} ${await created.text()}`);
  const { id } = await created.json();
  let job;
  for (;;) {
    job = await (await fetch(`${base}/extraction/jobs/${id}`, { headers: auth })).json();
    if (["completed", "failed", "cancelled"].includes(job.status)) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  if (job.status !== "completed") throw new Error(`job ${job.status}: ${JSON.stringify(job.error)}`);
  const requests = await (await fetch(`${scope}/__fake/requests`)).json();
  const reads = requests.filter((request) => request.route === "/v2/crawl/{id}").length;
  const calls = requests.filter((request) => request.route.startsWith("/v2/")).length;
  const slices = job.progress.slices;
  const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  console.log(`Firecrawl crawl of ${PAGES} pages, JOB_SLICE_SUBREQUESTS=${SLICE_SUBREQUESTS}`);
  console.log(`${"pages per second (POST → completed seen)".padEnd(48)}${(PAGES / seconds).toFixed(1).padStart(10)}`);
  console.log(`${"wall time".padEnd(48)}${`${seconds.toFixed(1)} s`.padStart(10)}`);
  console.log(`${"rows extracted".padEnd(48)}${String(job.rows_extracted).padStart(10)}`);
  console.log(`${"slices (queue messages)".padEnd(48)}${String(slices).padStart(10)}`);
  console.log(`${"Firecrawl results pages read (each once)".padEnd(48)}${String(reads).padStart(10)}`);
  console.log(
    `${"subrequests per slice (Firecrawl + R2 page writes)".padEnd(48)}${((calls + job.progress.pages_fetched) / slices).toFixed(0).padStart(10)}`,
  );
  console.log(`${"workerd memory, idle after GET /health".padEnd(48)}${mib(idle).padStart(10)}`);
  console.log(`${"workerd memory, peak during the crawl".padEnd(48)}${mib(peak).padStart(10)}`);
  console.log(`${"  the consumer's share (peak minus idle)".padEnd(48)}${mib(peak - idle).padStart(10)}`);
} finally {
  server.stop();
  await firecrawl.close();
}
process.exit(0);
