// `npm test`: the whole suite, in the order a reviewer would check it. Every step runs even when an earlier one
// fails, so one run shows everything that is wrong; the last line is `N passed, N failed`.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { root } from "./dev-vars.mjs";
import { spawnE2eFakes } from "./e2e-fakes.mjs";
import { applyMigrations } from "./migrate.mjs";
import { stackConfig } from "./stack/config.mjs";
import { stackUp } from "./stack/index.mjs";
import { aptInstall, isPortOpen, waitFor } from "./stack/util.mjs";
import { startWranglerDev } from "./wrangler-dev.mjs";

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
step("web UI: typed API client is current (web/src/api/schema.d.ts)", "node", ["web/scripts/gen-api.mjs", "--check"]);
step("web UI: types and build (tsc, vite build)", "npm", ["run", "build", "--prefix", "web", "--silent"]);
step("bundle builds (wrangler deploy --dry-run)", "wrangler", ["deploy", "--dry-run", "--outdir", "dist/worker"]);
// The test stack, and `wrangler dev` on it for the browser tests (the vitest projects are described in
// vitest.config.ts).
const cfg = stackConfig("test");
const stack = await stackUp("test");
await applyMigrations(stack.DIRECT_DATABASE_URL);
if (!["chromium", "chromium-browser"].some((name) => spawnSync("sh", ["-c", `command -v ${name}`]).status === 0)) {
  aptInstall(["chromium"]);
}
// The browser tests' API reaches the LLM, Firecrawl and webhook fakes (scripts/e2e-fakes.mjs), in a process of
// their own: every step below runs with spawnSync, which stops this process's event loop until it ends.
const fakes = await spawnE2eFakes();
Object.assign(process.env, fakes.env);
const api = await startWranglerDev({
  name: "test",
  port: cfg.api.port,
  inspectorPort: cfg.api.inspectorPort,
  settings: {
    ENVIRONMENT: "test",
    LOG_LEVEL: "warn",
    DATABASE_URL: stack.DATABASE_URL,
    UPSTASH_REDIS_REST_URL: stack.UPSTASH_REDIS_REST_URL,
    UPSTASH_REDIS_REST_TOKEN: stack.UPSTASH_REDIS_REST_TOKEN,
    JWT_SECRET: randomBytes(32).toString("base64url"),
    WEBHOOK_SECRETS_KEY: randomBytes(32).toString("base64url"),
    WEB_ORIGINS: `http://127.0.0.1:${cfg.web.port}`,
    ...fakes.settings,
  },
});
const e2eUrl = api.url;
// The web UI, served as `npm start` serves it, for the browser tests.
const web = spawn(
  process.execPath,
  [join(root, "scripts", "web-server.mjs"), "--port", String(cfg.web.port), "--api", e2eUrl],
  { stdio: "ignore" },
);
process.on("exit", () => web.kill());
await waitFor("the web UI for browser tests", () => isPortOpen(cfg.web.port));
process.env.APE_E2E_WEB_URL = `http://127.0.0.1:${cfg.web.port}`;

process.env.APE_E2E_URL = e2eUrl;
step(
  "tests (vitest: workerd with real Postgres and Redis; Node)",
  "vitest",
  [
    "run",
    "--project",
    "workers",
    "--project",
    "node",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${join(reportDir, "vitest.json")}`,
  ],
  { count: vitestCounts(join(reportDir, "vitest.json")) },
);
step(
  "browser journeys (vitest e2e: Chromium, one file at a time)",
  "vitest",
  [
    "run",
    "--project",
    "e2e",
    "--no-file-parallelism",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${join(reportDir, "vitest-e2e.json")}`,
  ],
  { count: vitestCounts(join(reportDir, "vitest-e2e.json")) },
);

api.stop();
web.kill();
await fakes.close();

const minutes = ((Date.now() - started) / 60000).toFixed(1);
console.log(`\n${failures.length ? `Failed steps: ${failures.join("; ")}` : "Every step passed"} (${minutes} min)`);
console.log(`${results.passed} passed, ${results.failed} failed`);
process.exit(failures.length ? 1 : 0);
