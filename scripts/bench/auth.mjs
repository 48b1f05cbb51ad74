// Auth latency, measured end to end through `wrangler dev` on the test stack: `npm run bench:auth`.
// Prints login p50/p99 (the password hash dominates it) and what authentication adds to a call, for an access
// token and for an API key, beside the unauthenticated health route measured in the same run.
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { applyMigrations } from "../migrate.mjs";
import { stackUp } from "../stack/index.mjs";
import { startWranglerDev } from "../wrangler-dev.mjs";

const { values } = parseArgs({
  options: { logins: { type: "string", default: "40" }, calls: { type: "string", default: "300" } },
});

const stack = await stackUp("test");
await applyMigrations(stack.DIRECT_DATABASE_URL);
const server = await startWranglerDev({
  name: "bench",
  port: 8796,
  inspectorPort: 9338,
  settings: {
    ENVIRONMENT: "test",
    LOG_LEVEL: "error",
    DATABASE_URL: stack.DATABASE_URL,
    UPSTASH_REDIS_REST_URL: stack.UPSTASH_REDIS_REST_URL,
    UPSTASH_REDIS_REST_TOKEN: stack.UPSTASH_REDIS_REST_TOKEN,
    JWT_SECRET: randomBytes(32).toString("base64url"),
    // The benchmark measures latency, not the limits: lift them for its run only.
    RATE_LIMIT_AUTH_PER_MINUTE: "1000000",
    RATE_LIMIT_ACCOUNT_PER_MINUTE: "1000000",
  },
});
const base = `${server.url}/api/v1`;

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
server.stop();

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
