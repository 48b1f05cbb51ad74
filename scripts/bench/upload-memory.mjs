// Peak memory of one upload, through `wrangler dev` on the test stack: `npm run bench:upload-memory`. Prints
// figures, asserts nothing. Per case, the runtime's (workerd's) peak resident memory is reset (Linux's
// /proc/PID/clear_refs, 5), one upload is sent, and the peak is read back (VmHWM) minus the resident memory
// just before: what holding that request cost the isolate at its worst. Cases, interleaved, median of --runs:
// a 1 KiB text upload (the baseline: the request's own cost), then a 25 MiB PDF-like binary file and a 25 MiB
// text file, each as a multipart form and as a raw body. APE's share of a case is its figure minus the
// baseline's. The port moves with APE_STACK_SLOT, so engineers on other slots can run it at the same time.
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { stackConfig } from "../stack/config.mjs";
import { percentile, register, startBenchApe } from "./harness.mjs";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "5" }, mib: { type: "string", default: "25" } },
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

/** Resets the peak, runs `work`, and answers the peak's growth over the resident memory before, in MiB. */
const peakGrowth = async (pid, work) => {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
  const before = kib(statusOf(pid), "VmRSS");
  await work();
  const peak = kib(statusOf(pid), "VmHWM");
  return (peak - before) / 1024;
};

const slot = stackConfig("test");
// Beside the slot's own test ports (npm test uses api.port), so this never meets another slot's run.
const ape = await startBenchApe(
  { DOCUMENT_QUOTA_BYTES: String(100 * 1024 ** 3), LOG_LEVEL: "error" },
  { port: slot.api.port + 5, inspectorPort: slot.api.inspectorPort + 40 },
);
try {
  const [pid] = runtimePids(ape.server.group);
  if (!pid || !existsSync(`/proc/${pid}/clear_refs`)) throw new Error("no workerd process found to measure");
  const user = await register(ape.base);
  const auth = { authorization: `Bearer ${user.access}` };

  // A PDF's magic bytes, then random bytes: a binary file as large as an upload may be.
  const binary = randomBytes(SIZE);
  binary.write("%PDF-1.7\n", 0, "latin1");
  const text = Buffer.from("A line of plain text for the memory benchmark, repeated.\n".repeat(SIZE / 57 + 1)).subarray(
    0,
    SIZE,
  );
  const small = Buffer.from("a small text file\n".repeat(57));

  const send = async (bytes, name, type, as) => {
    const init =
      as === "raw"
        ? {
            method: "POST",
            headers: { ...auth, "content-type": type },
            body: bytes,
          }
        : (() => {
            const form = new FormData();
            form.set("file", new File([bytes], name, { type }));
            return { method: "POST", headers: auth, body: form };
          })();
    const url = as === "raw" ? `${ape.base}/documents?filename=${name}` : `${ape.base}/documents`;
    const res = await fetch(url, init);
    if (res.status !== 202) throw new Error(`upload ${name} (${as}): ${res.status} ${await res.text()}`);
    const { id } = await res.json();
    await fetch(`${ape.base}/documents/${id}`, { method: "DELETE", headers: auth });
  };

  const cases = [
    ["1 KiB text, raw (baseline)", () => send(small, "small.txt", "text/plain", "raw")],
    ["25 MiB binary, multipart", () => send(binary, "big.pdf", "application/pdf", "multipart")],
    ["25 MiB binary, raw", () => send(binary, "big.pdf", "application/pdf", "raw")],
    ["25 MiB text, multipart", () => send(text, "big.txt", "text/plain", "multipart")],
    ["25 MiB text, raw", () => send(text, "big.txt", "text/plain", "raw")],
  ];
  // One of each first, unmeasured: code loaded and caches filled before the figures start.
  for (const [, run] of cases) await run();
  const samples = new Map(cases.map(([name]) => [name, []]));
  for (let round = 0; round < RUNS; round++) {
    for (const [name, run] of cases) samples.get(name).push(await peakGrowth(pid, run));
  }
  const baseline = percentile(samples.get(cases[0][0]), 50);
  console.log(`Peak resident memory growth of workerd per upload (median of ${RUNS}, MiB; file ${values.mib} MiB):`);
  for (const [name, values] of samples) {
    const median = percentile(values, 50);
    const share = name.includes("baseline") ? "" : `  APE's share ${(median - baseline).toFixed(1)}`;
    console.log(
      `  ${name.padEnd(30)} ${median.toFixed(1).padStart(7)}  (max ${Math.max(...values).toFixed(1)})${share}`,
    );
  }
} finally {
  ape.server.stop();
}
