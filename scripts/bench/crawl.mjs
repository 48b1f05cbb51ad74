// A 500-page Firecrawl crawl read by an extraction job, end to end through `wrangler dev` on the test stack:
// `npm run bench:crawl` (or `node scripts/bench/crawl.mjs --pages 500 --slice-subrequests 200`). The site is
// served by the Firecrawl wire fake (its results come ten documents a page, as Firecrawl cuts them), each page
// with one product row read by code, so no model is involved. The job runs in slices of at most
// JOB_SLICE_SUBREQUESTS; the script samples the resident memory of the workerd process that runs the consumer,
// idle (the baseline, with `GET /health` through the same runtime) and during the crawl. Prints figures,
// asserts nothing.
//
// `--reader ape` crawls the same site with APE's own reader instead (no Firecrawl): the pages are served by a
// small server of this script, spread over 200 loopback hosts (127.0.0.2…) so the reader's one-request-a-second
// pace per host does not hide its own work; it adds the CPU time the workerd process spent per page.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { startFakeFirecrawl } from "../../test/helpers/fake-firecrawl.mjs";
import { post, register, startBenchApe } from "./harness.mjs";

const { values } = parseArgs({
  options: {
    pages: { type: "string", default: "500" },
    "slice-subrequests": { type: "string", default: "200" },
    reader: { type: "string", default: "firecrawl" },
    "page-kb": { type: "string", default: "0" },
  },
});
const OWN_READER = values.reader === "ape";
// Prose added to each product page, so a parse costs what it does on a real page (`--page-kb 200`).
const PAGE_KB = Number(values["page-kb"]);
const filler = (n) =>
  Array.from(
    { length: Math.ceil((PAGE_KB * 1024) / 120) },
    (_, i) => `<p>Paragraph ${i} of product ${n}: <a href="#s${i}">details</a>, <em>care</em> and sizes.</p>`,
  ).join("");
const PAGES = Number(values.pages);
const SLICE_SUBREQUESTS = values["slice-subrequests"];

const HOSTS = 200;
/** The own reader's site: every request logged, robots.txt answered 404 (everything allowed). */
const startSite = async () => {
  const log = [];
  let pages = {};
  const site = createServer((request, response) => {
    const url = `http://${request.headers.host}${request.url}`;
    log.push(url);
    const html = pages[url];
    if (!html) return response.writeHead(404).end();
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
  });
  await new Promise((resolve) => site.listen(0, "0.0.0.0", resolve));
  const { port } = site.address();
  return {
    port,
    log,
    serve: (map) => {
      pages = map;
    },
    close: () => new Promise((resolve) => site.close(resolve)),
  };
};

const firecrawl = OWN_READER ? null : await startFakeFirecrawl();
const site = OWN_READER ? await startSite() : null;
const scope = firecrawl ? `${firecrawl.url}/s/${randomUUID()}` : "";
const host = firecrawl ? new URL(firecrawl.url).host : `127.0.0.1:${site?.port}`;
const hostOf = (index) => (OWN_READER ? `127.0.0.${2 + (index % HOSTS)}:${site?.port}` : host);
const root = `http://${host}/shop`;
const row = (name, price) =>
  `<table><tr><th>Product name</th><th>Unit price</th></tr><tr><td>${name}</td><td>${price}</td></tr></table>`;
const children = Array.from({ length: PAGES - 1 }, (_, index) => `http://${hostOf(index)}/shop/p${index + 1}`);
const pages = Object.fromEntries([
  [
    root,
    `<html><body>${row("Catalogue", "$1")}${children.map((url) => `<a href="${url}">${url}</a>`).join("")}</body></html>`,
  ],
  ...children.map((url, index) => [
    url,
    `<html><head><title>Product ${index + 1}</title></head><body><h1>Product ${index + 1}</h1>${row(`Product ${index + 1}`, `$${index + 2}`)}${PAGE_KB > 0 ? filler(index + 1) : ""}</body></html>`,
  ]),
]);
if (site) site.serve(pages);
else await post(`${scope}/__fake/site`, { pages });

const allowHosts = OWN_READER ? [host, ...Array.from({ length: HOSTS }, (_, index) => hostOf(index))] : [host];
const { server, base } = await startBenchApe({
  ...(OWN_READER ? {} : { FIRECRAWL_API_KEY: "fc-bench", FIRECRAWL_API_URL: scope }),
  FETCH_ALLOW_HOSTS: allowHosts.join(","),
  JOB_SLICE_SUBREQUESTS: SLICE_SUBREQUESTS,
});
const port = new URL(base).port;
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
/** User plus system CPU time of a process, in seconds. */
const cpuOf = (pid) => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
};
const pid = benchWorkerd();
const sample = () => (pid ? rssOf(pid) : 0);

try {
  for (let i = 0; i < 20; i++) await fetch(`${base}/health`);
  const idle = sample();
  if (firecrawl) await post(`${scope}/__fake/next`, { path: "/v2/crawl", polls: 1 });
  const cpuBefore = pid ? cpuOf(pid) : 0;
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
      crawl: { max_pages: PAGES, max_depth: 1, ...(OWN_READER ? { same_site_only: false } : {}) },
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
  const cpu = pid ? cpuOf(pid) - cpuBefore : 0;
  clearInterval(sampler);
  if (job.status !== "completed") throw new Error(`job ${job.status}: ${JSON.stringify(job.error)}`);
  const slices = job.progress.slices;
  const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (site) {
    const robots = site.log.filter((url) => url.endsWith("/robots.txt")).length;
    console.log(
      `APE's own reader, crawl of ${PAGES} pages (+${PAGE_KB} KiB of prose each) over ${HOSTS + 1} hosts, JOB_SLICE_SUBREQUESTS=${SLICE_SUBREQUESTS}`,
    );
    console.log(`${"pages per second (POST → completed seen)".padEnd(48)}${(PAGES / seconds).toFixed(1).padStart(10)}`);
    console.log(`${"wall time".padEnd(48)}${`${seconds.toFixed(1)} s`.padStart(10)}`);
    console.log(`${"rows extracted".padEnd(48)}${String(job.rows_extracted).padStart(10)}`);
    console.log(`${"slices (queue messages)".padEnd(48)}${String(slices).padStart(10)}`);
    console.log(
      `${"site requests (pages + robots.txt)".padEnd(48)}${`${site.log.length - robots} + ${robots}`.padStart(10)}`,
    );
    console.log(`${"workerd CPU time per page".padEnd(48)}${`${((cpu / PAGES) * 1000).toFixed(2)} ms`.padStart(10)}`);
    console.log(`${"workerd memory, idle after GET /health".padEnd(48)}${mib(idle).padStart(10)}`);
    console.log(`${"workerd memory, peak during the crawl".padEnd(48)}${mib(peak).padStart(10)}`);
    console.log(`${"  the consumer's share (peak minus idle)".padEnd(48)}${mib(peak - idle).padStart(10)}`);
  } else {
    const requests = await (await fetch(`${scope}/__fake/requests`)).json();
    const reads = requests.filter((request) => request.route === "/v2/crawl/{id}").length;
    const calls = requests.filter((request) => request.route.startsWith("/v2/")).length;
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
    console.log(`${"workerd CPU time per page".padEnd(48)}${`${((cpu / PAGES) * 1000).toFixed(2)} ms`.padStart(10)}`);
  }
} finally {
  server.stop();
  await firecrawl?.close();
  await site?.close();
}
process.exit(0);
