// Prints the Worker bundle's size, raw and gzipped, beside a baseline (a bare Hono Worker) built the same way
// in the same run: `npm run bench:bundle-size`. Counts the JavaScript and any WebAssembly modules, not source maps. Workers allow 3 MiB gzipped on the free plan, 10 MiB on paid.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { root } from "../dev-vars.mjs";

const build = (label, configPath) => {
  const outdir = mkdtempSync(join(tmpdir(), "ape-bundle-"));
  const run = spawnSync("wrangler", ["deploy", "--dry-run", "--outdir", outdir, "--config", configPath], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  if (run.status !== 0) throw new Error(`${label}: wrangler failed\n${run.stderr}`);
  const files = readdirSync(outdir).filter((file) => file.endsWith(".js") || file.endsWith(".wasm"));
  const raw = files.reduce((sum, file) => sum + statSync(join(outdir, file)).size, 0);
  const gzip = files.reduce((sum, file) => sum + gzipSync(readFileSync(join(outdir, file)), { level: 9 }).length, 0);
  rmSync(outdir, { recursive: true, force: true });
  return { label, raw, gzip };
};

const baselineDir = mkdtempSync(join(tmpdir(), "ape-baseline-"));
const baselineConfig = join(baselineDir, "wrangler.toml");
writeFileSync(
  baselineConfig,
  `name = "baseline"\nmain = "${join(root, "scripts", "bench", "fixtures", "hono-baseline.ts")}"\n` +
    `compatibility_date = "2026-11-01"\ncompatibility_flags = ["nodejs_compat"]\nminify = true\n`,
);

const rows = [
  build("APE Worker (wrangler.toml)", join(root, "wrangler.toml")),
  build("baseline: bare Hono", baselineConfig),
];
rmSync(baselineDir, { recursive: true, force: true });

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
console.log("bundle                          raw          gzip");
for (const row of rows)
  console.log(`${row.label.padEnd(30)}  ${kib(row.raw).padStart(11)}  ${kib(row.gzip).padStart(11)}`);
const [ape, base] = rows;
console.log(`APE adds ${kib(ape.raw - base.raw)} raw, ${kib(ape.gzip - base.gzip)} gzipped over the baseline.`);
