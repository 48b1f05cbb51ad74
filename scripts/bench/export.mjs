// Exports of extraction rows, measured in Node: `npm run bench:export`. Prints figures beside baselines from the
// same run, and whether the targets were met; asserts nothing. In one run, each case in a child process of
// its own (so one case's garbage and high-water mark cannot colour the next):
// - APE's streams (src/services/extraction/export-writers.ts, loaded through tsx): CSV, JSON, NDJSON and
//   XLSX of 100,000 generated rows of 10 columns, the rows made one at a time by an async generator (as
//   pages from storage would arrive) and the output read chunk by chunk and thrown away.
// - The one-go baselines: papaparse's `unparse` of all rows at once, `JSON.stringify` of all rows, and
//   SheetJS's `aoa_to_sheet` + `XLSX.write(type "array")`, deflated like ours and stored (its default). They
//   need every row in memory: their memory figures count the rows array, their time does not (built first).
// - The rows alone: the generator run and thrown away, the floor under every streamed case.
// Memory: peak RSS over the RSS when the case starts (Linux: the kernel's high-water mark, reset at the start
// of the case, so it catches the peak inside a synchronous call; elsewhere resourceUsage().maxRSS and
// samples), and peak heapUsed and external (ArrayBuffers live there) sampled every 5 ms over the start.
// The sampler cannot run while a one-go call blocks the event loop, so for those the heap figures are taken
// after the call, while its output is still held: a lower bound; RSS is the honest figure there. Then every
// case again with V8's old generation capped at the 64 MB target (--max-old-space-size): which finish.
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "100000" },
    batch: { type: "string", default: "1000" },
    level: { type: "string" },
    cases: { type: "string" },
    repeats: { type: "string", default: "3" },
    child: { type: "string" },
  },
});
const ROWS = Number(values.rows);
const BATCH = Number(values.batch);
/** The XLSX deflate level: the writer's own default unless given. */
const LEVEL = values.level === undefined ? undefined : Number(values.level);
const REPEATS = Number(values.repeats);
const WARMUP_ROWS = 2000;
const SAMPLE_MS = 5;
const MB = 1024 * 1024;
const TARGETS = { csvRowsPerSecond: 400_000, xlsxRowsPerSecond: 100_000, peakBytes: 64 * MB };

// --- The rows --------------------------------------------------------------------------------------------

const COLUMNS = [
  { name: "id", type: "integer" },
  { name: "customer", type: "string" },
  { name: "email", type: "email" },
  { name: "amount", type: "currency" },
  { name: "quantity", type: "integer" },
  { name: "unit_price", type: "number" },
  { name: "ordered_on", type: "date" },
  { name: "shipped_at", type: "datetime" },
  { name: "paid", type: "boolean" },
  { name: "note", type: "string" },
];

/** A seeded PRNG (mulberry32), so every case writes the same rows. */
const rng = (seed) => () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const FIRST = ["Ada", "Grace", "Linus", "Zoë", "Ørjan", "Amélie", "José", "Mei", "Kwame", "Siobhán", "Dmitri", "Aarav"];
const LAST = [
  "Lovelace",
  "Hopper",
  "Torvalds",
  "Ångström",
  "Müller",
  "O'Brien",
  "García",
  "Nakamura",
  "Mensah",
  "Ivanov",
];
const NOTES = [
  "Deliver to the back door",
  'Customer said "call first", twice',
  "Fragile: glass, handle with care",
  "Second line follows\nand a third",
  "Paid in cash; receipt sent",
  "請在下午送貨",
  '=HYPERLINK("http://example.com")',
  "-discount applied",
  "",
];

