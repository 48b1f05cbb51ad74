// `npm test`: the whole suite, in the order a reviewer would check it. Every step runs even when an earlier one
// fails, so one run shows everything that is wrong; the last line is `N passed, N failed`.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { root } from "./dev-vars.mjs";

const results = { passed: 0, failed: 0 };
const failures = [];
const started = Date.now();

/** Runs one step; a step that is not a test runner counts as one check. */
const step = (name, command, args, { count } = {}) => {
  const began = Date.now();
  console.log(`\n▶ ${name}`);
  const run = spawnSync(command, args, { cwd: root, stdio: "inherit", env: { ...process.env, FORCE_COLOR: "1" } });
  const seconds = ((Date.now() - began) / 1000).toFixed(1);
  const counted = count?.();
  if (counted) {
    results.passed += counted.passed;
    results.failed += counted.failed;
  } else if (run.status === 0) {
    results.passed += 1;
  } else {
    results.failed += 1;
  }
  const ok = run.status === 0 && (!counted || counted.failed === 0);
  if (!ok) failures.push(name);
  console.log(`${ok ? "✔" : "✘"} ${name} (${seconds} s)`);
};

const reportDir = join(root, "test-results");
rmSync(reportDir, { recursive: true, force: true });
mkdirSync(reportDir, { recursive: true });

const vitestCounts = (file) => () => {
  if (!existsSync(file)) return { passed: 0, failed: 1 };
  const report = JSON.parse(readFileSync(file, "utf8"));
  // A file that failed to load has no tests but must still count as a failure.
  const brokenFiles = report.testResults.filter((r) => r.status === "failed" && r.assertionResults.length === 0).length;
  return { passed: report.numPassedTests, failed: report.numFailedTests + brokenFiles };
};

step("types (tsc --noEmit)", "tsc", ["--noEmit", "-p", "."]);
step("lint and format (biome check)", "biome", ["check", "."]);
step("docs assets", "node", ["scripts/build-assets.mjs"]);
step("bundle builds (wrangler deploy --dry-run)", "wrangler", ["deploy", "--dry-run", "--outdir", "dist/worker"]);
step("workers tests (vitest in workerd, real Postgres and Redis)", "vitest", [
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${join(reportDir, "vitest.json")}`,
], { count: vitestCounts(join(reportDir, "vitest.json")) });

const minutes = ((Date.now() - started) / 60000).toFixed(1);
console.log(`\n${failures.length ? `Failed steps: ${failures.join("; ")}` : "Every step passed"} (${minutes} min)`);
console.log(`${results.passed} passed, ${results.failed} failed`);
process.exit(failures.length ? 1 : 0);
