// Auth latency, measured end to end through `wrangler dev` on the test stack: `npm run bench:auth`.
// Prints login p50/p99 (the password hash dominates it) and what authentication adds to a call, for an access
// token and for an API key, beside the unauthenticated health route measured in the same run.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { root } from "../dev-vars.mjs";
import { applyMigrations } from "../migrate.mjs";
import { stackUp } from "../stack/index.mjs";
import { isPortOpen, probeJson, waitFor } from "../stack/util.mjs";

const { values } = parseArgs({
  options: { logins: { type: "string", default: "40" }, calls: { type: "string", default: "300" } },
});
const PORT = 8796;
const base = `http://127.0.0.1:${PORT}/api/v1`;

if (await isPortOpen(PORT)) throw new Error(`port ${PORT} is taken; the benchmark runs its own wrangler dev there`);
const stack = await stackUp("test");
await applyMigrations(stack.DIRECT_DATABASE_URL);
const envFile = join(root, ".wrangler", "ape", "bench.env");
mkdirSync(join(root, ".wrangler", "ape"), { recursive: true });
const settings = {
  ENVIRONMENT: "test",
  LOG_LEVEL: "error",
  DATABASE_URL: stack.DATABASE_URL,
  UPSTASH_REDIS_REST_URL: stack.UPSTASH_REDIS_REST_URL,
  UPSTASH_REDIS_REST_TOKEN: stack.UPSTASH_REDIS_REST_TOKEN,
  JWT_SECRET: randomBytes(32).toString("base64url"),
  // The benchmark measures latency, not the limits: lift them for its run only.
  RATE_LIMIT_AUTH_PER_MINUTE: "1000000",
  RATE_LIMIT_ACCOUNT_PER_MINUTE: "1000000",
};
writeFileSync(
  envFile,
  Object.entries(settings)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join("\n"),
  { mode: 0o600 },
);
const server = spawn(
  "wrangler",
  [
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(PORT),
    "--inspector-port",
    "9338",
    "--env-file",
    envFile,
    "--persist-to",
    join(root, ".wrangler", "bench-state"),
    "--show-interactive-dev-session=false",
    "--log-level",
    "error",
  ],
  {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
    detached: true,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  },
);
const stop = () => {
  try {
    process.kill(-server.pid, "SIGTERM");
  } catch {}
};
process.on("exit", stop);
await waitFor("wrangler dev", async () => Boolean(await probeJson(`${base}/health`)), 120_000);

const post = (path, body, headers = {}) =>
  fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
const timed = async (call) => {
  const started = performance.now();
  const res = await call();
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${res.status} from a benchmark call`);
  return performance.now() - started;
};
const percentile = (samples, p) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

const email = `bench-${randomBytes(4).toString("hex")}@example.com`;
const password = `bench passphrase ${randomBytes(8).toString("hex")}`;
const registered = await (await post("/auth/register", { email, password })).json();
const access = registered.tokens.access_token;
const key = (
  await (
    await post("/users/me/api-keys", { name: "bench", scopes: ["read"] }, { authorization: `Bearer ${access}` })
  ).json()
).key;

// Warm up every path once (isolate start, connections).
for (const call of [() => fetch(`${base}/health`), () => post("/auth/login", { email, password })]) await timed(call);

const logins = [];
for (let i = 0; i < Number(values.logins); i++)
  logins.push(await timed(() => post("/auth/login", { email, password })));

const series = { health: [], jwt: [], key: [] };
for (let i = 0; i < Number(values.calls); i++) {
  // Interleaved, so drift in the machine's load falls on all three alike.
  series.health.push(await timed(() => fetch(`${base}/health`)));
  series.jwt.push(await timed(() => fetch(`${base}/users/me`, { headers: { authorization: `Bearer ${access}` } })));
  series.key.push(await timed(() => fetch(`${base}/users/me`, { headers: { "x-api-key": key } })));
}
stop();

const ms = (value) => `${value.toFixed(1)} ms`.padStart(10);
const row = (label, samples, baseline) =>
  `${label.padEnd(44)}${ms(percentile(samples, 50))}${ms(percentile(samples, 99))}` +
  (baseline ? `${ms(percentile(samples, 50) - percentile(baseline, 50)).padStart(12)}` : "");
console.log(`${"".padEnd(44)}${"p50".padStart(10)}${"p99".padStart(10)}${"added p50".padStart(12)}`);
console.log(row(`POST /auth/login (n=${logins.length})`, logins));
console.log(row(`GET /health, no auth: baseline (n=${series.health.length})`, series.health));
console.log(row("GET /users/me with an access token (JWT)", series.jwt, series.health));
console.log(row("GET /users/me with an API key", series.key, series.health));
console.log("(/users/me also reads the user row, so 'added' is authentication plus one query and the rate limit.)");
process.exit(0);