/** One row: mixed strings, numbers, dates (ISO text, as rows come back from storage), booleans and blanks. */
const makeRow = (random, i) => {
  const day = 1 + Math.floor(random() * 28);
  const month = 1 + Math.floor(random() * 12);
  const date = `2025-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
  const first = FIRST[Math.floor(random() * FIRST.length)];
  const last = LAST[Math.floor(random() * LAST.length)];
  const quantity = 1 + Math.floor(random() * 20);
  const unitPrice = Math.round(random() * 50_000) / 100;
  const refund = random() < 0.1;
  return {
    values: {
      id: i + 1,
      customer: `${first} ${last}`,
      email: `${first.toLowerCase()}.${i}@example.com`,
      amount: Math.round((refund ? -1 : 1) * quantity * unitPrice * 100) / 100,
      quantity,
      unit_price: unitPrice,
      ordered_on: date,
      shipped_at: random() < 0.2 ? null : `${date}T${String(Math.floor(random() * 24)).padStart(2, "0")}:15:00.000Z`,
      paid: random() < 0.7,
      note: NOTES[Math.floor(random() * NOTES.length)],
    },
    valid: !refund,
    errors: refund ? [{ column: "amount", rule: "min", message: "amount is below 0" }] : [],
  };
};

/** The rows one at a time, as an async iterable (as pages from R2 or Postgres would arrive). */
async function* generateRows(n) {
  const random = rng(20_261_201);
  for (let i = 0; i < n; i++) yield makeRow(random, i);
}

const rowsArray = (n) => {
  const random = rng(20_261_201);
  return Array.from({ length: n }, (_, i) => makeRow(random, i));
};

// --- The cases (run in the child) ------------------------------------------------------------------------

const CASES = [
  { name: "rows-only", label: "rows alone (generated, thrown away)", group: "floor" },
  { name: "ape-csv", label: "APE CSV stream", group: "csv", target: "csv" },
  { name: "papaparse", label: "papaparse.unparse, all rows at once", group: "csv", oneGo: true },
  { name: "ape-json", label: "APE JSON stream", group: "json", target: "memory" },
  { name: "ape-ndjson", label: "APE NDJSON stream", group: "json", target: "memory" },
  { name: "json-stringify", label: "JSON.stringify, all rows at once", group: "json", oneGo: true },
  {
    name: "ape-xlsx",
    label: `APE XLSX stream${LEVEL === undefined ? "" : ` (deflate level ${LEVEL})`}`,
    group: "xlsx",
    target: "xlsx",
  },
  { name: "sheetjs", label: "SheetJS aoa_to_sheet + write, deflated", group: "xlsx", oneGo: true },
  { name: "sheetjs-stored", label: "SheetJS aoa_to_sheet + write, stored", group: "xlsx", oneGo: true },
];

const runChild = async (name) => {
  const writers = await import("../../src/services/extraction/export-writers.ts");
  const { default: Papa } = await import("papaparse");
  const XLSX = await import("xlsx");

  const drain = async (stream) => {
    let bytes = 0;
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return bytes;
      bytes += value.byteLength;
    }
  };
  const streamed = (make) => async (n) => ({ bytes: await drain(make(generateRows(n)).stream) });
  const input = (rows) => ({ columns: COLUMNS, rows, batchSize: BATCH, includeValidity: false });
  const names = COLUMNS.map((column) => column.name);
  const aoa = (rows) => [names, ...rows.map((row) => names.map((column) => row.values[column] ?? null))];
  const sheetjs = (compression) => (n, measure) => {
    const rows = rowsArray(n);
    return measure(() => {
      const workbook = XLSX.utils.book_new();
      XLSX.utils.book_append_sheet(workbook, XLSX.utils.aoa_to_sheet(aoa(rows)), "Rows");
      return XLSX.write(workbook, { type: "array", bookType: "xlsx", compression });
    });
  };

  // A case gets the number of rows and, if it builds them all first, `measure` to time the part that counts.
  const run = {
    "rows-only": async (n) => {
      let count = 0;
      for await (const _ of generateRows(n)) count++;
      return { bytes: 0, count };
    },
    "ape-csv": streamed((rows) => writers.exportCsv(input(rows))),
    "ape-json": streamed((rows) => writers.exportJson(input(rows))),
    "ape-ndjson": streamed((rows) => writers.exportNdjson(input(rows))),
    "ape-xlsx": streamed((rows) =>
      writers.exportXlsx({ ...input(rows), ...(LEVEL === undefined ? {} : { level: LEVEL }) }),
    ),
    papaparse: (n, measure) => {
      const rows = rowsArray(n);
      return measure(() =>
        Papa.unparse(
          rows.map((row) => row.values),
          { columns: names, newline: "\r\n" },
        ),
      );
    },
    "json-stringify": (n, measure) => {
      const rows = rowsArray(n);
      return measure(() => JSON.stringify(rows.map((row) => row.values)));
    },
    sheetjs: sheetjs(true),
    "sheetjs-stored": sheetjs(false),
  }[name];
  if (!run) throw new Error(`no case ${name}`);

  const sizeOf = (output) => (typeof output === "string" ? Buffer.byteLength(output) : output.byteLength);
  const untimed = (fn) => ({ bytes: sizeOf(fn()) });
  await run(WARMUP_ROWS, untimed);

  const measureOnce = async () => {
    globalThis.gc();
    globalThis.gc();
    const kernelPeak = resetPeakRss();
    const base = process.memoryUsage();
    const maxRssBefore = process.resourceUsage().maxRSS * 1024;
    let peakRss = base.rss;
    let peakHeap = base.heapUsed;
    let peakExternal = base.external;
    const sample = () => {
      const now = process.memoryUsage();
      peakRss = Math.max(peakRss, now.rss);
      peakHeap = Math.max(peakHeap, now.heapUsed);
      peakExternal = Math.max(peakExternal, now.external);
    };
    const sampler = setInterval(sample, SAMPLE_MS);

    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    let ms = 0;
    let cpuMs = 0;
    const result = await run(ROWS, (fn) => {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const output = fn();
      ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      cpuMs = (cpu.user + cpu.system) / 1000;
      sample(); // while the output is still held
      return { bytes: sizeOf(output) };
    });
    if (!ms) {
      ms = performance.now() - started;
      const cpu = process.cpuUsage(cpuStarted);
      cpuMs = (cpu.user + cpu.system) / 1000;
    }
    sample();
    clearInterval(sampler);

    if (kernelPeak) peakRss = Math.max(peakRss, readHwm());
    else if (process.resourceUsage().maxRSS * 1024 > maxRssBefore) peakRss = process.resourceUsage().maxRSS * 1024;
    return {
      ms,
      cpuMs,
      bytes: result.bytes,
      rssDelta: peakRss - base.rss,
      heapDelta: peakHeap - base.heapUsed,
      externalDelta: peakExternal - base.external,
      rssKernel: kernelPeak,
    };
  };

  // The median run's times (by wall clock), the largest peaks of all runs.
  const runs = [];
  for (let i = 0; i < REPEATS; i++) runs.push(await measureOnce());
  const median = [...runs].sort((a, b) => a.ms - b.ms)[Math.floor(runs.length / 2)];
  const most = (key) => Math.max(...runs.map((r) => r[key]));
  return {
    ...median,
    rssDelta: most("rssDelta"),
    heapDelta: most("heapDelta"),
    externalDelta: most("externalDelta"),
    spread: [Math.min(...runs.map((r) => r.ms)), Math.max(...runs.map((r) => r.ms))],
  };
};

/** Resets the kernel's peak RSS for this process (Linux ≥ 4.0): true when it could. */
const resetPeakRss = () => {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return readHwm() > 0;
  } catch {
    return false;
  }
};
const readHwm = () => {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return match ? Number(match[1]) * 1024 : 0;
};

if (values.child) {
  const result = await runChild(values.child);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

// --- The parent: one child per case, then the report -----------------------------------------------------

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** Runs case `name` in a child; `nodeFlags` go before the script (a heap cap, say). */
const spawnCase = (name, nodeFlags = []) =>
  new Promise((resolvePromise, reject) => {
    const args = [...nodeFlags, "--import", "tsx", "--expose-gc", fileURLToPath(import.meta.url), "--child", name];
    args.push("--rows", String(ROWS), "--batch", String(BATCH), "--repeats", String(nodeFlags.length ? 1 : REPEATS));
    if (LEVEL !== undefined) args.push("--level", String(LEVEL));
    const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (data) => {
      stdout += data;
    });
    child.stderr.on("data", (data) => {
      stderr += data;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) {
        const oom = /heap out of memory/i.test(stderr);
        return reject(Object.assign(new Error(`case ${name} exited ${code}: ${stderr.trim()}`), { oom }));
      }
      resolvePromise(JSON.parse(stdout.trim().split("\n").pop()));
    });
  });

const loadBefore = loadavg();
const selected = values.cases ? CASES.filter((c) => values.cases.split(",").includes(c.name)) : CASES;
const results = new Map();
const failures = [];
for (const c of selected) {
  try {
    results.set(c.name, await spawnCase(c.name));
  } catch (error) {
    failures.push(error instanceof Error ? error.message : String(error));
  }
}
// The same cases again with V8's old generation capped at the memory target: what finishes within it.
const capped = new Map();
for (const c of selected) {
  if (c.name === "rows-only") continue;
  try {
    await spawnCase(c.name, [`--max-old-space-size=${TARGETS.peakBytes / MB}`]);
    capped.set(c.name, "finishes");
  } catch (error) {
    capped.set(c.name, error?.oom ? "out of memory" : `failed: ${error instanceof Error ? error.message : error}`);
  }
}

const mb = (bytes) => `${(bytes / MB).toFixed(1)} MB`.padStart(10);
const W = 44;
console.log(
  `\nexport of ${ROWS.toLocaleString("en")} rows × ${COLUMNS.length} columns (strings, numbers, ISO dates, booleans, ` +
    `blanks), each case in its own process:\na ${WARMUP_ROWS.toLocaleString("en")}-row warm-up, then ${REPEATS} runs; rows/s, time and ` +
    `CPU from the median run (range: the fastest\nand the slowest), memory the largest peak of the ${REPEATS}`,
);
console.log(
  `${"".padEnd(W)}${"rows/s".padStart(12)}${"time".padStart(10)}${"range".padStart(13)}${"CPU".padStart(9)}` +
    `${"output".padStart(10)}` +
    `${"peak RSS Δ".padStart(12)}${"heapUsed Δ".padStart(12)}${"external Δ".padStart(12)}`,
);
let group = "";
for (const c of selected) {
  const r = results.get(c.name);
  if (c.group !== group) {
    group = c.group;
    console.log(`  ${{ floor: "floor", csv: "CSV", json: "JSON", xlsx: "XLSX" }[group]}`);
  }
  if (!r) {
    console.log(`    ${c.label.padEnd(W - 4)}failed`);
    continue;
  }
  const rate = Math.round(ROWS / (r.ms / 1000)).toLocaleString("en");
  console.log(
    `    ${c.label.padEnd(W - 4)}${rate.padStart(12)}${`${(r.ms / 1000).toFixed(2)} s`.padStart(10)}` +
      `${`${(r.spread[0] / 1000).toFixed(2)}-${(r.spread[1] / 1000).toFixed(2)} s`.padStart(13)}` +
      `${`${(r.cpuMs / 1000).toFixed(2)} s`.padStart(9)}` +
      `${r.bytes ? mb(r.bytes) : "-".padStart(10)}${mb(r.rssDelta).padStart(12)}${mb(r.heapDelta).padStart(12)}` +
      `${mb(r.externalDelta).padStart(12)}${c.oneGo ? "   (time without building the rows)" : ""}`,
  );
}

console.log("\ntargets (APE's streams)");
const verdict = (met) => (met ? "met" : "MISSED");
const check = (label, met, detail) => console.log(`  ${label.padEnd(W - 2)}${verdict(met).padEnd(8)}${detail}`);
const rateOf = (name) => (results.has(name) ? ROWS / (results.get(name).ms / 1000) : Number.NaN);
const csvRate = rateOf("ape-csv");
const xlsxRate = rateOf("ape-xlsx");
check(
  `CSV ≥ ${TARGETS.csvRowsPerSecond.toLocaleString("en")} rows/s`,
  csvRate >= TARGETS.csvRowsPerSecond,
  `${Math.round(csvRate).toLocaleString("en")} rows/s`,
);
check(
  `XLSX ≥ ${TARGETS.xlsxRowsPerSecond.toLocaleString("en")} rows/s`,
  xlsxRate >= TARGETS.xlsxRowsPerSecond,
  `${Math.round(xlsxRate).toLocaleString("en")} rows/s`,
);
for (const name of ["ape-csv", "ape-json", "ape-ndjson", "ape-xlsx"]) {
  const r = results.get(name);
  if (!r) continue;
  const peak = Math.max(r.rssDelta, r.heapDelta + r.externalDelta);
  check(
    `${CASES.find((c) => c.name === name).label}: peak memory < ${TARGETS.peakBytes / MB} MB`,
    peak < TARGETS.peakBytes,
    `RSS Δ ${mb(r.rssDelta).trim()}, heapUsed + external Δ ${mb(r.heapDelta + r.externalDelta).trim()}`,
  );
}
console.log(
  `\nwith V8's old generation capped at ${TARGETS.peakBytes / MB} MB (--max-old-space-size), imports included`,
);
for (const c of selected) {
  if (capped.has(c.name)) console.log(`  ${c.label.padEnd(W - 2)}${capped.get(c.name)}`);
}

const rss = [...results.values()].some((r) => r.rssKernel)
  ? "the kernel's high-water mark (VmHWM), reset as the case starts"
  : "resourceUsage().maxRSS and 5 ms samples";
console.log(
  [
    "\nmemory: each peak over the process as the case starts (after its warm-up and a full GC). RSS from",
    `  ${rss}; it also counts garbage not yet collected.`,
    `  heapUsed and external sampled every ${SAMPLE_MS} ms (for a one-go case, after the call: a lower bound).`,
    "  Streamed times include making the rows (see the floor); one-go times do not, but their memory holds the rows.",
  ].join("\n"),
);
for (const failure of failures) {
  process.exitCode = 1;
  console.log(`\nFAILED ${failure}`);
}
const cpu = cpus();
console.log(
  `\nmachine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? "unknown"}), node ${process.version}, ${process.platform}/${process.arch}`,
);
console.log(
  `settings: rows=${ROWS} batch=${BATCH} xlsx deflate level=${LEVEL ?? "the writer's default"}; load average before the ` +
    `run ${loadBefore.map((n) => n.toFixed(2)).join(" ")}, after ${loadavg()
      .map((n) => n.toFixed(2))
      .join(" ")}`,
);
