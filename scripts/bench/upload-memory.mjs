// Peak memory of one upload, through `wrangler dev` on the test stack: `npm run bench:upload-memory`. Prints
// figures, asserts nothing. Each measurement gets a fresh `wrangler dev` (memory the allocator kept from an
// earlier upload would hide the next one's), warmed with one 1 KiB upload; then the runtime's (workerd's)
// peak resident memory is reset (Linux's /proc/PID/clear_refs, 5), one upload is sent, and the peak is read
// back (VmHWM) minus the resident memory just before: what that request cost the process at its worst.
// Cases, median of --runs: a 1 KiB text upload (the baseline: a request's own cost), then a 25 MiB PDF-like
// binary file and a 25 MiB text file, each as a multipart form and as a raw body. APE's share of a case is
// its figure minus the baseline's. The port moves with APE_STACK_SLOT (scripts/bench/harness.mjs).
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { isPortOpen, waitFor } from "../stack/util.mjs";
import { percentile, register, startBenchApe } from "./harness.mjs";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "3" }, mib: { type: "string", default: "25" } },
});
const RUNS = Number(values.runs);
const SIZE = Number(values.mib) * 1024 * 1024;

const statusOf = (pid) => readFileSync(`/proc/${pid}/status`, "utf8");
const kib = (status, field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);

/** The workerd processes of wrangler's process group. */
const runtimePids = (group) =>
  readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return Number(fields[2]) === group && readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "workerd";
      } catch {
        return false;
      }
    })
    .map(Number);

/**
 * Resets the peaks, runs `work`, and answers the peaks' growth over the resident memory before, in MiB, summed
 * over `pids` (wrangler dev runs two workerd processes: the Worker's runtime and its dev proxy).
 */
const peakGrowth = async (pids, work) => {
  const before = pids.map((pid) => {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return kib(statusOf(pid), "VmRSS");
  });
  await work();
  return pids.map((pid, i) => (kib(statusOf(pid), "VmHWM") - (before[i] ?? 0)) / 1024);
};

// wrangler.toml's [assets] directory is built (as `npm start` and `npm test` do); wrangler refuses to start without it.
if (!existsSync(new URL("../../public/", import.meta.url))) await import("../build-assets.mjs");
// A PDF's magic bytes, then random bytes: a binary file as large as an upload may be.
const binary = randomBytes(SIZE);
binary.write("%PDF-1.7\n", 0, "latin1");
const text = Buffer.from("A line of plain text for the memory benchmark, repeated.\n".repeat(SIZE / 57 + 1)).subarray(
  0,
  SIZE,
);
const small = Buffer.from("a small text file\n".repeat(57));

const send = async (base, auth, bytes, name, type, as, expect = 202) => {
  let init;
  if (as === "raw") init = { method: "POST", headers: { ...auth, "content-type": type }, body: bytes };
  else {
    const form = new FormData();
    form.set("file", new File([bytes], name, { type }));
    init = { method: "POST", headers: auth, body: form };
  }
  const url = as === "raw" ? `${base}/documents?filename=${name}` : `${base}/documents`;
  const res = await fetch(url, init);
  if (res.status !== expect) throw new Error(`upload ${name} (${as}): ${res.status} ${await res.text()}`);
  if (expect !== 202) return;
  const { id } = await res.json();
  await fetch(`${base}/documents/${id}`, { method: "DELETE", headers: auth });
};

/** One measurement of `upload` on a fresh runtime: its peak growth in MiB. */
const measure = async (upload) => {
  const ape = await startBenchApe({ DOCUMENT_QUOTA_BYTES: String(100 * 1024 ** 3), LOG_LEVEL: "error" });
  try {
    const pids = runtimePids(ape.server.group);
    if (pids.length === 0 || !existsSync(`/proc/${pids[0]}/clear_refs`)) throw new Error("no workerd to measure");
    const user = await register(ape.base);
    const auth = { authorization: `Bearer ${user.access}` };
    await send(ape.base, auth, small, "warm.txt", "text/plain", "raw");
    return await peakGrowth(pids, () => upload(ape.base, auth));
  } finally {
    ape.server.stop();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await waitFor("wrangler dev to stop", async () => !(await isPortOpen(Number(new URL(ape.base).port))), 30_000);
  }
};

// The baselines: the same bytes sent without a token, answered 401 before APE reads a byte of them, which is
// what carrying 25 MiB through wrangler dev's proxy and the runtime costs whatever APE does with it.
const cases = [
  [
    "25 MiB, multipart, no token (baseline)",
    (base) => send(base, {}, binary, "big.pdf", "application/pdf", "multipart", 401),
  ],
  ["25 MiB, raw, no token (baseline)", (base) => send(base, {}, binary, "big.pdf", "application/pdf", "raw", 401)],
  ["25 MiB binary, multipart", (base, auth) => send(base, auth, binary, "big.pdf", "application/pdf", "multipart")],
  ["25 MiB binary, raw", (base, auth) => send(base, auth, binary, "big.pdf", "application/pdf", "raw")],
  ["25 MiB text, multipart", (base, auth) => send(base, auth, text, "big.txt", "text/plain", "multipart")],
  ["25 MiB text, raw", (base, auth) => send(base, auth, text, "big.txt", "text/plain", "raw")],
];
const samples = new Map(cases.map(([name]) => [name, []]));
for (let round = 0; round < RUNS; round++) {
  for (const [name, upload] of cases) samples.get(name).push(await measure(upload));
}
const medians = new Map(
  [...samples].map(([name, figures]) => [
    name,
    figures[0].map((_, i) =>
      percentile(
        figures.map((f) => f[i]),
        50,
      ),
    ),
  ]),
);
const total = (name) => medians.get(name).reduce((sum, x) => sum + x, 0);
console.log(
  `Peak resident memory growth per upload, MiB (median of ${RUNS}; each workerd of wrangler dev, then their sum):`,
);
for (const [name] of cases) {
  const base = name.includes("multipart") ? cases[0][0] : cases[1][0];
  const share = name.includes("baseline") ? "" : `  APE's share ${(total(name) - total(base)).toFixed(1)}`;
  const each = medians
    .get(name)
    .map((x) => x.toFixed(1).padStart(6))
    .join(" ");
  console.log(`  ${name.padEnd(40)} ${each}  = ${total(name).toFixed(1).padStart(6)}${share}`);
}
